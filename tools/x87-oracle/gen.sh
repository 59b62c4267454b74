#!/bin/sh
# Regenerates test/fixtures/x87/*.jsonl.gz from the host FPU. See README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../test/fixtures/x87"
bin=$(mktemp -d)/oracle
gcc -O2 -Wall -Wextra -o "$bin" "$here/oracle.c"
mkdir -p "$out"
# operation and number of random operands (the specials, or all pairs of them, come on top)
while read -r op count; do
  "$bin" "$op" "$count" | gzip -9n > "$out/$op.jsonl.gz"
done <<'LIST'
add 5000
sub 3000
mul 5000
div 5000
sqrt 3000
prem 4000
prem1 4000
scale 2000
rndint 3000
xtract 1000
sin 3000
cos 3000
sincos 2000
ptan 3000
patan 3000
f2xm1 3000
yl2x 3000
yl2xp1 3000
com 1000
ucom 1000
tst 500
xam 1000
st_f32 3000
st_f64 3000
st_i16 2000
st_i32 2000
st_i64 2000
stt_i16 1000
stt_i32 1000
stt_i64 1000
st_bcd 3000
ld_f32 3000
ld_f64 3000
ld_i16 500
ld_i32 500
ld_i64 500
ld_bcd 1000
const 1
LIST
rm -r "$(dirname "$bin")"
du -ch "$out"/*.jsonl.gz | tail -1
