#!/usr/bin/env bash
# Runs build/hash_bench.exe (test/hash_bench.c: procrec.dll's image hash
# worker on its own) under Wine, in a fresh Wine prefix removed afterwards.
# Usage: test/hash_bench.sh [MIB [CACHED]]  (make bench-hash builds it first)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
WINE=${WINE:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-$(dirname "$WINE")/wineserver}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/procrec-wine-bench.XXXXXX")
cleanup() {
  WINEPREFIX=$prefix timeout 30 "$WINESERVER" -k 2>/dev/null || true
  rm -rf "$prefix"
}
trap cleanup EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
echo "wine: preparing a fresh prefix in $prefix" >&2
timeout 180 "$WINE" wineboot -i >/dev/null 2>&1 || { echo "wine: wineboot -i failed" >&2; exit 2; }
timeout 120 "$WINESERVER" -w || true
# Wine serves file opens in wineserver, another process: its CPU is printed
# too (the program's own CPU figures leave it out)
"$WINESERVER" -p 60
ws=""
for p in $(pgrep -x wineserver64 || true) $(pgrep -x wineserver || true); do
  if { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null | grep -qx "WINEPREFIX=$prefix"; then ws=$p; fi
done
ticks() { if [ -n "$ws" ]; then awk '{print $14 + $15}' "/proc/$ws/stat"; else echo 0; fi; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$here/build"
before=$(ticks)
timeout 600 "$WINE" ./hash_bench.exe "$@"
after=$(ticks)
if [ -n "$ws" ]; then
  echo "wineserver CPU during the run: $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') s"
else
  echo "wineserver CPU: not found (pid of this prefix's wineserver)"
fi
