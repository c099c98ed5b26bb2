#!/usr/bin/env bash
# Prints what the console itself spends to reach the lab fleet over real sshd:
# connect + authenticate + `true` on SITES sites at CONCURRENCY (console CPU per site), and
# SFTP upload of UPLOAD_MB MB + remote sha256sum to UPLOAD_SITES sites in parallel, with
# OpenSSH's ssh client as the anchor; then a mixed fleet of MIXED_SITES sites (10 % legacy
# OpenSSH, 10 % Dropbear, the rest OpenSSH): wall time and console CPU per site per profile.
#   scripts/bench/ssh.sh [SITES=1000] [CONCURRENCY=100] [UPLOAD_SITES=50] [UPLOAD_MB=10] [MIXED_SITES=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
# The bench profile inherits release: this reuses the release build, nothing is compiled twice.
cargo bench --quiet -p guardia-ssh --bench fleet -- "${1:-1000}" "${2:-100}" "${3:-50}" "${4:-10}"
cargo bench --quiet -p guardia-ssh --bench fleet -- mixed "${5:-1000}" "${2:-100}" 10 10
