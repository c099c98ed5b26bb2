#!/usr/bin/env bash
# Runs "$@" with a Secret Service (gnome-keyring) on the current D-Bus session bus, the way
# BUILD-NOTES.md measured it works headless: an unlocked login keyring in private temp dirs
# (or GUARDIA_KEYRING_HOME, to keep it between runs).
# Call it inside `dbus-run-session`. Used by test.sh (always) and run.sh (when no keyring
# answers). The keyring password is GUARDIA_KEYRING_PASSWORD (default "guardia"; an empty one
# leaves the login collection uncreated): this is for test runs and headless demos; a desktop
# session brings its own unlocked keyring.
set -euo pipefail
if [ -n "${GUARDIA_KEYRING_HOME:-}" ]; then
  keyring_home="$GUARDIA_KEYRING_HOME"
  temporary=false
else
  keyring_home="$(mktemp -d -t guardia-keyring.XXXXXX)"
  temporary=true
fi
mkdir -p "$keyring_home/runtime" "$keyring_home/data"
chmod 700 "$keyring_home" "$keyring_home/runtime"
# Only the daemon sees the redirected XDG dirs: the program keeps its own (its data
# directory must not move) and reaches the keyring over the session bus.
# --daemonize prints the control socket variables; eval exports them for the children.
eval "$(printf %s "${GUARDIA_KEYRING_PASSWORD:-guardia}" \
  | XDG_RUNTIME_DIR="$keyring_home/runtime" XDG_DATA_HOME="$keyring_home/data" \
    gnome-keyring-daemon --unlock --components=secrets --daemonize 2>/dev/null)"
export GNOME_KEYRING_CONTROL
# A kept keyring also says where its session bus is, so `guardia` from another shell can
# use the same keyring while the console runs (README: "The CLI beside a headless console").
bus_file=""
if [ "$temporary" = false ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  bus_file="$keyring_home/session-bus"
  (umask 077 && printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS" >"$bus_file")
fi
set +e
"$@"
status=$?
set -e
[ -n "$bus_file" ] && rm -f "$bus_file"
# The daemon leaves with the D-Bus session that dbus-run-session ends after us.
if [ -n "${GNOME_KEYRING_PID:-}" ] && [ "$GNOME_KEYRING_PID" -gt 1 ]; then
  kill "$GNOME_KEYRING_PID" 2>/dev/null || true
fi
if [ "$temporary" = true ]; then rm -rf "$keyring_home"; fi
exit "$status"
