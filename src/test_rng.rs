//! A seeded xorshift64 generator for the unit tests: the same sequence on
//! every run, so a failing case is the same case again.

/// The generator from `state` (not zero): each call gives the next value.
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
