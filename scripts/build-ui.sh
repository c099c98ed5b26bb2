#!/usr/bin/env bash
# Builds the console's UI (ui/ → ui/dist) with trunk, offline, in release mode.
# The desktop binary embeds ui/dist, so this runs before every console build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
cd ui
trunk build --release
