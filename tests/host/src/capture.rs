//! In-memory stdout and stderr for the module.
//!
//! WASI writes to fd 1 and fd 2 land in an [`OutputCapture`], a shared,
//! growable byte buffer that the host (and through it a test) reads at any
//! time. Writes never fail and never block; the capture survives
//! re-instantiation, as fluent-bit's own stderr does.
//!
//! Invariant: bytes appear in the buffer in the order the module wrote
//! them, whichever WASI stream handle it used.

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// How much one WASI write may hand over at once.
const WRITE_BUDGET: usize = 1 << 20;

/// A shared byte buffer that a module's stdout or stderr writes into.
#[derive(Debug, Clone, Default)]
pub struct OutputCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl OutputCapture {
    /// An empty capture.
    pub fn new() -> OutputCapture {
        OutputCapture::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Bytes written since offset `from`.
    pub fn since(&self, from: usize) -> Vec<u8> {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.get(from..).unwrap_or_default().to_vec()
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn append(&self, bytes: &[u8]) {
        self.buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
    }
}

impl IsTerminal for OutputCapture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputCapture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for OutputCapture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for OutputCapture {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for OutputCapture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_accumulate_across_handles() {
        let capture = OutputCapture::new();
        let mut a = capture.p2_stream();
        let mut b = capture.p2_stream();
        assert!(a.write(Bytes::from_static(b"one ")).is_ok());
        assert!(b.write(Bytes::from_static(b"two")).is_ok());
        assert_eq!(capture.contents(), b"one two".to_vec());
        assert_eq!(capture.since(4), b"two".to_vec());
        assert_eq!(capture.since(100), Vec::<u8>::new());
        capture.clear();
        assert!(capture.is_empty());
    }
}
