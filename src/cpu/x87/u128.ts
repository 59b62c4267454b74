// 128-bit unsigned integer helpers for the x87 softfloat. Wasm has no 64x64->128 multiply and no u128, so
// a 128-bit value is a pair (hi: u64, lo: u64) and a helper that produces one leaves it in the globals
// wHi/wLo (no allocation). Shift counts follow the mathematical meaning, not wasm's "count mod 64".

export let wHi: u64 = 0;
export let wLo: u64 = 0;

@inline function put(hi: u64, lo: u64): void {
  wHi = hi;
  wLo = lo;
}

/** a × b, the full 128-bit product. */
export function mul64(a: u64, b: u64): void {
  const a0 = a & 0xffff_ffff;
  const a1 = a >> 32;
  const b0 = b & 0xffff_ffff;
  const b1 = b >> 32;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
  put(p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32), (mid << 32) | (p00 & 0xffff_ffff));
}

/** (hi:lo) >> n, with every bit shifted out ORed into bit 0 of the result ("jamming": a sticky bit). */
export function shr128Jam(hi: u64, lo: u64, n: u32): void {
  if (n == 0) put(hi, lo);
  else if (n < 64) put(hi >> n, (hi << (64 - n)) | (lo >> n) | <u64>((lo << (64 - n)) != 0));
  else if (n == 64) put(0, hi | <u64>(lo != 0));
  else if (n < 128) put(0, (hi >> (n - 64)) | <u64>(((hi << (128 - n)) | lo) != 0));
  else put(0, <u64>((hi | lo) != 0));
}

/** (hi:lo) << n for n < 128. */
export function shl128(hi: u64, lo: u64, n: u32): void {
  if (n == 0) put(hi, lo);
  else if (n < 64) put((hi << n) | (lo >> (64 - n)), lo << n);
  else put(lo << (n - 64), 0);
}

/** (hi:lo) >> n for n < 128, bits shifted out are lost. */
export function shr128(hi: u64, lo: u64, n: u32): void {
  if (n == 0) put(hi, lo);
  else if (n < 64) put(hi >> n, (hi << (64 - n)) | (lo >> n));
  else put(0, hi >> (n - 64));
}

@inline export function add128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): void {
  const lo = aLo + bLo;
  put(aHi + bHi + <u64>(lo < aLo), lo);
}

@inline export function sub128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): void {
  put(aHi - bHi - <u64>(aLo < bLo), aLo - bLo);
}

@inline export function lt128(aHi: u64, aLo: u64, bHi: u64, bLo: u64): bool {
  return aHi < bHi || (aHi == bHi && aLo < bLo);
}

@inline export function clz128(hi: u64, lo: u64): u32 {
  return hi != 0 ? <u32>clz(hi) : 64 + <u32>clz(lo);
}
