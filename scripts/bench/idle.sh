#!/usr/bin/env bash
# Prints the console's CPU use while idle: the window open on the Tasks screen (demo data),
# nobody touching it, for SECONDS (default 60). Counts the console process and its WebKit
# web process (utime + stime from /proc), after a 10 s settle. The feed's only idle work is
# one single-row read every 250 ms (to notice other processes' commits).
#   scripts/bench/idle.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
seconds="${1:-60}"
work="$(mktemp -d -t guardia-idle.XXXXXX)"
trap 'rm -rf "$work"' EXIT
console="$CARGO_TARGET_DIR/release/guardia-console"
[ -x "$console" ] || { echo "build first: scripts/test.sh (or cargo build --release --bins)"; exit 1; }

# The measurement runs inside the display and session below, as a script of its own (a
# function would not survive xvfb-run's /bin/sh).
cat >"$work/measure.sh" <<'MEASURE'
set -euo pipefail

"$console" --demo --data-dir "$work/data" >"$work/console.log" 2>&1 &
pid=$!
# Bounded wait for the window's web process (WebKit starts it when the page loads).
web="" tries=300
while [ -z "$web" ] && [ "$tries" -gt 0 ]; do
  web="$(pgrep -P "$pid" -f WebKitWebProcess | head -n 1 || true)"
  sleep 0.1
  tries=$((tries - 1))
done
sleep 10 # settle: start-up work (first verification, page load) is not idle time
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

hz="$(getconf CLK_TCK)"
c0="$(ticks "$pid")"
w0="$(ticks "${web:-$pid}")"
sleep "$seconds" # the measurement window itself, not synchronisation
c1="$(ticks "$pid")"
w1="$(ticks "${web:-$pid}")"
kill -TERM "$pid"
wait "$pid" || true
awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v hz="$hz" -v s="$seconds" -v web="${web:-none}" 'BEGIN {
  printf "idle %d s: console %.2f s CPU (%.2f%% of one core); web process (%s) %.2f s (%.2f%%)\n",
    s, c / hz, 100 * c / hz / s, web, w / hz, 100 * w / hz / s }'
MEASURE
export console work seconds
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh \
  bash "$work/measure.sh" 2>&1 | grep -v -e '^dbus-daemon\[' -e 'SpiRegistry'
