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

stage="$CARGO_TARGET_DIR/ui-dist-staging"
(cd ui && trunk build --release --dist "$stage")
if diff -rq "$stage" ui/dist >/dev/null 2>&1; then
  echo "[build-ui] ui/dist is up to date"
else
  rm -rf ui/dist
  cp -a "$stage" ui/dist
  echo "[build-ui] ui/dist updated"
fi
