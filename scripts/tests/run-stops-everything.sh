#!/usr/bin/env bash
# Regression test: `scripts/run.sh` stopped with SIGTERM (what a service manager or
# `timeout` sends) used to leave the demo lab's sshd processes running. However it is
# stopped, it must stop what it started: the console, its session bus and keyring, the lab.
# Runs the real run.sh headless (its own Xvfb, bus and keyring) on a temp data dir and lab.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
# Under /var/tmp and open to others: the lab's sites run as the `guardia-lab` user.
work="$(mktemp -d -p /var/tmp guardia-stop.XXXXXX)"
chmod 755 "$work"
trap 'cp "$work/run.log" /tmp/guardia-stop-last.log 2>/dev/null; rm -rf "$work"' EXIT
export GUARDIA_DEMO_LAB_ROOT="$work/lab" GUARDIA_DEMO_SITES=3 GUARDIA_KEYRING_HOME="$work/keyring"
# The demo console has people: the CLI below signs in as the demo admin (README, "Demo
# people"). Only the CLI calls of this test: run.sh itself must work without them.
as_admin=(env GUARDIA_USER=admin GUARDIA_PASSWORD=guardia-demo)

fail() {
  echo "FAIL: $*" >&2
  sed 's/^/  run.log: /' "$work/run.log" >&2 || true
  pkill -TERM -f "$work" || true
  echo "0 passed, 1 failed"
  exit 1
}

env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
  scripts/run.sh --data-dir "$work/data" >"$work/run.log" 2>&1 &
run=$!

# Ready when the lab is up and the console runs (bounded wait on a condition).
deadline=$((SECONDS + 300))
until [ -f "$work/lab/lab.json" ] && pgrep -f "^[^ ]*/guardia-console --demo --demo-people --data-dir $work/data" >/dev/null; do
  kill -0 "$run" 2>/dev/null || fail "run.sh ended before the console came up"
  [ "$SECONDS" -lt "$deadline" ] || fail "the console and lab did not come up within 300 s"
  sleep 0.2
done
pgrep -f "$work/lab" >/dev/null || fail "no lab process found under $work/lab"
# …and once the console handles SIGTERM itself (SigCgt bit 15), i.e. it is past start-up.
console="$(pgrep -f "^[^ ]*/guardia-console --demo --demo-people --data-dir $work/data" | head -n 1)"
until (( 0x$(awk '/^SigCgt/ {print $2}' "/proc/$console/status") & 0x4000 )); do
  [ "$SECONDS" -lt "$deadline" ] || fail "the console never installed its SIGTERM handler"
  sleep 0.2
done

# README, "The CLI beside a headless console": from another shell, the CLI signs with the
# console's key through the session bus run.sh wrote down.
[ -s "$work/keyring/session-bus" ] || fail "run.sh did not write the session bus address"
DBUS_SESSION_BUS_ADDRESS="$(cat "$work/keyring/session-bus")" \
  "${as_admin[@]}" "$CARGO_TARGET_DIR/release/guardia" --data-dir "$work/data" audit checkpoint >/dev/null \
  || fail "the CLI could not sign through the console's keyring"
echo "[stop-test] the CLI signed a checkpoint with the console's keyring"

kill -TERM "$run"
set +e
wait "$run"
echo "[stop-test] run.sh exited with $? after SIGTERM"

# Everything it started is gone (bounded wait: sshd and the console need a moment).
deadline=$((SECONDS + 30))
while pgrep -f "$work" >/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    ps -eo pid,args | grep -F "$work" | grep -v grep >&2 || true
    fail "processes started by run.sh survived SIGTERM"
  fi
  sleep 0.2
done
echo "[stop-test] the console, the lab's sshd and the keyring all stopped"
# The console left as if its window were closed: the stop is in the log.
"${as_admin[@]}" "$CARGO_TARGET_DIR/release/guardia" --data-dir "$work/data" audit list --kind console.stopped \
  | grep -q console.stopped || fail "the console did not record its stop (SIGTERM was not graceful)"
echo "[stop-test] the console recorded its stop"
echo "1 passed, 0 failed"
