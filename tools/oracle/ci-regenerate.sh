#!/usr/bin/env bash
# CI check: rebuild the oracle, regenerate the host-diff fixtures into a temp dir and
# compare them with the committed ones. Seeds are fixed, so on the host CPU that made the
# fixtures the output is identical. On another CPU the undefined flags/bits (masked in
# the vectors) and the x87 transcendental results may differ: the script then falls back
# to compare.mjs, which ignores masked state and only warns about x87-trans.
# Where 32-bit user code cannot be built or run, checks only the groups of the 64-bit oracle.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../test/fixtures/host-diff
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

only=()
if ! printf 'int main(void){return 0;}\n' | gcc -m32 -x c - -o "$tmp/probe" 2>/dev/null || ! "$tmp/probe" 2>/dev/null; then
  # No 32-bit user code here (no gcc-multilib, or a kernel without IA32 emulation): only the groups that
  # the 64-bit oracle runs can be checked.
  echo "ci-regenerate: gcc -m32 cannot build or run 32-bit programs here; checking only string-bulk (oracle64)"
  only=(--group string-bulk)
  mkdir "$tmp/committed"
  cp "$fixtures/string-bulk.jsonl.gz" "$tmp/committed/"
  fixtures=$tmp/committed
  make -C "$here" --no-print-directory oracle64 >/dev/null
else
  make -C "$here" --no-print-directory >/dev/null
fi
node "$here/generate.mjs" --out "$tmp/fresh" "${only[@]}" >/dev/null

identical=1
for f in "$fixtures"/*.jsonl.gz "$tmp"/fresh/*.jsonl.gz; do
  name=$(basename "$f")
  if ! cmp -s <(gzip -dc "$fixtures/$name" 2>/dev/null) <(gzip -dc "$tmp/fresh/$name" 2>/dev/null); then
    identical=0
  fi
done
if [ "$identical" = 1 ]; then
  echo "ci-regenerate: fixtures are identical to a fresh regeneration"
  exit 0
fi
echo "ci-regenerate: fresh fixtures differ byte-wise; comparing defined state only"
node "$here/compare.mjs" "$fixtures" "$tmp/fresh"
echo "ci-regenerate: defined state matches (host CPU differs from the one that made the fixtures)"
