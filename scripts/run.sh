#!/usr/bin/env bash
# Installs what is missing, builds, and runs the GUARDiA console on the embedded SQLite
# database (demo tasks are added only when the database is empty, demo people — one per
# role, password `guardia-demo` — only while nobody has been added; an empty inventory gets
# a 20-site lab fleet on this machine, stopped again when the console exits).
# Extra arguments go to the console, e.g. `scripts/run.sh --data-dir /tmp/guardia-try`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/env.sh

scripts/build-ui.sh
# Same package set as test.sh's build, so both share every compiled crate.
cargo build --release --bins

console=(scripts/lib/demo-console.sh "$CARGO_TARGET_DIR/release/guardia-console" --demo --demo-people "$@")

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  # Headless machine: give the console a virtual screen, reachable from other shells so
  # the operator (or a newcomer checking the install) can take a screenshot.
  n=99
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
  Xvfb ":$n" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill "$xvfb" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
  [ -e "/tmp/.X11-unix/X$n" ] || { echo "[run] Xvfb did not start on :$n" >&2; exit 1; }
  export DISPLAY=":$n"
  echo "[run] no display found: the console runs on the virtual display $DISPLAY (Xvfb)."
  echo "[run] look at it with:  DISPLAY=$DISPLAY import -window root console.png"
  echo "[run] stop it with Ctrl+C."
fi

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # No desktop session: start a session bus (without one, GTK's accessibility bridge
  # autolaunches daemons that outlive the app) and a Secret Service for the audit signing
  # key. Its keyring is kept in GUARDIA_KEYRING_HOME so the key survives restarts; a desktop
  # session brings its own keyring instead.
  export GUARDIA_KEYRING_HOME="${GUARDIA_KEYRING_HOME:-$HOME/.local/share/guardia-keyring}"
  echo "[run] no desktop session: using the keyring in $GUARDIA_KEYRING_HOME"
  echo "[run] the CLI reaches this keyring only inside the same session; see README, 'The CLI beside a headless console'."
  launcher=(scripts/lib/keyring-session.sh "${console[@]}")
else
  launcher=("${console[@]}")
fi

# However run.sh is stopped — Ctrl+C, SIGTERM from a service manager or `timeout`, a
# closed terminal — everything it started stops with it: the console first (it records
# its stop and signs the log while the keyring is still there), then the rest of its
# process group — demo-console.sh takes the lab's sshd down, the session bus and keyring
# end — and only then the virtual display.
setsid "${launcher[@]}" &
child=$!
group_alive() { kill -0 -- "-$child" 2>/dev/null; }
wait_group_gone() { # seconds
  local tries=$(($1 * 10))
  while group_alive && [ "$tries" -gt 0 ]; do sleep 0.1; tries=$((tries - 1)); done
  ! group_alive
}
stopped=""
stop_all() {
  trap '' TERM INT HUP
  stopped=yes
  echo "[run] stopping the console and what it started…" >&2
  pkill -TERM -g "$child" -x guardia-console 2>/dev/null || true
  local tries=100
  while pgrep -g "$child" -x guardia-console >/dev/null && [ "$tries" -gt 0 ]; do
    sleep 0.1
    tries=$((tries - 1))
  done
  # The rest winds down by itself once the console is gone: demo-console.sh takes the lab
  # down, the keyring and the bus end. A TERM now would kill that `lab down` half-way and
  # leave the lab's sshd running, so TERM only what is still there after a while.
  wait_group_gone 15 || kill -TERM -- "-$child" 2>/dev/null || true
  if ! wait_group_gone 20; then
    echo "[run] some processes did not stop within 20 s; killing them:" >&2
    ps -o pid=,args= -g "$child" >&2 || true
    kill -KILL -- "-$child" 2>/dev/null || true
  fi
}
trap stop_all TERM INT HUP
status=0
wait "$child" || status=$?
# `wait` returns early when a trapped signal arrives; wait for the whole group to finish.
while kill -0 "$child" 2>/dev/null; do
  wait "$child" || status=$?
done
wait_group_gone 20 || kill -KILL -- "-$child" 2>/dev/null || true
# Stopped on request: say so the conventional way (128 + SIGTERM), whatever the parts said.
[ -n "$stopped" ] && exit 143
exit "$status"
