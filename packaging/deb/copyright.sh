#!/usr/bin/env bash
# Prints the package's machine-readable debian/copyright: procrec's own MIT
# licence and, for each bundled npm package, its name, version and licence
# as its package.json declares them.
set -euo pipefail
modules="$1"
cd "$(dirname "$0")/../.."
cat <<HEAD
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: procrec
Source: the procrec repository

Files: *
Copyright: procrec developers
License: Expat

HEAD
find "$modules" -name package.json | sort | while read -r pj; do
  rel="${pj#"$modules"/}"
  # only a package's own manifest: NAME/package.json or @SCOPE/NAME/package.json
  [[ $rel =~ ^(@[^/]+/)?[^/@][^/]*/package\.json$ ]] || continue
  dir="$(dirname "$pj")"
  name="$(sed -n 's/^  "name": *"\([^"]*\)".*/\1/p' "$pj" | head -n1)"
  ver="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$pj" | head -n1)"
  lic="$(sed -n 's/^  "license": *"\([^"]*\)".*/\1/p' "$pj" | head -n1)"
  [ -n "$name" ] || continue
  case "$lic" in MIT) lic=Expat ;; esac
  printf 'Files: usr/lib/procrec/node_modules/%s/*\nComment: npm package %s %s\nCopyright: the authors of %s\nLicense: %s\n' \
    "$name" "$name" "$ver" "$name" "${lic:-other}"
  text="$(ls "$dir"/LICEN[CS]E* "$dir"/license* 2>/dev/null | head -n1 || true)"
  if [ -e "/usr/share/common-licenses/$lic" ]; then
    # Debian ships this licence's text: point at it (lintian wants no copy)
    echo " On Debian systems, the complete text of the $lic licence is in"
    echo " /usr/share/common-licenses/$lic."
  elif [ -n "$text" ]; then sed 's/^[[:space:]]*$/./; s/^/ /' "$text"; else echo " See the package's own files."; fi
  echo
done
printf 'Files: usr/lib/procrec/node_modules/deno/*\nComment: the Deno runtime, npm package deno (binary only)\nCopyright: the Deno authors\nLicense: Expat\n\n'
printf 'License: Expat\n'
sed 's/^$/./; s/^/ /' LICENSE
