//! The Ansible INI reader: never panics, stays within its host cap, numbers its refusals,
//! and never quotes a secret variable's value in one.
#![no_main]

use guardia_domain::inventory::{MAX_SERVERS, ansible};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = ansible::AnsibleOptions {
        institution: "Seoul".into(),
        system: "hr".into(),
        default_user: "deploy".into(),
    };
    let lines = text.lines().count().max(1);
    match ansible::parse(text, &options) {
        Ok(import) => assert!(import.rows.len() <= MAX_SERVERS),
        Err(problems) => {
            assert!(!problems.is_empty());
            for p in problems {
                assert!(p.line >= 1 && p.line <= lines + 1, "problem line {}", p.line);
                assert!(!p.message.contains("fuzz-secret"), "{}", p.message);
            }
        }
    }
});
