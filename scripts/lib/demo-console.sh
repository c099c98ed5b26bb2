#!/usr/bin/env bash
# Runs the console in demo mode: when its inventory is empty, a small lab fleet (real sshd on
# 127.20.x.y) is started and imported first, so a newcomer can try checks, host keys and
# commands at once; the lab is stopped again when the console exits. Runs inside the keyring
# session (the lab's login key goes to the keyring). Arguments: the console command line.
set -uo pipefail
guardia="$CARGO_TARGET_DIR/release/guardia"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--data-dir" ] && export GUARDIA_DATA_DIR="${args[$((i + 1))]}"
done
lab_started=0
console_pid=""
# GUARDIA_DEMO_LAB_ROOT moves the demo lab (tests); the default is the lab's own default.
# (Not GUARDIA_LAB_ROOT: the lab marks its own processes with that variable, and `lab down`
# stops every process that carries it — this script and run.sh included.)
lab_root=()
[ -n "${GUARDIA_DEMO_LAB_ROOT:-}" ] && lab_root=(--root "$GUARDIA_DEMO_LAB_ROOT")
# The lab goes down however this script ends: the console exiting, or a signal (run.sh
# sends TERM to the whole group; the console gets it too).
lab_down() {
  if [ "$lab_started" = 1 ]; then
    lab_started=0
    "$guardia" lab down "${lab_root[@]}" >/dev/null || echo "[run] lab down failed; run: $guardia lab down" >&2
  fi
}
trap lab_down EXIT
trap '[ -n "$console_pid" ] && kill -TERM "$console_pid" 2>/dev/null' TERM INT HUP
if [ "$("$guardia" --json inventory list 2>/dev/null | tr -d '[:space:]')" = "[]" ]; then
  if "$guardia" lab up --sites "${GUARDIA_DEMO_SITES:-20}" --bad 2 "${lab_root[@]}"; then
    lab_started=1
  else
    echo "[run] the demo lab did not start; the console runs without it" >&2
  fi
fi
"${args[@]}" &
console_pid=$!
status=0
wait "$console_pid" || status=$?
while kill -0 "$console_pid" 2>/dev/null; do
  wait "$console_pid" || status=$?
done
exit "$status"
