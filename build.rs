//! Links the wasm module as a WASI reactor that exports wasi-libc's
//! allocator.
//!
//! - `crt1-reactor.o` (shipped with the `wasm32-wasip1` target) provides
//!   `_initialize`, which runs the C constructors once at instantiation. Without
//!   it the linker wraps every export in per-call constructor/destructor calls
//!   and WAMR warns that the module is neither a command nor a reactor.
//! - `--export=malloc --export=free` let fluent-bit copy records of any size
//!   into the module instead of through WAMR's 8 KiB app heap.
//!
//! Nothing is done for native builds (unit tests).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("wasi") {
        return;
    }
    let target = env::var("TARGET").unwrap_or_else(|_| "wasm32-wasip1".to_string());
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let Some(sysroot) = sysroot else {
        println!("cargo:warning=cannot find the Rust sysroot; the module will not be a reactor");
        return;
    };
    let reactor = sysroot
        .join("lib/rustlib")
        .join(&target)
        .join("lib/self-contained/crt1-reactor.o");
    if !reactor.exists() {
        println!(
            "cargo:warning={} is missing; the module will not be a reactor",
            reactor.display()
        );
        return;
    }
    println!("cargo:rustc-cdylib-link-arg={}", reactor.display());
    println!("cargo:rustc-cdylib-link-arg=--export=malloc");
    println!("cargo:rustc-cdylib-link-arg=--export=free");
}
