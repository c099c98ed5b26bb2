//! The sealed bundle's header check, which runs before anything else of the file is read:
//! never panics, and whatever it accepts stays within the memory and time caps. (Past the
//! header a bundle is AES-GCM ciphertext, refused as a whole when it does not authenticate.)
#![no_main]

use guardia_secrets::bundle::{self, HEADER, MAX_MEMORY_KIB, MAX_PASSES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = &data[..data.len().min(HEADER)];
    if let Ok(cost) = bundle::check(data.len() as u64, header) {
        assert!(cost.memory_kib <= MAX_MEMORY_KIB && cost.passes <= MAX_PASSES);
    }
});
