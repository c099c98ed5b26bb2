#!/usr/bin/env bash
# The rollout board at scale in the real window (issue 12): a lab of SITES sites (default
# 1,000), a rollout started from the window with the default plan (soak 0, gates opened as
# they come), the console's RSS (its process and its WebKit processes) sampled throughout, and
# the window's frame times (requestAnimationFrame intervals) while every site updates.
#   scripts/bench/board.sh [SITES=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
export GUARDIA_BOARD_SITES=${1:-1000}
scripts/build-ui.sh
(cd src-tauri && cargo build --quiet --release --all-targets)
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh \
  cargo test --quiet --release -p guardia-e2e --test e2e -- --ignored --nocapture board_at_scale
