// Wide floating-point scratch arithmetic for the x87 transcendental instructions (trans.ts): values with a
// 128-bit significand, so that a result rounded once to 64 bits is almost always the correctly rounded one.
//
// A wide value lives in a 32-byte slot of a static scratch area (no allocation); operations take slot
// addresses and may write a slot they also read:
//
//   offset  0: hi   u64  significand bits 127..64, bit 63 of hi set unless the value is zero
//   offset  8: lo   u64  significand bits 63..0
//   offset 16: e    i32  exponent of the leading bit: value = hi:lo × 2^(e - 127)
//   offset 20: neg  u32  1 for a negative value
//
// Slots 14 and 15 are this file's own temporaries; callers use slots 0..13.
// Arithmetic truncates to 128 bits (an error below 2^-126 relative per operation) and jams what it drops
// into bit 0, so that a value that differs from a 64-bit number by less than 2^-128 still lies on the right
// side of it; that is enough for the 64-bit results of trans.ts, which round once at the end.

import { EXP_BIAS, FLAG_PE, FLAG_UE, J_BIT, resSE, normE, normS, normalize, signOf } from "./f80";
import { roundPack } from "./round";
import { add128, clz128, lt128, mul64, shl128, shr128, shr128Jam, sub128, wHi, wLo } from "./u128";

const SLOT: usize = 32;
const SLOTS: i32 = 16;
const SCRATCH: usize = memory.data(<i32>SLOT * SLOTS);
/** Exponent of zero: below everything, so that alignment treats it as negligible. */
const ZERO_E: i32 = -0x4000_0000;

/** The address of scratch slot i (0 ≤ i < 16). */
@inline export function slot(i: i32): usize {
  return SCRATCH + <usize>i * SLOT;
}

@inline export function wHiOf(p: usize): u64 {
  return load<u64>(p, 0);
}
@inline export function wLoOf(p: usize): u64 {
  return load<u64>(p, 8);
}
@inline export function wExp(p: usize): i32 {
  return load<i32>(p, 16);
}
@inline export function wNeg(p: usize): u32 {
  return load<u32>(p, 20);
}
@inline export function wIsZero(p: usize): bool {
  return wHiOf(p) == 0;
}

/** Stores a value, normalizing hi:lo (which may be unnormalized or zero). */
export function wSet(d: usize, hi: u64, lo: u64, e: i32, neg: u32): void {
  if (hi == 0 && lo == 0) {
    store<u64>(d, 0, 0);
    store<u64>(d, 0, 8);
    store<i32>(d, ZERO_E, 16);
    store<u32>(d, 0, 20);
    return;
  }
  const n = clz128(hi, lo);
  shl128(hi, lo, n);
  store<u64>(d, wHi, 0);
  store<u64>(d, wLo, 8);
  store<i32>(d, e - <i32>n, 16);
  store<u32>(d, neg, 20);
}

@inline export function wCopy(d: usize, a: usize): void {
  memory.copy(d, a, SLOT);
}

/** d = the extended value (sig, se), which must be finite. */
export function wFromF80(d: usize, sig: u64, se: u32): void {
  if (sig == 0) {
    wSet(d, 0, 0, 0, 0);
    return;
  }
  normalize(sig, se);
  wSet(d, normS, 0, normE - EXP_BIAS, signOf(se) != 0 ? 1 : 0);
}

/** d = n, a small integer. */
export function wFromInt(d: usize, n: i64): void {
  const mag: u64 = n < 0 ? <u64>-n : <u64>n;
  wSet(d, mag, 0, 127 - 64, n < 0 ? 1 : 0);
}

@inline export function wNegate(d: usize, a: usize): void {
  wCopy(d, a);
  if (!wIsZero(d)) store<u32>(d, wNeg(d) ^ 1, 20);
}

/** d = a × 2^k */
@inline export function wScale(d: usize, a: usize, k: i32): void {
  wCopy(d, a);
  if (!wIsZero(d)) store<i32>(d, wExp(d) + k, 16);
}

/** d = a + b */
export function wAdd(d: usize, a: usize, b: usize): void {
  if (wIsZero(b)) {
    wCopy(d, a);
    return;
  }
  if (wIsZero(a)) {
    wCopy(d, b);
    return;
  }
  let aHi = wHiOf(a);
  let aLo = wLoOf(a);
  let ae = wExp(a);
  let an = wNeg(a);
  let bHi = wHiOf(b);
  let bLo = wLoOf(b);
  let be = wExp(b);
  let bn = wNeg(b);
  if (be > ae || (be == ae && lt128(aHi, aLo, bHi, bLo))) {
    let t = aHi; aHi = bHi; bHi = t;
    t = aLo; aLo = bLo; bLo = t;
    const te = ae; ae = be; be = te;
    const tn = an; an = bn; bn = tn;
  }
  // work one bit down so that a carry has room: value = hi:lo × 2^(ae - 126)
  shr128(aHi, aLo, 1);
  aHi = wHi;
  aLo = wLo;
  // jamming keeps the direction of a negligible b: 1 - 2^-200 stays below 1
  shr128Jam(bHi, bLo, <u32>min(ae - be + 1, 200));
  if (an == bn) add128(aHi, aLo, wHi, wLo);
  else sub128(aHi, aLo, wHi, wLo);
  wSet(d, wHi, wLo, ae + 1, an);
}

