# Shared environment for GUARDiA's scripts. Source it; it only sets variables.
#
# One cargo target directory outside the clone, shared by every build, test and clone on
# this machine: Tauri + wasm builds are slow on 2 cores and must never be repeated.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guardia/target}"
# Tools the scripts install that are not cargo binaries (npm binaryen for wasm-opt).
export GUARDIA_TOOLS="${GUARDIA_TOOLS:-$HOME/.cache/guardia/tools}"
export PATH="$HOME/.cargo/bin:$GUARDIA_TOOLS/binaryen/node_modules/.bin:$PATH"
# trunk must never reach for the internet (closed network): no update check.
export TRUNK_SKIP_VERSION_CHECK=true
# Pinned tool versions (BUILD-NOTES.md). wasm-bindgen must equal the `=` pin in ui/Cargo.toml.
export GUARDIA_TRUNK_VERSION=0.21.14
export GUARDIA_WASM_BINDGEN_VERSION=0.2.130
export GUARDIA_TAURI_DRIVER_VERSION=2.1.0
export GUARDIA_BINARYEN_VERSION=132.0.0
