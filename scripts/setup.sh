#!/usr/bin/env bash
# Sets up a fresh Debian machine (with Node, npm, gcc, make) for procrec:
# Debian packages where missing, the pinned npm dependencies (Deno among
# them), then the native event sources. Idempotent: quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config  # eBPF source
  gcc-mingw-w64-x86-64-win32 mingw-w64-x86-64-dev wine64           # Windows driver/DLL
  chromium                                                          # report tests
  util-linux procps                                                 # setpriv, ps
  time                                                              # /usr/bin/time: memory bounds of the hostile-input tests
  dpkg-dev lintian                                                  # make deb and its test
  zsh fish                                                          # completion tests
  nats-server openssl                                               # record --publish, collect tests (openssl: their TLS certificates)
  forkstat                                                          # deno task bench:compare (reference)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 2
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/deno ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses this npm's own lock file (it leaves out other platforms'
  # optional packages); npm install honours the lock and the exact pins.
  echo "setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

make -s build

# the man page and shell completions, generated from --help, under share/
# (man -M share/man procrec; source share/completions/procrec.bash)
mkdir -p share/man/man1 share/completions
./procrec manpage -o share/man/man1/procrec.1
./procrec completions bash >share/completions/procrec.bash
./procrec completions zsh >share/completions/_procrec
./procrec completions fish >share/completions/procrec.fish
