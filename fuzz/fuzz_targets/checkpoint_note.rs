//! Checkpoint notes and verifier keys as read from files people bring back: never panic,
//! and a note only opens if it is exactly what our key signed.
#![no_main]

use guardia_audit::checkpoint::{AuditSigningKey, Checkpoint, VerifierKey, normalize_note};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = AuditSigningKey::from_seed("guardia.fuzz/checkpoint", &[7u8; 32]).unwrap();
    let verifier = key.verifier();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<VerifierKey>();
        for note in [text.to_owned(), normalize_note(text)] {
            if let Ok(opened) = verifier.open(&note) {
                // What opened is a whole checkpoint: signed again, it opens to itself.
                assert_eq!(verifier.open(&key.sign(&opened)).unwrap(), opened);
            }
        }
    }
    // A checkpoint made from the input signs and opens back to itself.
    if data.len() >= 40 {
        let origin = format!("guardia.fuzz/{}", data[0] % 10);
        let mut root = [0u8; 32];
        root.copy_from_slice(&data[8..40]);
        let checkpoint = Checkpoint {
            origin,
            size: u64::from_le_bytes(data[..8].try_into().unwrap()),
            root,
        };
        let note = key.sign(&checkpoint);
        assert_eq!(verifier.open(&note).unwrap(), checkpoint);
    }
});
