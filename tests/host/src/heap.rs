//! WAMR's app heap, for modules that do not export `malloc` and `free`.
//!
//! WAMR 2.4.1 (`core/iwasm/interpreter/wasm_runtime.c`,
//! `memory_instantiate`) inserts a heap of `wasm_heap_size` bytes into the
//! module's linear memory at instantiation, in one of two places:
//!
//! - If the module exports immutable `i32` globals `__data_end` and
//!   `__heap_base` (with `__data_end` <= `__heap_base`) and `__heap_base`
//!   lies inside the initial memory, the heap is exactly `heap_size` bytes
//!   at `__heap_base`, and memory grows by the pages needed to keep the
//!   module's own data after it (plus one page if less than 1 KiB would be
//!   left before the next page boundary).
//! - Otherwise the heap takes whole new pages after the initial memory:
//!   `ceil(heap_size / 64 KiB)` pages, of which all but the last 1 KiB are
//!   usable, so the default 8192 becomes 64,512 bytes.
//!
//! The heap is managed by WAMR's `ems` allocator: a 4-byte pad at the start
//! of the pool, a 4-byte header per block, blocks rounded up to 8 bytes and
//! never smaller than 16. [`AppHeap`] keeps that arithmetic (so what fits
//! and what fails is the same) with a first-fit list that coalesces on free.
//!
//! Invariants: every address [`AppHeap::alloc`] returns lies inside the
//! pool, with the whole requested size before the pool's end; blocks never
//! overlap; freeing everything returns the heap to one free block.

use std::fmt;

/// The wasm page size.
pub const PAGE: u64 = 65_536;
/// WAMR's `APP_HEAP_SIZE_MIN`.
pub const MIN_POOL: u32 = 256;
/// `GC_HEAD_PADDING` in WAMR's `ems`.
const HEAD_PADDING: u32 = 4;
/// `HMU_SIZE`: the block header.
const HEADER: u32 = 4;
/// `GC_SMALLEST_SIZE`.
const SMALLEST_BLOCK: u32 = 16;
/// Linear memory limit for a 32-bit memory (`DEFAULT_MAX_PAGES`).
const MAX_PAGES: u64 = 65_536;

/// Why WAMR could not insert the app heap (the module fails to load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeapError {
    /// The pool is smaller than WAMR's minimum.
    PoolTooSmall { size: u32 },
    /// Inserting the heap would exceed 4 GiB of linear memory.
    MemoryTooLarge { pages: u64 },
    /// WAMR would raise the module's maximum memory size to make room,
    /// which this host cannot do.
    MaximumTooSmall {
        needed_pages: u64,
        maximum_pages: u64,
    },
    /// The module declares memory fixed at zero or one page; WAMR resizes
    /// such a memory's page, which this host cannot reproduce.
    FixedTinyMemory { pages: u64 },
}

impl fmt::Display for HeapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapError::PoolTooSmall { size } => {
                write!(
                    f,
                    "app heap of {size} bytes is smaller than WAMR's minimum of {MIN_POOL}"
                )
            }
            HeapError::MemoryTooLarge { pages } => write!(
                f,
                "failed to insert app heap into linear memory ({pages} pages would exceed 4 GiB)"
            ),
            HeapError::MaximumTooSmall {
                needed_pages,
                maximum_pages,
            } => write!(
                f,
                "the app heap needs {needed_pages} pages of memory but the module caps it at {maximum_pages}; \
                 WAMR raises the cap, this host cannot: export malloc and free, or drop the memory maximum"
            ),
            HeapError::FixedTinyMemory { pages } => write!(
                f,
                "memory fixed at {pages} page(s): WAMR enlarges that page to hold the app heap, which this host cannot reproduce"
            ),
        }
    }
}

impl std::error::Error for HeapError {}

/// Where WAMR puts the app heap and how far memory grows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Byte offset of the pool in linear memory.
    pub offset: u64,
    /// Pool size in bytes.
    pub size: u32,
    /// Pages added to the initial memory.
    pub grow_pages: u64,
}

