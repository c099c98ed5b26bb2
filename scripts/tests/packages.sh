#!/usr/bin/env bash
# Checks the installers scripts/package.sh built (test.sh runs both): each package holds what
# it should, installs and runs; the AppImage starts the console from its image (FUSE and
# extracted) in the real window; SHA256SUMS and its signature verify and a changed byte fails.
# Needs DISPLAY and a D-Bus session with a keyring (test.sh runs it under xvfb-run and
# keyring-session.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/env.sh

pass() { printf '\033[1;32m[packages]\033[0m ok: %s\n' "$*"; }
fail() { printf '\033[1;31m[packages]\033[0m FAILED: %s\n' "$*" >&2; exit 1; }
has() { grep -qF -- "$2" <<<"$1" || fail "$3 (no '$2')"; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
out="$CARGO_TARGET_DIR/packages"
deb="$out/guardia_${version}_amd64.deb"
appimage="$out/GUARDiA-${version}-x86_64.AppImage"
msi="$out/guardia-${version}-x64.msi"
expected=$("$CARGO_TARGET_DIR/release/guardia" --version)
scratch=$(mktemp -d)
cleanup() {
  [ -z "${WINEPREFIX:-}" ] || /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
  dpkg-query -W guardia >/dev/null 2>&1 && dpkg -r guardia >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# --- .deb --------------------------------------------------------------------------------
info=$(dpkg-deb --info "$deb")
has "$info" "Package: guardia" "deb control"
has "$info" "Version: $version" "deb version"
has "$info" "libwebkit2gtk-4.1-0" "deb dependencies"
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/guardia-console ./usr/bin/guardia ./usr/share/applications/guardia-console.desktop \
  ./usr/share/icons/hicolor/128x128/apps/guardia-console.png \
  ./usr/share/icons/hicolor/scalable/apps/guardia-console.svg; do
  has "$contents" "$f" "deb contents"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/applications/guardia-console.desktop \
  >"$scratch/guardia-console.desktop"
desktop-file-validate "$scratch/guardia-console.desktop" || fail "the desktop entry is not valid"
pass "deb: control, binaries, desktop entry, icons"
# Installed for real on this machine (its dependencies must resolve), run from PATH, removed.
dpkg -i "$deb" >/dev/null || fail "dpkg -i"
[ "$(command -v guardia)" = /usr/bin/guardia ] || fail "guardia is not on PATH after dpkg -i"
[ "$(guardia --version)" = "$expected" ] || fail "installed guardia --version: $(guardia --version)"
[ "$(guardia-console --version)" = "guardia-console ${expected#guardia }" ] ||
  fail "installed guardia-console --version: $(guardia-console --version)"
dpkg -r guardia >/dev/null
[ ! -e /usr/bin/guardia ] || fail "dpkg -r left /usr/bin/guardia"
pass "deb: dpkg -i, '$expected' from PATH, dpkg -r"

# --- AppImage ------------------------------------------------------------------------------
[ "$(dd if="$appimage" bs=1 skip=8 count=3 status=none | od -An -c | tr -d ' ')" = 'AI002' ] ||
  fail "no AppImage type-2 magic at byte 8"
offset=$("$appimage" --appimage-offset)
listing=$(unsquashfs -o "$offset" -l "$appimage")
for f in AppRun guardia-console.desktop .DirIcon usr/bin/guardia-console usr/bin/guardia \
  usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0 \
  usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess \
  usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitNetworkProcess; do
  has "$listing" "squashfs-root/$f" "unsquashfs -o $offset -l"
done
pass "AppImage: magic at byte 8, Debian's unsquashfs lists the AppDir at offset $offset"
"$appimage" --appimage-version | grep -q '^guardia-appimage-runtime ' || fail "--appimage-version"
"$appimage" --appimage-help | grep -q -- '--appimage-extract' || fail "--appimage-help"
# Our extraction and Debian's unsquashfs give the same tree, byte for byte.
(cd "$scratch" && "$appimage" --appimage-extract >/dev/null 2>&1) || fail "--appimage-extract"
unsquashfs -q -o "$offset" -d "$scratch/reference" "$appimage" >/dev/null
diff -r --no-dereference "$scratch/squashfs-root" "$scratch/reference" >/dev/null ||
  fail "--appimage-extract differs from unsquashfs"
pass "AppImage: --appimage-extract yields the AppDir, identical to unsquashfs's"
# Every library the bundled programs need is in the AppDir, or is one the target provides.
lib="$scratch/squashfs-root/usr/lib/x86_64-linux-gnu"
missing=$(for elf in "$scratch"/squashfs-root/usr/bin/* "$lib"/webkit2gtk-4.1/WebKit*Process "$lib"/*.so*; do
  LD_LIBRARY_PATH="$lib" ldd "$elf" 2>/dev/null | sed -n 's/^\s*\(\S*\) => \(\S*\).*/\1 \2/p'
done | grep -v " $lib/" | grep -Ev "^($(grep -v '^#' packaging/linux/appimage-excluded | paste -sd'|'))\.so" |
  sort -u || true)
[ -z "$missing" ] || fail "libraries neither bundled nor expected on the target: $missing"
pass "AppImage: every needed library is bundled or on the target's list"
# The CLI through a link named `guardia` (mounted with FUSE).
ln -s "$appimage" "$scratch/guardia"
[ "$("$scratch/guardia" --version)" = "$expected" ] || fail "AppImage CLI --version"
[ "$(APPIMAGE_EXTRACT_AND_RUN=1 "$scratch/guardia" --version)" = "$expected" ] ||
  fail "AppImage CLI --version, extracted"
pass "AppImage: 'guardia --version' through the image (FUSE and extracted)"
# The bare runtime and a damaged image are refused with a message, not a crash.
runtime="$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/guardia-appimage-runtime"
if "$runtime" >/dev/null 2>"$scratch/err"; then fail "the bare runtime ran something"; fi
grep -q 'AppImage' "$scratch/err" || fail "the bare runtime's error: $(cat "$scratch/err")"
cp "$appimage" "$scratch/damaged.AppImage"
printf 'XXXX' | dd of="$scratch/damaged.AppImage" bs=1 seek="$offset" conv=notrunc status=none
if "$scratch/damaged.AppImage" --appimage-extract >/dev/null 2>"$scratch/err"; then
  fail "a damaged image extracted"
fi
grep -q 'unreadable' "$scratch/err" || fail "damaged image error: $(cat "$scratch/err")"
pass "AppImage: the bare runtime and a damaged image are refused with a message"
# The console from the image in the real window, with FUSE and extracted (screenshots).
# (The same cargo invocation as test.sh's, so nothing is rebuilt; only this story runs. Its
# output goes to a file: a WebDriver left behind by a failure must not hold a pipe open.)
if ! GUARDIA_APPIMAGE="$appimage" cargo test --release --all-targets appimage:: -- --ignored \
  >"$scratch/e2e.log" 2>&1; then
  grep -v -e '^dbus-daemon\[' -e 'SpiRegistry' "$scratch/e2e.log" | tail -30 >&2
  fail "the AppImage e2e story"
fi
grep -E '^test appimage|^screenshot' "$scratch/e2e.log"
[ -s target/e2e-shots/appimage.png ] && [ -s target/e2e-shots/appimage-extracted.png ] ||
  fail "no AppImage screenshots"
pass "AppImage: the console starts from the image (FUSE and APPIMAGE_EXTRACT_AND_RUN=1)"

# --- MSI -----------------------------------------------------------------------------------
files=$(msiinfo export "$msi" File)
for f in guardia-console.exe guardia.exe WebView2Loader.dll; do has "$files" "$f" "the MSI's File table"; done
has "$(msiinfo export "$msi" Shortcut)" "GUARDiA Console" "the MSI's Start-menu shortcut"
has "$(msiinfo export "$msi" LaunchCondition)" "WebView2" "the MSI's WebView2 check"
msiextract -C "$scratch/msi" "$msi" >/dev/null
for f in guardia-console.exe guardia.exe WebView2Loader.dll; do
  [ -s "$scratch/msi/GUARDiA/$f" ] || fail "msiextract: no $f"
done
pass "MSI: msiinfo shows the files and the shortcut; msiextract yields the exes and the loader DLL"
# Installed, run and removed under Wine (a throw-away prefix). Debian's Wine 8 lacks
# bcryptprimitives.dll, which Rust's standard library imports: a TEST-ONLY stub built here
# with MinGW (scripts/tests/wine/bcryptprimitives.c) goes into the prefix, never the MSI.
wine=/usr/lib/wine/wine64
export WINEPREFIX="$scratch/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
"$wine" wineboot --init >/dev/null 2>&1 || fail "wineboot"
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/tests/wine/bcryptprimitives.c
installed="$WINEPREFIX/drive_c/Program Files/GUARDiA"
guardia_exe='C:\Program Files\GUARDiA\guardia.exe'
# No WebView2 runtime in Wine: the launch condition refuses the install before any file is
# copied. (Wine does not log a launch condition's text; msiinfo showed it above.)
if "$wine" msiexec /i "$msi" /qn /l*v 'C:\refused.log' >/dev/null 2>&1; then
  fail "the MSI installed without the WebView2 runtime"
fi
grep -aq 'LaunchConditions' "$WINEPREFIX/drive_c/refused.log" || fail "the refused install's log"
! grep -aq 'InstallFiles' "$WINEPREFIX/drive_c/refused.log" || fail "the refused install copied files"
[ ! -e "$installed" ] || fail "a refused install left $installed"
pass "MSI: refused without the WebView2 runtime, saying what to do"
"$wine" msiexec /i "$msi" /qn WEBVIEW2_CHECK=0 >/dev/null 2>&1 || fail "msiexec /i WEBVIEW2_CHECK=0"
for f in guardia-console.exe guardia.exe WebView2Loader.dll; do
  [ -s "$installed/$f" ] || fail "not installed: $f"
done
shortcut=$(find "$WINEPREFIX/drive_c" -path '*/Start Menu/Programs/GUARDiA/GUARDiA Console.lnk')
[ -n "$shortcut" ] || fail "no Start-menu shortcut"
"$wine" reg query 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v PATH 2>/dev/null |
  grep -qi 'GUARDiA' || fail "guardia is not on the system PATH"
win_version=$("$wine" "$guardia_exe" --version 2>/dev/null | tr -d '\r')
[ "$win_version" = "guardia ${expected#guardia }" ] || fail "guardia.exe --version: '$win_version'"
task=$("$wine" "$guardia_exe" --data-dir 'C:\guardia-test' task create \
  --title 'Windows에서 만든 작업' --category INFRA_CONTROL --system hr-portal --sub-type service-restart \
  --request 'made under Wine' 2>"$scratch/wine-err" | tr -d '\r') || fail "task create: $(cat "$scratch/wine-err")"
listed=$("$wine" "$guardia_exe" --data-dir 'C:\guardia-test' --json task list 2>/dev/null)
has "$listed" "$task" "guardia.exe task list --json"
has "$listed" "Windows에서 만든 작업" "guardia.exe task list --json (Korean title)"
[ -s "$WINEPREFIX/drive_c/guardia-test/guardia.db" ] || fail "no database in C:\guardia-test"
# Without --data-dir the data lives in %APPDATA%\guardia.
"$wine" "$guardia_exe" task list >/dev/null 2>&1 || fail "task list in %APPDATA%"
ls "$WINEPREFIX"/drive_c/users/*/AppData/Roaming/guardia/guardia.db >/dev/null 2>&1 ||
  fail "no database in %APPDATA%\guardia"
pass "MSI: installed under Wine; '$win_version'; task create + list --json; data in %APPDATA%\guardia"
"$wine" msiexec /x "$msi" /qn >/dev/null 2>&1 || fail "msiexec /x"
[ ! -e "$installed/guardia.exe" ] || fail "msiexec /x left guardia.exe"
[ ! -e "$shortcut" ] || fail "msiexec /x left the shortcut"
! "$wine" reg query 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v PATH 2>/dev/null |
  grep -qi 'GUARDiA' || fail "msiexec /x left GUARDiA on the PATH"
/usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
pass "MSI: msiexec /x removes it"

# --- SHA256SUMS and its signature ----------------------------------------------------------
(cd "$out" && sha256sum --check --quiet SHA256SUMS) || fail "SHA256SUMS"
ssh-keygen -Y verify -f "$out/allowed_signers" -I release@guardia -n guardia-release \
  -s "$out/SHA256SUMS.sig" <"$out/SHA256SUMS" >/dev/null || fail "SHA256SUMS signature"
# A changed byte in a package fails the sums; a changed sum fails the signature.
mkdir -p "$scratch/copy"
cp "$out/SHA256SUMS" "$deb" "$scratch/copy/"
python3 - "$scratch/copy/$(basename "$deb")" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096)
    byte = f.read(1)[0]
    f.seek(4096)
    f.write(bytes([byte ^ 0x01]))
PY
if (cd "$scratch/copy" && sha256sum --check --quiet --ignore-missing SHA256SUMS >/dev/null 2>&1); then
  fail "a changed byte in the .deb passed SHA256SUMS"
fi
sed 's/^./0/' "$out/SHA256SUMS" >"$scratch/copy/SHA256SUMS"
if ssh-keygen -Y verify -f "$out/allowed_signers" -I release@guardia -n guardia-release \
  -s "$out/SHA256SUMS.sig" <"$scratch/copy/SHA256SUMS" >/dev/null 2>&1; then
  fail "a changed SHA256SUMS passed the signature"
fi
pass "SHA256SUMS and its signature verify; a changed byte fails either"
