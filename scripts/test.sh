#!/usr/bin/env bash
# Installs what is missing, then runs every check and test: formatting, clippy (backend and
# wasm UI), unit, store (real SQLite files), CLI, IPC contract, and end-to-end tests of the
# real console window under Xvfb, the installers (built and checked: scripts/tests/packages.sh),
# then every parser's fuzz target. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/setup.sh --packaging
source scripts/lib/env.sh

step() { printf '\n\033[1;36m[test]\033[0m %s (%ds)\n' "$*" "$((SECONDS - started))"; }

step "rustfmt"
cargo fmt --all -- --check
(cd packaging/appimage-runtime && cargo fmt -- --check)

step "build the UI (trunk, release)"
scripts/build-ui.sh

# No --workspace: the default members are everything but ui/, which is wasm-only and
# checked for its own target below (building it natively too would only cost time).
step "clippy: backend, CLI, tests"
cargo clippy --release --all-targets -- -D warnings
step "clippy: UI (wasm32)"
cargo clippy --release -p guardia-ui --target wasm32-unknown-unknown -- -D warnings
step "clippy: AppImage runtime (static musl; its own workspace)"
(cd packaging/appimage-runtime && cargo clippy --locked --release --target x86_64-unknown-linux-musl -- -D warnings)

# One release build of everything (the e2e tests start the release console), then the tests
# reuse it: nothing is compiled twice.
step "build (release, all targets)"
cargo build --release --all-targets

step "tests, e2e included (Xvfb + D-Bus session + gnome-keyring)"
mkdir -p target/e2e-shots
# A private, unlocked Secret Service for this run: the audit tests use the real keyring.
# dbus-daemon chatter is filtered; the exit status is cargo's, not grep's.
set +e
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh \
  cargo test --release --all-targets --no-fail-fast 2>&1 \
  | grep --line-buffered -v -e '^dbus-daemon\[' -e 'SpiRegistry daemon is running'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "[test] FAILED (exit $status)"
  exit "$status"
fi

step "installers: .deb, AppImage (binaries tested above) and MSI (Windows cross build), signed"
scripts/package.sh all
step "installers: contents, install, the console from the AppImage, checksums and signature"
xvfb-run -a -s "-screen 0 1400x900x24" scripts/lib/keyring-session.sh scripts/tests/packages.sh

step "fuzz every parser (libFuzzer, fixed seed, from the committed seeds; figures per target)"
GUARDIA_FUZZ_FRESH=1 scripts/fuzz.sh

step "run.sh stops everything it started when sent SIGTERM"
scripts/tests/run-stops-everything.sh

step "all passed; screenshots in target/e2e-shots/"
