#!/usr/bin/env bash
# Fuzzes every parser GUARDiA reads untrusted input with — inventory CSV, Ansible INI, the
# sealed bundle's header, checkpoint notes and verifier keys, the command denylist's shell
# parser, and result packages (archives, manifests, diffs) — with libFuzzer (coverage-guided), for RUNS executions each (default
# 100000; `scripts/fuzz.sh 1000000` for a longer campaign) or SECONDS per target, whichever
# comes first (default 60; GUARDIA_FUZZ_SECONDS=0 for no time limit): a guard that keeps CI
# bounded should a target slow down (figures: docs/architecture.md#fuzzing--퍼징). A panic, a failed assertion, a
# hang (10 s) or 2 GiB of memory fails the run; the input that did it is kept under
# ~/.cache/guardia/fuzz-target/artifacts/. Campaigns grow a corpus kept between runs;
# GUARDIA_FUZZ_FRESH=1 (what test.sh, so CI, uses) starts from the committed seeds only, so a
# run is reproducible: the same code, seeds and fixed seed run the same inputs — a red CI run
# is a change's doing, not the luck of a corpus another run grew.
#
# No cargo-fuzz and no nightly: the coverage instrumentation is stable rustc flags, and
# libfuzzer-sys builds libFuzzer from its own sources with the machine's C++ compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh

runs=${1:-${GUARDIA_FUZZ_RUNS:-100000}}
seconds=${GUARDIA_FUZZ_SECONDS:-60}
targets=(inventory_csv ansible_ini bundle checkpoint_note command package)
# Its own target dir: instrumented builds never mix with the console's.
export CARGO_TARGET_DIR="$HOME/.cache/guardia/fuzz-target"
triple=$(rustc -vV | sed -n 's/^host: //p')
# Instrument only the target's code, not build scripts and proc macros (hence --target).
export RUSTFLAGS="-Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing"
cargo build --quiet --release --locked --manifest-path fuzz/Cargo.toml --target "$triple" --bins

fresh="$(mktemp -d -t guardia-fuzz-corpus.XXXXXX)"
trap 'rm -rf "$fresh"' EXIT
failed=0
for t in "${targets[@]}"; do
  if [ "${GUARDIA_FUZZ_FRESH:-0}" = 1 ]; then
    corpus="$fresh/$t"
  else
    corpus="$CARGO_TARGET_DIR/corpus/$t"
  fi
  artifacts="$CARGO_TARGET_DIR/artifacts"
  mkdir -p "$corpus" "$artifacts"
  log="$CARGO_TARGET_DIR/$t.log"
  set +e
  "$CARGO_TARGET_DIR/$triple/release/$t" -runs="$runs" -max_total_time="$seconds" -seed=1 -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    "$corpus" "fuzz/seeds/$t" >"$log" 2>&1
  status=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    printf '[fuzz] %-16s %9s executions in %3ss, no failure\n' "$t" "${execs:-?}" "${secs:-?}"
  else
    printf '[fuzz] %-16s FAILED (exit %s); log: %s\n' "$t" "$status" "$log"
    grep -m 20 -e 'panicked' -e 'ERROR' -e 'Test unit written' -A3 "$log" || tail -20 "$log"
    failed=1
  fi
done
exit "$failed"
