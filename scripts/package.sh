#!/usr/bin/env bash
# Builds GUARDiA's installers, offline, into target/packages/ (in the shared cargo target
# directory; `target/packages` in the clone links to it), with SHA256SUMS and its signature:
#
#   scripts/package.sh [deb] [appimage] [msi] [all]     (default: all)
#
# Installs what it needs first (scripts/setup.sh --packaging), builds the release binaries
# once (the same build as run.sh and test.sh), then puts each package together by hand from
# them: no tool here downloads anything (docs/packages.md says how each one is made).
#
# The signature is `ssh-keygen -Y sign` with the release key in GUARDIA_RELEASE_KEY
# (default ~/.config/guardia/release-signing/id_ed25519, made on first use). Installers verify
# with the public key they got by a separate, trusted channel (README: "Verify a download").
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- all
for what in "$@"; do
  case "$what" in
    deb | appimage | msi | all) ;;
    *) echo "usage: scripts/package.sh [deb] [appimage] [msi] [all]" >&2; exit 2 ;;
  esac
done
wanted=" $* "
scripts/setup.sh --packaging
source scripts/lib/env.sh

say() { printf '\033[1;36m[package]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[package]\033[0m %s\n' "$*" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[ -n "$version" ] || die "no version in Cargo.toml's [workspace.package]"
out="$CARGO_TARGET_DIR/packages"
work="$CARGO_TARGET_DIR/package-work"
mkdir -p "$out" "$work" target
ln -sfn "$out" target/packages
release="$CARGO_TARGET_DIR/release"

wants() { [[ "$wanted" == *" all "* || "$wanted" == *" $1 "* ]]; }
# The commit the binaries embed (src-tauri/build-commit.rs asks the same way); the MSI's
# description names it too.
commit=${GUARDIA_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
say "version $version, commit $commit"

# Every package embeds the UI (once: build-ui.sh skips trunk when nothing changed).
scripts/build-ui.sh

# --- the release binaries --------------------------------------------------------------------
# The same build as test.sh's (all targets): the packages carry exactly the binaries the
# end-to-end tests ran, and in CI this build is already done.
if wants deb || wants appimage; then
  say "release build (console, CLI)"
  cargo build --release --all-targets
fi

# Files both Linux packages carry: binaries, desktop entry, icons (the hicolor theme).
# $1: the root to fill (its usr/ is created).
linux_tree() {
  local root=$1
  install -Dm755 "$release/guardia-console" "$root/usr/bin/guardia-console"
  install -Dm755 "$release/guardia" "$root/usr/bin/guardia"
  install -Dm644 packaging/linux/guardia-console.desktop \
    "$root/usr/share/applications/guardia-console.desktop"
  install -Dm644 icons/32x32.png "$root/usr/share/icons/hicolor/32x32/apps/guardia-console.png"
  install -Dm644 icons/128x128.png "$root/usr/share/icons/hicolor/128x128/apps/guardia-console.png"
  install -Dm644 icons/128x128@2x.png "$root/usr/share/icons/hicolor/256x256/apps/guardia-console.png"
  install -Dm644 icons/icon.svg "$root/usr/share/icons/hicolor/scalable/apps/guardia-console.svg"
}

# --- .deb --------------------------------------------------------------------------------
build_deb() {
  local root="$work/deb/root" deb="$out/guardia_${version}_amd64.deb"
  say "deb: $deb"
  rm -rf "$work/deb"
  linux_tree "$root"
  install -Dm644 packaging/linux/copyright "$root/usr/share/doc/guardia/copyright"
  # Dependencies from the binaries' own needs (dpkg-shlibdeps wants a debian/control).
  mkdir -p "$work/deb/debian"
  printf 'Source: guardia\n' >"$work/deb/debian/control"
  local depends
  depends=$(cd "$work/deb" && dpkg-shlibdeps -O -xlibgcc-s1 \
    root/usr/bin/guardia-console root/usr/bin/guardia 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  [ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"
  local size
  size=$(du -sk "$root/usr" | cut -f1)
  mkdir -p "$root/DEBIAN"
  sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
    packaging/linux/control.in >"$root/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
}

# --- AppImage ------------------------------------------------------------------------------
# Libraries every Linux desktop that runs GUARDiA has, and that must come from the machine
# itself (packaging/linux/appimage-excluded: the C library, the graphics drivers' stack,
# X11/xcb, fonts, …). Everything else the console links (WebKitGTK, GTK, GLib, …) travels in
# the AppImage. scripts/tests/packages.sh checks the closure against the same list.
appimage_excluded="^($(grep -v '^#' packaging/linux/appimage-excluded | paste -sd'|'))\.so"

# The shared libraries $@ need, one path per line, without the excluded ones.
closure() {
  ldd "$@" 2>/dev/null | sed -n 's/^\s*\(\S*\) => \(\/\S*\) .*/\1 \2/p' | sort -u |
    while read -r name path; do
      [[ "$name" =~ $appimage_excluded ]] || echo "$path"
    done | sort -u
}

build_appimage() {
  local appdir="$work/appimage/AppDir" image="$out/GUARDiA-${version}-x86_64.AppImage"
  local webkit=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1
  say "AppImage: $image"
  rm -rf "$work/appimage"
  mkdir -p "$appdir/usr/lib/x86_64-linux-gnu"

  say "AppImage: the runtime (static, musl)"
  cargo build --locked --release --target x86_64-unknown-linux-musl \
    --manifest-path packaging/appimage-runtime/Cargo.toml
  local runtime="$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/guardia-appimage-runtime"
  file -b "$runtime" | grep -Eq 'statically linked|static-pie linked' || die "the runtime is not static: $(file -b "$runtime")"
  # The runtime finds the image at its own ELF end: that must be its size exactly.
  [ "$("$runtime" --appimage-offset)" = "$(stat -c %s "$runtime")" ] ||
    die "the runtime's ELF end is not its size"

  linux_tree "$appdir"
  # WebKitGTK's helper processes and injected bundle, at the path the library looks for them.
  mkdir -p "$appdir/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle"
  cp -a "$webkit/WebKitNetworkProcess" "$webkit/WebKitWebProcess" \
    "$appdir/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/"
  cp -a "$webkit/injected-bundle/libwebkit2gtkinjectedbundle.so" \
    "$appdir/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle/"
  local lib
  for lib in $(closure "$release/guardia-console" "$release/guardia" "$webkit/WebKitNetworkProcess" \
    "$webkit/WebKitWebProcess" "$webkit/injected-bundle/libwebkit2gtkinjectedbundle.so"); do
    cp -L "$lib" "$appdir/usr/lib/x86_64-linux-gnu/"
  done
  # GTK's settings schemas (its file chooser aborts without them).
  install -Dm644 /usr/share/glib-2.0/schemas/gschemas.compiled \
    "$appdir/usr/share/glib-2.0/schemas/gschemas.compiled"
  # WebKitGTK starts its helpers from a path compiled into it (/usr/lib/…/webkit2gtk-4.1):
  # made relative (same length), it resolves inside the AppDir, as AppRun runs from usr/.
  python3 - "$appdir/usr/lib/x86_64-linux-gnu" <<'PY'
import pathlib, sys
old = b"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1"
new = b"././/lib/x86_64-linux-gnu/webkit2gtk-4.1"
patched = 0
for lib in pathlib.Path(sys.argv[1]).glob("libwebkit2gtk-4.1.so*"):
    data = lib.read_bytes()
    if old in data:
        lib.write_bytes(data.replace(old, new))
        patched += 1
sys.exit(0 if patched else "no WebKitGTK library with the helper path to patch")
PY
  install -m755 packaging/linux/AppRun "$appdir/AppRun"
  cp packaging/linux/guardia-console.desktop "$appdir/guardia-console.desktop"
  cp icons/icon.png "$appdir/guardia-console.png"
  ln -s guardia-console.png "$appdir/.DirIcon"

  say "AppImage: squashfs (gzip) and the runtime in front"
  mksquashfs "$appdir" "$work/appimage/AppDir.squashfs" -root-owned -noappend -comp gzip \
    -quiet -no-progress >/dev/null
  cat "$runtime" "$work/appimage/AppDir.squashfs" >"$image.part"
  # The AppImage type-2 magic at byte 8 (the ELF header's padding).
  printf 'AI\x02' | dd of="$image.part" bs=1 seek=8 conv=notrunc status=none
  chmod 755 "$image.part"
  mv "$image.part" "$image"
}

# --- MSI -----------------------------------------------------------------------------------
# The Windows build (MinGW-w64 cross compiler, no Windows machine needed) and an MSI from
# packaging/windows/guardia.wxs with wixl. wixl knows neither launch conditions nor
# environment entries; msibuild (msitools) adds them to the finished database.
build_msi() {
  local target=x86_64-pc-windows-gnu msi="$out/guardia-${version}-x64.msi" stage="$work/msi"
  local bin="$CARGO_TARGET_DIR/$target/release"
  say "msi: the Windows build ($target)"
  cargo build --release --target "$target" -p guardia-console -p guardia-cli --bins
  local loader
  loader=$(find "$bin/build" -path '*webview2-com-sys*' -path '*x64*' -name WebView2Loader.dll | head -1)
  [ -f "$loader" ] || die "WebView2Loader.dll not found under $bin/build"
  say "msi: $msi"
  rm -rf "$stage"
  mkdir -p "$stage"
  local exe
  for exe in guardia-console.exe guardia.exe; do
    x86_64-w64-mingw32-strip -o "$stage/$exe" "$bin/$exe"
  done
  cp "$loader" "$stage/WebView2Loader.dll"
  cp icons/icon.ico "$stage/guardia.ico"
  cp packaging/windows/guardia.wxs "$stage/"
  (cd "$stage" && wixl -a x64 -D "Version=$version" -D "Commit=$commit" -o guardia.msi guardia.wxs)
  # The WebView2 runtime is required (see the .wxs); WEBVIEW2_CHECK=0 installs the CLI alone.
  msibuild "$stage/guardia.msi" -q "INSERT INTO \`LaunchCondition\` (\`Condition\`, \`Description\`) VALUES ('Installed OR WEBVIEW2_MACHINE OR WEBVIEW2_USER OR WEBVIEW2_CHECK=\"0\"', '$(tr -d '\n' <packaging/windows/need-webview2.txt)')"
  # `guardia` on the system PATH: appended on install, removed on uninstall.
  msibuild "$stage/guardia.msi" \
    -q "CREATE TABLE \`Environment\` (\`Environment\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Value\` CHAR(255) LOCALIZABLE, \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`Environment\`)" \
    -q "INSERT INTO \`Environment\` (\`Environment\`, \`Name\`, \`Value\`, \`Component_\`) VALUES ('PathEntry', '=-*PATH', '[~];[INSTALLDIR]', 'CliExe')" \
    -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('RemoveEnvironmentStrings', 3300)" \
    -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('WriteEnvironmentStrings', 5200)"
  mv "$stage/guardia.msi" "$msi"
}

# --- checksums and signature ---------------------------------------------------------------
sign() {
  local key="${GUARDIA_RELEASE_KEY:-$HOME/.config/guardia/release-signing/id_ed25519}"
  if [ ! -f "$key" ]; then
    say "no release key at $key: making one (keep it safe; publish $key.pub separately)"
    mkdir -p "$(dirname "$key")"
    chmod 700 "$(dirname "$key")"
    ssh-keygen -q -t ed25519 -N '' -C 'GUARDiA release signing key' -f "$key"
  fi
  (
    cd "$out"
    rm -f SHA256SUMS SHA256SUMS.sig
    local files=()
    for f in "guardia_${version}_amd64.deb" "GUARDiA-${version}-x86_64.AppImage" "guardia-${version}-x64.msi"; do
      [ -f "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -gt 0 ] || die "nothing to sum in $out"
    sha256sum "${files[@]}" >SHA256SUMS
  )
  ssh-keygen -q -Y sign -f "$key" -n guardia-release "$out/SHA256SUMS"
  # The signer file an installer verifies against (its key must match the published one).
  printf 'release@guardia namespaces="guardia-release" %s\n' "$(cut -d' ' -f1,2 "$key.pub")" \
    >"$out/allowed_signers"
  say "signed SHA256SUMS with $(ssh-keygen -l -f "$key.pub" | cut -d' ' -f2)"
}

wants deb && build_deb
wants appimage && build_appimage
wants msi && build_msi
sign
say "done:"
(cd "$out" && ls -l --block-size=K | sed 1d | awk '{print "  " $5 "\t" $9}')
