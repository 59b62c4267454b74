#!/usr/bin/env bash
# CI check: rebuild the oracle, regenerate the host-diff fixtures into a temp dir and
# compare them with the committed ones. Seeds are fixed, so on the host CPU that made the
# fixtures the output is identical. On another CPU the undefined flags/bits (masked in
# the vectors) and the x87 transcendental results may differ: the script then falls back
# to compare.mjs, which ignores masked state and only warns about x87-trans.
# Skips (exit 0) where 32-bit user code cannot be built or run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../test/fixtures/host-diff
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! printf 'int main(void){return 0;}\n' | gcc -m32 -x c - -o "$tmp/probe" 2>/dev/null || ! "$tmp/probe"; then
  echo "ci-regenerate: skipped: gcc -m32 cannot build or run 32-bit programs here (apt-get install gcc-multilib)"
  exit 0
fi
make -C "$here" --no-print-directory >/dev/null
node "$here/generate.mjs" --out "$tmp/fresh" >/dev/null

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
