#!/usr/bin/env bash
# Prints the audit ledger's speed figures: durable append (batched and one by one) and the
# time to verify a log of N entries (default 1,000,000) from SQLite, warm.
#   scripts/bench/audit.sh [ENTRIES]
# The database goes to GUARDIA_BENCH_DIR (default /var/tmp, a real disk: fsync must count).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
# The bench profile inherits release: this reuses the release build, nothing is compiled twice.
scripts/lib/keyring-session.sh \
  cargo bench --quiet -p guardia-api --bench audit -- "${1:-1000000}" 2>&1 \
  | grep -v -e '^dbus-daemon\['