/// Computes WAMR's app-heap placement for a memory of `initial_pages`
/// (maximum `maximum_pages`), a configured `heap_size`, and the module's
/// `__heap_base` when WAMR would use it (see the module doc).
pub fn place(
    initial_pages: u64,
    maximum_pages: Option<u64>,
    heap_size: u32,
    heap_base: Option<u32>,
) -> Result<Placement, HeapError> {
    if maximum_pages == Some(initial_pages) && initial_pages <= 1 {
        return Err(HeapError::FixedTinyMemory {
            pages: initial_pages,
        });
    }
    let initial_bytes = initial_pages * PAGE;
    let page = PAGE as u32;
    let (offset, size, grow_pages) = match heap_base {
        Some(base) if u64::from(base) < initial_bytes => {
            // u32 arithmetic with wrap-around, as in WAMR.
            let last = match base % page {
                0 => page,
                r => r,
            };
            let to_page_end = page - last;
            let mut grow = heap_size.wrapping_sub(to_page_end).wrapping_add(page - 1) / page;
            let new_base = base.wrapping_add(heap_size);
            let last = match new_base % page {
                0 => page,
                r => r,
            };
            if page - last < 1024 {
                grow += 1;
            }
            (u64::from(base), heap_size, u64::from(grow))
        }
        _ => {
            let grow = u64::from(heap_size).div_ceil(PAGE);
            let size = (grow * PAGE).saturating_sub(1024);
            (initial_bytes, u32::try_from(size).unwrap_or(u32::MAX), grow)
        }
    };
    let pages = initial_pages + grow_pages;
    if pages > MAX_PAGES {
        return Err(HeapError::MemoryTooLarge { pages });
    }
    if let Some(maximum) = maximum_pages
        && pages > maximum
    {
        return Err(HeapError::MaximumTooSmall {
            needed_pages: pages,
            maximum_pages: maximum,
        });
    }
    if size < MIN_POOL {
        return Err(HeapError::PoolTooSmall { size });
    }
    Ok(Placement {
        offset,
        size,
        grow_pages,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    /// Offset of the block header in linear memory.
    start: u64,
    size: u32,
    free: bool,
}

/// WAMR's app heap allocator over a pool in linear memory.
#[derive(Debug, Clone)]
pub struct AppHeap {
    blocks: Vec<Block>,
}

impl AppHeap {
    /// A heap over the pool `[offset, offset + size)`.
    pub fn new(placement: Placement) -> AppHeap {
        let usable = placement.size.saturating_sub(HEAD_PADDING) & !7;
        AppHeap {
            blocks: vec![Block {
                start: placement.offset + u64::from(HEAD_PADDING),
                size: usable,
                free: true,
            }],
        }
    }

    /// Bytes a request of `n` bytes takes from the pool.
    pub fn block_size(n: u64) -> Option<u32> {
        let with_header = n.checked_add(u64::from(HEADER))?;
        let rounded = with_header.checked_add(7)? & !7;
        u32::try_from(rounded.max(u64::from(SMALLEST_BLOCK))).ok()
    }

    /// Allocates `n` bytes; the app address of the data, or `None` when
    /// they do not fit (WAMR then logs `warning: allocate n bytes memory
    /// failed`).
    pub fn alloc(&mut self, n: u64) -> Option<u32> {
        let need = Self::block_size(n)?;
        let index = self.blocks.iter().position(|b| b.free && b.size >= need)?;
        let block = *self.blocks.get(index)?;
        let rest = block.size - need;
        if rest >= SMALLEST_BLOCK {
            let split = Block {
                start: block.start + u64::from(need),
                size: rest,
                free: true,
            };
            self.blocks.insert(index + 1, split);
            if let Some(b) = self.blocks.get_mut(index) {
                b.size = need;
            }
        }
        let b = self.blocks.get_mut(index)?;
        b.free = false;
        u32::try_from(b.start + u64::from(HEADER)).ok()
    }

    /// Frees the block whose data starts at `addr`; false if there is none.
    pub fn free(&mut self, addr: u32) -> bool {
        let start = u64::from(addr).wrapping_sub(u64::from(HEADER));
        let Some(index) = self.blocks.iter().position(|b| b.start == start && !b.free) else {
            return false;
        };
        if let Some(b) = self.blocks.get_mut(index) {
            b.free = true;
        }
        // Coalesce with the next, then with the previous block.
        if let (Some(&cur), Some(&next)) = (self.blocks.get(index), self.blocks.get(index + 1))
            && next.free
        {
            if let Some(b) = self.blocks.get_mut(index) {
                b.size = cur.size + next.size;
            }
            self.blocks.remove(index + 1);
        }
        if let Some(before) = index.checked_sub(1)
            && let (Some(&prev), Some(&cur)) = (self.blocks.get(before), self.blocks.get(index))
            && prev.free
        {
            if let Some(b) = self.blocks.get_mut(before) {
                b.size = prev.size + cur.size;
            }
            self.blocks.remove(index);
        }
        true
    }

    /// Bytes free in total.
    pub fn free_bytes(&self) -> u64 {
        self.blocks
            .iter()
            .filter(|b| b.free)
            .map(|b| u64::from(b.size))
            .sum()
    }

    /// Number of blocks (free and used).
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_after_initial_memory() {
        let p = place(17, None, 8192, None);
        assert_eq!(
            p,
            Ok(Placement {
                offset: 17 * PAGE,
                size: 64_512,
                grow_pages: 1
            })
        );
        let p = place(2, None, 100_000, None);
        assert_eq!(
            p,
            Ok(Placement {
                offset: 2 * PAGE,
                size: 2 * 65_536 - 1024,
                grow_pages: 2
            })
        );
    }

    #[test]
    fn placement_at_heap_base() {
        // __heap_base well inside a page: the heap fits before the page end.
        assert_eq!(
            place(17, None, 8192, Some(1_050_000)),
            Ok(Placement {
                offset: 1_050_000,
                size: 8192,
                grow_pages: 0
            })
        );
        // Less than 1 KiB would remain before the page end: one more page.
        let base = 16 * 65_536 + 65_536 - 8192 - 100;
        assert_eq!(
            place(17, None, 8192, Some(base)).map(|p| p.grow_pages),
            Ok(1)
        );
        // The heap runs past the page end.
        let base = 16 * 65_536 + 60_000;
        assert_eq!(
            place(17, None, 8192, Some(base)).map(|p| p.grow_pages),
            Ok(1)
        );
        // __heap_base beyond the initial memory: WAMR ignores it.
        assert_eq!(
            place(1, None, 8192, Some(70_000)).map(|p| p.offset),
            Ok(PAGE)
        );
    }

    #[test]
    fn placement_errors() {
        assert_eq!(
            place(1, Some(1), 8192, None),
            Err(HeapError::FixedTinyMemory { pages: 1 })
        );
        assert_eq!(
            place(2, Some(2), 8192, None),
            Err(HeapError::MaximumTooSmall {
                needed_pages: 3,
                maximum_pages: 2
            })
        );
        assert_eq!(
            place(65_536, None, 8192, None),
            Err(HeapError::MemoryTooLarge { pages: 65_537 })
        );
    }

    #[test]
    fn block_arithmetic() {
        assert_eq!(AppHeap::block_size(1), Some(16));
        assert_eq!(AppHeap::block_size(12), Some(16));
        assert_eq!(AppHeap::block_size(13), Some(24));
        assert_eq!(AppHeap::block_size(1_048_644), Some(1_048_648));
    }

    #[test]
    fn fits_exactly_then_fails() {
        let placement = Placement {
            offset: 65_536,
            size: 8192,
            grow_pages: 1,
        };
        let mut heap = AppHeap::new(placement);
        // Usable: (8192 - 4) & !7 = 8184 bytes, each request costs n + 4 rounded to 8.
        let tag = heap.alloc(9);
        assert_eq!(tag, Some(65_536 + 4 + 4));
        let left = 8184 - 16;
        assert_eq!(heap.free_bytes(), left as u64);
        assert_eq!(heap.alloc(left as u64 - 3), None);
        let record = heap.alloc(left as u64 - 4);
        assert!(record.is_some());
        assert_eq!(heap.free_bytes(), 0);
        assert!(heap.free(record.unwrap_or(0)));
        assert!(heap.free(tag.unwrap_or(0)));
        assert!(!heap.free(tag.unwrap_or(0)), "double free is refused");
        assert_eq!((heap.block_count(), heap.free_bytes()), (1, 8184));
    }

    #[test]
    fn alignment_and_no_overlap() {
        let mut heap = AppHeap::new(Placement {
            offset: 65_536,
            size: 64_512,
            grow_pages: 1,
        });
        let mut live = Vec::new();
        for n in [1u64, 7, 100, 3, 5000, 64] {
            let addr = heap.alloc(n).map(u64::from);
            assert!(addr.is_some_and(|a| a % 8 == 0), "8-byte aligned data");
            live.push((addr.unwrap_or(0), n));
        }
        live.sort();
        for pair in live.windows(2) {
            if let [(a, n), (b, _)] = pair {
                assert!(a + n <= *b, "blocks overlap");
            }
        }
        for (addr, _) in &live {
            assert!(heap.free(*addr as u32));
        }
        assert_eq!(heap.block_count(), 1);
    }
}
