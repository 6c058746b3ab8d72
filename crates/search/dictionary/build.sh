#!/usr/bin/env bash
# Regenerates ipadic.dic.zst, the Japanese dictionary compiled into the search crate, from Debian's
# mecab-ipadic package (the IPADIC 2.7.0 sources, EUC-JP). Needed only to change the dictionary:
# the compiled file is committed, so a build needs nothing from here.
#   bash crates/search/dictionary/build.sh
# Requires apt-get (Debian's archive), iconv, zstd and cargo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download mecab-ipadic >/dev/null)
dpkg-deb -x "$work"/mecab-ipadic_*.deb "$work/deb"
src="$work/deb/usr/share/mecab/dic/ipadic"
mkdir "$work/utf8"
for f in "$src"/*.csv "$src"/matrix.def "$src"/char.def "$src"/unk.def; do
    iconv -f EUC-JP -t UTF-8 "$f" > "$work/utf8/$(basename "$f")"
done
cp "$work/deb/usr/share/doc/mecab-ipadic/copyright" "$here/COPYING.ipadic"
cargo run --release -p kakehashi-search --example compile_dictionary -- "$work/utf8" "$work/ipadic.dic"
zstd -19 -q -f "$work/ipadic.dic" -o "$here/ipadic.dic.zst"
ls -l "$here/ipadic.dic.zst"
