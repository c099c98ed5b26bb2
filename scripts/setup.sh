#!/usr/bin/env bash
# Installs whatever GUARDiA needs that this Debian 12 machine lacks, and nothing twice.
# Safe to run again and again: every step checks first. Called by run.sh and test.sh.
# `--packaging` adds what scripts/package.sh needs (test.sh builds and checks the packages).
set -euo pipefail
packaging=false
[ "${1:-}" = --packaging ] && packaging=true
cd "$(dirname "$0")/.."
source scripts/lib/env.sh

say() { printf '\033[1;36m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages ----------------------------------------------------------------------
# WebKitGTK and friends for Tauri; Xvfb, D-Bus, WebKitWebDriver for the headless e2e tests;
# a Korean font so Hangul renders (also under Xvfb); ImageMagick for screenshots; Node for
# npm's binaryen; gnome-keyring (the Secret Service the audit signing key lives in) and
# libdbus headers for the keyring client; Python with Ed25519 for the independent audit
# verifier in docs/tools (tested); OpenSSH's sshd, sftp-server and ssh-keygen for the lab
# fleet the SSH tests and demo run against, procps for `ps` checks on lab sites; Dropbear,
# BusyBox and tcsh for the lab's legacy server profiles (issue 15); dunst, a
# notification daemon the e2e test reads the console's desktop notifications back from.
# (PostgreSQL joins with its issue.)
packages=(
  build-essential pkg-config libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth dbus dbus-x11 at-spi2-core webkit2gtk-driver
  gnome-keyring libsecret-tools libglib2.0-bin dunst
  python3 python3-cryptography
  openssh-server openssh-sftp-server openssh-client procps dropbear-bin busybox tcsh
  fonts-noto-cjk imagemagick
)
# Installers (scripts/package.sh): squashfs-tools for the AppImage's image, the musl C tools
# for its static runtime, fuse3 (fusermount3) to mount it; MinGW-w64 for the Windows build,
# msitools + wixl to make and read the MSI, wine64 to install and run it in the tests.
if $packaging; then
  packages+=(squashfs-tools musl-tools fuse3 file desktop-file-utils mingw-w64 msitools wixl wine64)
fi
# The machine image may ship its own Node.js; any working npm will do.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Rust ---------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (rustup) first; this script cannot download it on a closed network"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if $packaging; then
  for target in x86_64-unknown-linux-musl x86_64-pc-windows-gnu; do
    if ! rustup target list --installed | grep -qx "$target"; then
      say "rustup target add $target"
      rustup target add "$target"
    fi
  done
fi

for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "rustup component add $component"
    rustup component add "$component"
  fi
done

installed() { cargo install --list | grep -q "^$1 v$2:"; }

# Pinned, and checked by version so a different one already on PATH is replaced.
if ! installed trunk "$GUARDIA_TRUNK_VERSION"; then
  say "cargo install trunk $GUARDIA_TRUNK_VERSION (about 7 minutes, once)"
  cargo install trunk --version "$GUARDIA_TRUNK_VERSION" --locked
fi
if ! installed wasm-bindgen-cli "$GUARDIA_WASM_BINDGEN_VERSION"; then
  # Without --locked: its lock file pins a webpki-roots that the registry no longer serves.
  say "cargo install wasm-bindgen-cli $GUARDIA_WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$GUARDIA_WASM_BINDGEN_VERSION"
fi
if ! installed tauri-driver "$GUARDIA_TAURI_DRIVER_VERSION"; then
  say "cargo install tauri-driver $GUARDIA_TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$GUARDIA_TAURI_DRIVER_VERSION" --locked
fi

# --- wasm-opt -----------------------------------------------------------------------------
# trunk would download binaryen from GitHub; Debian's 108 breaks the wasm. npm's works.
if ! wasm-opt --version 2>/dev/null | grep -q "version ${GUARDIA_BINARYEN_VERSION%%.*}\b"; then
  say "npm install binaryen@$GUARDIA_BINARYEN_VERSION into $GUARDIA_TOOLS/binaryen"
  mkdir -p "$GUARDIA_TOOLS/binaryen"
  npm install --silent --no-audit --no-fund --prefix "$GUARDIA_TOOLS/binaryen" "binaryen@$GUARDIA_BINARYEN_VERSION"
fi

say "all set (target dir: $CARGO_TARGET_DIR)"
