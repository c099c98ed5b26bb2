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
if [ "$("$guardia" --json inventory list 2>/dev/null | tr -d '[:space:]')" = "[]" ]; then
  if "$guardia" lab up --sites 20 --bad 2; then
    lab_started=1
  else
    echo "[run] the demo lab did not start; the console runs without it" >&2
  fi
fi
"${args[@]}"
status=$?
if [ "$lab_started" = 1 ]; then
  "$guardia" lab down || echo "[run] lab down failed; run: $guardia lab down" >&2
fi
exit "$status"
