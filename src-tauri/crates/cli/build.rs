//! Embeds the commit the build came from (see `src-tauri/build-commit.rs`).

#[path = "../../build-commit.rs"]
mod build_commit;

fn main() {
    build_commit::emit();
}