/** d = a - b */
export function wSub(d: usize, a: usize, b: usize): void {
  const t = slot(SLOTS - 1);
  wNegate(t, b);
  wAdd(d, a, t);
}

/** d = a × b (the high 128 bits of the 256-bit product) */
export function wMul(d: usize, a: usize, b: usize): void {
  if (wIsZero(a) || wIsZero(b)) {
    wSet(d, 0, 0, 0, 0);
    return;
  }
  const aHi = wHiOf(a);
  const aLo = wLoOf(a);
  const bHi = wHiOf(b);
  const bLo = wLoOf(b);
  const e = wExp(a) + wExp(b);
  const neg = wNeg(a) ^ wNeg(b);
  mul64(aHi, bHi);
  let hi = wHi;
  let lo = wLo;
  mul64(aHi, bLo);
  const c1 = wHi;
  let sticky = wLo;
  mul64(aLo, bHi);
  const c2 = wHi;
  sticky |= wLo | (aLo != 0 && bLo != 0 ? 1 : 0);
  add128(hi, lo, 0, c1);
  add128(wHi, wLo, 0, c2);
  hi = wHi;
  lo = wLo | <u64>(sticky != 0);
  // the product of two [1, 2) significands is in [1, 4): bit 127 of hi:lo stands for 2^(e+1)
  wSet(d, hi, lo, e + 1, neg);
}

/** d = a / b, b nonzero (restoring division, 128 quotient bits) */
export function wDiv(d: usize, a: usize, b: usize): void {
  if (wIsZero(a)) {
    wSet(d, 0, 0, 0, 0);
    return;
  }
  let rHi = wHiOf(a);
  let rLo = wLoOf(a);
  const bHi = wHiOf(b);
  const bLo = wLoOf(b);
  let e = wExp(a) - wExp(b);
  const neg = wNeg(a) ^ wNeg(b);
  if (lt128(rHi, rLo, bHi, bLo)) e--;
  let qHi: u64 = 0;
  let qLo: u64 = 0;
  let top: u64 = 0; // bit 128 of the remainder after a doubling
  let first = true;
  for (let i = 0; i < 128; i++) {
    if (!first || lt128(rHi, rLo, bHi, bLo)) {
      top = rHi >> 63;
      rHi = (rHi << 1) | (rLo >> 63);
      rLo <<= 1;
    }
    first = false;
    qHi = (qHi << 1) | (qLo >> 63);
    qLo <<= 1;
    if (top != 0 || !lt128(rHi, rLo, bHi, bLo)) {
      sub128(rHi, rLo, bHi, bLo);
      rHi = wHi;
      rLo = wLo;
      qLo |= 1;
    }
    top = 0;
  }
  wSet(d, qHi, qLo | <u64>((rHi | rLo) != 0), e, neg);
}

/** d = a / n for a small positive integer n (below 2^32) */
export function wDivSmall(d: usize, a: usize, n: u32): void {
  if (wIsZero(a)) {
    wCopy(d, a);
    return;
  }
  const hi = wHiOf(a);
  const lo = wLoOf(a);
  const m = <u64>n;
  let r: u64 = 0;
  let q3: u64, q2: u64, q1: u64, q0: u64;
  let cur = hi >> 32;
  q3 = cur / m;
  r = cur % m;
  cur = (r << 32) | (hi & 0xffff_ffff);
  q2 = cur / m;
  r = cur % m;
  cur = (r << 32) | (lo >> 32);
  q1 = cur / m;
  r = cur % m;
  cur = (r << 32) | (lo & 0xffff_ffff);
  q0 = cur / m;
  r = cur % m;
  // the quotient has lost up to 32 leading bits: carry on with 32 more bits of fraction
  const q4 = (r << 32) / m;
  const qHi = (q3 << 32) | q2;
  const qLo = (q1 << 32) | q0;
  const n0 = clz128(qHi, qLo);
  shl128(qHi, qLo, n0);
  const shifted = wLo | (n0 > 0 ? (q4 << 32) >> (64 - n0) : 0);
  wSet(d, wHi, shifted, wExp(a) - <i32>n0, wNeg(a));
}

/** d = 1 - a: common in the Horner schemes below */
export function wOneMinus(d: usize, a: usize): void {
  const one = slot(SLOTS - 2);
  wSet(one, J_BIT, 0, 0, 0);
  wSub(d, one, a);
}

/** d = 1 + a */
export function wOnePlus(d: usize, a: usize): void {
  const one = slot(SLOTS - 2);
  wSet(one, J_BIT, 0, 0, 0);
  wAdd(d, one, a);
}

/** Rounds a wide value to an extended register (resSig/resSE) with cw.RC and 64 bits; returns the
 *  status bits of the rounding (UE, OE, C1) and always PE: a wide value approximates an irrational one. */
export function wToF80(a: usize, cw: u32): u32 {
  const flags = FLAG_PE | roundPack(wNeg(a), wExp(a) + EXP_BIAS, wHiOf(a), wLoOf(a), cw, 64);
  // a tiny result is inexact too, even when its 128 bits happen to fit the denormal
  return (resSE & 0x7fff) == 0 && (cw & FLAG_UE) != 0 ? flags | FLAG_UE : flags;
}
