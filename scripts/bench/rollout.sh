#!/usr/bin/env bash
# Rollout speed against the lab, with the lab floor and Ansible in the same run (issue 12):
# wall time and console CPU per site at each size, the floor (scp + ssh + curl per site, 50
# in parallel), Ansible at 100 sites (ansible-core from PyPI in a venv, forks 50, pipelining,
# ControlPersist), and the kill switch with every site mid-step.
#   scripts/bench/rollout.sh [SITES…=100 1000]     (add `ansible` to include Ansible at ≤100)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh
command -v scp >/dev/null && command -v curl >/dev/null || sudo apt-get install -y openssh-client curl
# The health endpoint runs as the CLI (its CPU is not the console's): build it first.
cargo build --quiet --release -p guardia-cli
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 ansible)
# The bench profile inherits release: this reuses the release build.
cargo bench --quiet -p guardia-api --bench rollout -- "${sizes[@]}"
