#!/usr/bin/env bash
# Builds procrec_<version>_amd64.deb with Debian's own tools (dpkg-deb,
# dpkg-shlibdeps), offline: everything comes from this checkout after
# `make setup` (the pinned Deno, the runtime npm dependencies, libprocrec.so).
#
#   packaging/deb/build_deb.sh [OUTDIR]        (make deb: OUTDIR=build)
#
# The version comes from package.json (procrec's one version); the commit
# from git. PROCREC_DEB_VERSION overrides the package version (tests build an
# older package to upgrade from); PROCREC_DEB_COMPRESS the compressor (xz).
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir="$PWD"
out="${1:-build}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

version="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' package.json | head -n1)"
[ -n "$version" ] || { echo "build_deb: no version in package.json" >&2; exit 2; }
deb_version="${PROCREC_DEB_VERSION:-$version}"
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi

for f in driver/linux/build/libprocrec.so node_modules/deno/deno; do
  [ -e "$f" ] || { echo "build_deb: $f is missing; run 'make setup' first" >&2; exit 2; }
done

stage="$(mktemp -d "${TMPDIR:-/tmp}/procrec-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/root"
lib="$pkg/usr/lib/procrec"
install -d "$lib" "$pkg/usr/bin" "$pkg/DEBIAN"

# --- the program: CLI sources (no tests), launcher, manifest, build info
(cd "$root_dir" && find cli -type f -name '*.ts' ! -name '*_test.ts' -print0 -o \
  -type f \( -name '*.md' -o -name '*.json' -o -name '*.css' -o -name '*.js' \) -print0) |
  while IFS= read -r -d '' f; do install -D -m 0644 "$f" "$lib/$f"; done
install -m 0755 procrec "$lib/procrec"
install -m 0644 package.json deno.json "$lib/"
printf '{"version":"%s","commit":"%s","package":"%s"}\n' "$version" "$commit" "$deb_version" \
  >"$lib/build-info.json"
ln -s ../lib/procrec/procrec "$pkg/usr/bin/procrec"

# --- the pinned Deno binary and only the runtime npm dependencies. cbor-x's
# optional native addon (cbor-extract and its helpers) is left out: under
# Deno it must never load (the launcher also disables it).
install -D -m 0755 node_modules/deno/deno "$lib/node_modules/deno/deno"
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 |
  sed "s|^$root_dir/||" | grep -v -E '(^|/)(cbor-extract|@cbor-extract/|node-gyp-build-optional-packages|detect-libc)' |
  while IFS= read -r d; do
    mkdir -p "$lib/$(dirname "$d")"
    cp -a "$d" "$lib/$d"
  done
# build and release scripts of the npm packages are not part of the runtime
find "$lib/node_modules" -type f -name '*.sh' -delete
find "$lib/node_modules" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
chmod 0755 "$lib/node_modules/deno/deno"

# --- the native library with its embedded eBPF programs
install -D -m 0644 driver/linux/build/libprocrec.so "$lib/driver/linux/build/libprocrec.so"
strip --strip-unneeded "$lib/driver/linux/build/libprocrec.so"

# --- service, configuration, man page, completions, docs
install -D -m 0644 packaging/deb/procrec.default "$pkg/etc/default/procrec"
unit_dir="$pkg/lib/systemd/system"
install -d "$unit_dir"
./procrec service unit --config /etc/default/procrec --exec /usr/bin/procrec >"$unit_dir/procrec.service"
chmod 0644 "$unit_dir/procrec.service"
install -d "$pkg/usr/share/man/man1"
./procrec manpage | gzip -9n >"$pkg/usr/share/man/man1/procrec.1.gz"
install -d "$pkg/usr/share/bash-completion/completions" \
  "$pkg/usr/share/zsh/vendor-completions" "$pkg/usr/share/fish/vendor_completions.d"
./procrec completions bash >"$pkg/usr/share/bash-completion/completions/procrec"
./procrec completions zsh >"$pkg/usr/share/zsh/vendor-completions/_procrec"
./procrec completions fish >"$pkg/usr/share/fish/vendor_completions.d/procrec.fish"
doc="$pkg/usr/share/doc/procrec"
install -d "$doc"
install -m 0644 packaging/deb/README.Debian "$doc/README.Debian"
install -D -m 0644 packaging/deb/lintian-overrides "$pkg/usr/share/lintian/overrides/procrec"
packaging/deb/copyright.sh "$lib/node_modules" >"$doc/copyright"
{
  printf 'procrec (%s) unstable; urgency=medium\n\n' "$deb_version"
  printf '  * Built from commit %s.\n\n' "$commit"
  printf ' -- procrec developers <procrec@example.org>  %s\n' \
    "$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$doc/changelog.gz"
find "$pkg/usr/share" "$pkg/etc" "$pkg/lib" -type f -exec chmod 0644 {} +

# --- control: Depends from the binaries' ELF needs (dpkg-shlibdeps)
shl="$stage/shlibs"
mkdir -p "$shl/debian"
printf 'Source: procrec\n\nPackage: procrec\nArchitecture: amd64\n' >"$shl/debian/control"
depends="$(cd "$shl" && dpkg-shlibdeps -O -e"$lib/node_modules/deno/deno" \
  -e"$lib/driver/linux/build/libprocrec.so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "build_deb: dpkg-shlibdeps found no dependencies" >&2; exit 2; }
installed_size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: procrec
Version: $deb_version
Architecture: amd64
Maintainer: procrec developers <procrec@example.org>
Installed-Size: $installed_size
Depends: $depends, init-system-helpers (>= 1.52)
Recommends: systemd
Section: admin
Priority: optional
Homepage: https://procrec.invalid/
Description: forensic recorder and replayer of process lifecycles
 procrec records, from the kernel (eBPF or the netlink proc connector),
 every process creation, exec, exit, thread creation and thread exit of
 a host into append-only, hash-chained CBOR recordings; replays them
 into process trees, diffs two deterministically, and packages them as
 signed evidence bundles. The procrec service runs it as a flight
 recorder: rotated segments in /var/lib/procrec, kept for a set time.
CONTROL
echo /etc/default/procrec >"$pkg/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$pkg/DEBIAN/"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
  xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums" "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles"

deb="$out/procrec_${deb_version}_amd64.deb"
dpkg-deb --root-owner-group -Z"${PROCREC_DEB_COMPRESS:-xz}" --build "$pkg" "$deb" >/dev/null
echo "$deb"
