#!/usr/bin/env bash
# The review's speed figures (issue 11) on a generated 100,000-line, 500-file package:
#  * backend (benches/review.rs in guardia-package): parse + index (target ≤ 250 ms), the
#    whole import, laying out every row, highlighting a 100-line window cold (target
#    ≤ 50 ms), full-highlight throughput in lines/s;
#  * the real window (WebDriver under Xvfb): first paint of the file tree and the first diff
#    screen (target ≤ 1 s), jump to the last file (≤ 200 ms), and the most DOM nodes in the
#    diff pane while scrolling top to bottom (< 5,000) — timed inside the page.
# Needs a built console (scripts/build-ui.sh && cargo build --release --all-targets).
#   scripts/bench/review.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
# The bench profile inherits release: this reuses the release build, nothing is compiled twice.
cargo bench --quiet -p guardia-package --bench review
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh \
  cargo test --quiet --release -p guardia-e2e --test e2e a_hundred_thousand_line -- --nocapture 2>&1 \
  | grep -E '^review of|test result|panicked'
