#!/usr/bin/env bash
# Prints the live console's figures:
#  * how long a change committed by this process takes to reach the feed (API test), and by
#    another process (a second store handle, as the CLI has);
#  * how long a task created by `guardia task create` in another process takes to show in
#    the open window (real window under Xvfb; the figure includes WebDriver's ~50 ms DOM
#    polling, so the window itself is faster), and a Cancel click → "cancelled" report;
#  * the console's idle CPU over 60 s with the window open (scripts/bench/idle.sh).
# Reuses the release build of scripts/test.sh (nothing is compiled twice).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
echo "== feed latency (API, real SQLite) =="
scripts/lib/keyring-session.sh \
  cargo test --release -q -p guardia-api --test it -- live::a_change_reaches_the_feed --nocapture 2>&1 \
  | grep -e 'feed latency' -e 'test result'
echo "== window latency (real console under Xvfb) =="
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh \
  cargo test --release -q -p guardia-e2e --test e2e -- live:: --nocapture --test-threads 1 2>&1 \
  | grep -e '^LIVE' -e 'test result'
echo "== idle CPU =="
scripts/bench/idle.sh "${1:-60}"
