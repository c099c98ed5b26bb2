//! `sqlx::migrate!` embeds `migrations/` at compile time; stable Rust cannot tell cargo about
//! that dependency from inside the macro, so a changed migration must trigger a rebuild here.
fn main() {
    println!("cargo:rerun-if-changed=../../../migrations");
}
