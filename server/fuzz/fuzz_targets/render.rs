//! Fuzzes `berth::fuzzing::render`: arbitrary bytes must never make it panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::render(data));
