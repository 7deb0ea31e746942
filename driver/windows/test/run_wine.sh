#!/usr/bin/env bash
# Runs build/procrec_e2e.exe (test/wine_e2e.c) under Wine, in a fresh Wine
# prefix that is removed afterwards: procrec.dll installs the test build of
# the driver (build/procrec_test.sys) as a kernel service that Wine's
# winedevice.exe hosts; before that, the release build (build/procrec.sys)
# must load, snapshot, refuse injection and unload.
# Usage: test/run_wine.sh OUT.bin (records written there).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "$1")
WINE=${WINE:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-$(dirname "$WINE")/wineserver}
winpath() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }

prefix=$(mktemp -d "${TMPDIR:-/tmp}/procrec-wine.XXXXXX")
cleanup() {
  WINEPREFIX=$prefix timeout 30 "$WINESERVER" -k 2>/dev/null || true
  rm -rf "$prefix"
}
trap cleanup EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
export PROCREC_DRIVER; PROCREC_DRIVER=$(winpath "$here/build/procrec_test.sys")

echo "wine: preparing a fresh prefix in $prefix" >&2
timeout 180 "$WINE" wineboot -i >/dev/null 2>&1 || { echo "wine: wineboot -i failed" >&2; exit 2; }
# Windows 10, not Wine 8's default Windows 7: the driver then takes the
# NonPagedPoolNx path (PR_FEAT_POOL_NX, checked by procrec_e2e.exe)
timeout 60 "$WINE" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1 ||
  { echo "wine: cannot set the Windows version" >&2; exit 2; }
timeout 120 "$WINESERVER" -w || true # let the new prefix settle: services started at boot
# a folder link to C:\users\public\prnames (the e2e program makes that folder): Wine's
# file system has no junctions (FSCTL_SET_REPARSE_POINT fails), its folder
# links are Unix symbolic links; an image named through one must be denied by
# the file's identity
public=$(find "$prefix/drive_c/users" -maxdepth 1 -iname public | head -1)
[ -n "$public" ] && ln -sfn prnames "$public/prdirlink"
# the release procrec.dll loads only %SystemRoot%\System32\drivers\procrec.sys
cp "$here/build/procrec.sys" "$prefix/drive_c/windows/system32/drivers/procrec.sys"
cd "$here/build"
status=0
# ... and ignores PROCREC_DRIVER (only procrec_test.dll takes it)
PROCREC_DRIVER=$(winpath "$here/build/procrec_old.sys") \
  timeout 120 "$WINE" ./procrec_e2e.exe --release "$(winpath "$out.release")" || status=$?
rm -f "$out.release"
# the contract of procrec_abi.h, as driver/linux passes it (driver/tests/conformance.c)
timeout 120 "$WINE" ./conformance.exe procrec.dll || status=$?
timeout 180 "$WINE" ./procrec_e2e.exe "$(winpath "$out")" || status=$?
timeout 60 "$WINESERVER" -w || true
exit $status
