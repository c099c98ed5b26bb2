#!/usr/bin/env bash
# Installs what is missing, builds, and runs the GUARDiA console on the embedded SQLite
# database (demo tasks are added only when the database is empty).
# Extra arguments go to the console, e.g. `scripts/run.sh --data-dir /tmp/guardia-try`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/env.sh

scripts/build-ui.sh
# Same package set as test.sh's build, so both share every compiled crate.
cargo build --release --bins

console=("$CARGO_TARGET_DIR/release/guardia-console" --demo "$@")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "[run] no display: starting the console on a virtual X display (Xvfb). Stop it with Ctrl+C."
  exec xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- "${console[@]}"
elif [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # Without a session bus, GTK's accessibility bridge autolaunches daemons that outlive the app.
  exec dbus-run-session -- "${console[@]}"
else
  exec "${console[@]}"
fi
