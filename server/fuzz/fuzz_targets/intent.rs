//! Fuzzes `berth::fuzzing::intent`: no request may make the change box's parser panic or step
//! outside its bounds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| berth::fuzzing::intent(data));
