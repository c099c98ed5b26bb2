#!/usr/bin/env bash
# Runs "$@" in a private D-Bus session whose Secret Service is gnome-keyring with an unlocked
# login keyring in private directories (temporary, or GUARDIA_KEYRING_HOME to keep it between
# runs) — the way BUILD-NOTES.md measured it works headless. Used by test.sh (always), run.sh
# (when no desktop session answers) and the benchmarks. The keyring password is
# GUARDIA_KEYRING_PASSWORD (default "guardia"): this is for test runs and headless demos; a
# desktop session brings its own unlocked keyring.
#
# The daemon is started by D-Bus activation from a service file of ours, listed ahead of the
# system's. gnome-keyring 42 aborts now and then when a client disconnects in the middle of
# a call (upstream work items 190/196/199: "gkd_secret_service_get_pkcs11_session: assertion
# 'client' failed"); short-lived `guardia` processes and the crash tests' `kill -9` trigger
# it. With the system's service file the next call would start a fresh daemon with no login
# keyring, and every later keyring call would fail ("no result found"). With ours it starts
# again unlocked on the same keyring files, and nothing written is lost.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  shift
  keyring_home="$1"
  shift
  # Start (and unlock) the keyring now, so a broken set-up fails here and not in a test.
  dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.DBus.Peer.Ping >/dev/null
  # A kept keyring also says where its session bus is, so `guardia` from another shell can
  # use the same keyring while the console runs (README: "The CLI beside a headless console").
  bus_file=""
  if [ -n "${GUARDIA_KEYRING_KEEP:-}" ]; then
    bus_file="$keyring_home/session-bus"
    (umask 077 && printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS" >"$bus_file")
  fi
  set +e
  "$@"
  status=$?
  set -e
  [ -n "$bus_file" ] && rm -f "$bus_file"
  # The daemon would leave with the bus; stop it first so nothing outlives the session.
  if [ -s "$keyring_home/daemon.pid" ]; then
    kill "$(cat "$keyring_home/daemon.pid")" 2>/dev/null || true
  fi
  exit "$status"
fi

if [ -n "${GUARDIA_KEYRING_HOME:-}" ]; then
  keyring_home="$GUARDIA_KEYRING_HOME"
  export GUARDIA_KEYRING_KEEP=1
else
  keyring_home="$(mktemp -d -t guardia-keyring.XXXXXX)"
  trap 'rm -rf "$keyring_home"' EXIT
fi
mkdir -p "$keyring_home/runtime" "$keyring_home/data" "$keyring_home/services"
chmod 700 "$keyring_home" "$keyring_home/runtime"
keyring_home="$(cd "$keyring_home" && pwd)"
(umask 077 && printf %s "${GUARDIA_KEYRING_PASSWORD:-guardia}" >"$keyring_home/password")

# What D-Bus runs whenever the Secret Service is wanted and not running. Only the daemon sees
# the redirected XDG dirs: the program keeps its own (its data directory must not move).
cat >"$keyring_home/start-keyring" <<EOF
#!/bin/sh
echo \$\$ >"$keyring_home/daemon.pid"
export XDG_RUNTIME_DIR="$keyring_home/runtime" XDG_DATA_HOME="$keyring_home/data"
exec gnome-keyring-daemon --foreground --unlock --components=secrets \\
  <"$keyring_home/password" >/dev/null 2>>"$keyring_home/daemon.log"
EOF
chmod 700 "$keyring_home/start-keyring"
cat >"$keyring_home/services/org.freedesktop.secrets.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.secrets
Exec=$keyring_home/start-keyring
EOF

# The stock session bus configuration, with our service directory searched first.
cat >"$keyring_home/session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$keyring_home/services</servicedir>
  <standard_session_servicedirs />
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

set +e
dbus-run-session --config-file="$keyring_home/session.conf" -- "$0" --inside "$keyring_home" "$@"
status=$?
set -e
exit "$status"
