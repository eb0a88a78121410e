//! Fuzzes `berth::fuzzing::edits`: arbitrary bytes must never make it panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::edits(data));
