#!/usr/bin/env bash
# Builds the console's UI (ui/ → ui/dist) with trunk, offline, in release mode.
# The desktop binary embeds ui/dist, so this runs before every console build.
#
# trunk rewrites every output file on each run, and the console recompiles whenever the
# embedded files change, so the build goes to a staging directory and replaces ui/dist only
# when the content differs: an unchanged UI costs no relink of the desktop app.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh

# trunk takes over a minute even with nothing to do (wasm-opt): skip it when the UI's
# sources (with the ipc and domain crates it compiles in), the lock file and the tool
# versions are what the last build was made from.
stamp="$CARGO_TARGET_DIR/ui-dist.stamp"
stage="$CARGO_TARGET_DIR/ui-dist-staging"
inputs=$( (find ui src-tauri/crates/ipc src-tauri/crates/domain Cargo.toml -path ui/dist -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum
  sha256sum Cargo.lock
  echo "$GUARDIA_TRUNK_VERSION $GUARDIA_WASM_BINDGEN_VERSION $GUARDIA_BINARYEN_VERSION") |
  sha256sum | cut -d' ' -f1)
# (A fresh clone of the same sources takes the last build from the shared target dir.)
if [ -f "$stage/index.html" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "[build-ui] sources unchanged since the last build: trunk not needed"
else
  rm -f "$stamp"
  (cd ui && trunk build --release --dist "$stage")
fi
if diff -rq "$stage" ui/dist >/dev/null 2>&1; then
  echo "[build-ui] ui/dist is up to date"
else
  rm -rf ui/dist
  cp -a "$stage" ui/dist
  # Seen 2026-12-07: after a UI change the next console build recompiled but served a stale
  # wasm ("module doesn't start with \0asm" in every e2e test) until the crate that embeds
  # ui/dist was compiled again. Marking that crate's source as changed makes the embedding
  # run afresh whenever ui/dist does (cause not found; see the issue 14 note).
  touch src-tauri/src/lib.rs
  echo "[build-ui] ui/dist updated"
fi
mkdir -p "$(dirname "$stamp")"
echo "$inputs" >"$stamp"
