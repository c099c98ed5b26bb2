//! The command denylist (shell parser, wrapper unwrapping, path rules): never panics, never
//! hangs, for ad-hoc and playbook commands alike.
#![no_main]

use guardia_domain::command::{CommandContext, RemoteCommand};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // The checker turns a panic of the third-party shell parser into a refusal (caught
        // with catch_unwind); libFuzzer's hook would abort before that. Panics that escape
        // the checker still abort: libfuzzer-sys treats any unwinding out of here as a crash.
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ad_hoc = RemoteCommand::check(text, CommandContext::AdHoc);
    let playbook = RemoteCommand::check(text, CommandContext::Playbook);
    // Playbooks may do more than ad-hoc commands, never less.
    if ad_hoc.is_ok() {
        assert!(playbook.is_ok(), "{text:?}: {playbook:?}");
    }
    }
);
