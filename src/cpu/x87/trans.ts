// x87 transcendental instructions and constants: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1,
// FLDPI/FLDL2T/FLDL2E/FLDLG2/FLDLN2 (SDM Vol. 1 8.3.8-8.3.10, Vol. 2 the instruction pages and their
// operand tables).
//
// API (operands as (sig, se) pairs, see f80.ts; results in resSig/resSE, status bits returned):
//   f80Sin(sig, se, cw): u32        FSIN
//   f80Cos(sig, se, cw): u32        FCOS
//   f80SinCos(sig, se, cw): u32     FSINCOS: resSig/resSE = sine (the new ST(1)), res2Sig/res2SE = cosine
//                                   (the new ST(0))
//   f80Tan(sig, se, cw): u32        FPTAN: resSig/resSE = tangent (the new ST(1)), res2 = +1.0 (pushed)
//       These four return C2 = 1 for |x| ≥ 2^63 and leave the operand in resSig/resSE: the instruction
//       then changes nothing and pushes nothing (SDM FSIN: "source operand out of range").
//   f80Atan(ySig, ySE, xSig, xSE, cw): u32      FPATAN: arctan(y / x) in the quadrant of (x, y),
//                                   y = ST(1), x = ST(0); the result replaces ST(1)
//   f80F2xm1(sig, se, cw): u32      F2XM1: 2^x - 1, for -1 ≤ x ≤ 1 (outside that range the SDM leaves the
//                                   result undefined; the FPU returns x with PE, and so does this)
//   f80Yl2x(xSig, xSE, ySig, ySE, cw): u32      FYL2X: y × log2(x), x = ST(0), y = ST(1)
//   f80Yl2xp1(xSig, xSE, ySig, ySE, cw): u32    FYL2XP1: y × log2(x + 1); beyond the SDM's range
//                                   (|x| < 1 - sqrt(2)/2) like the FPU: y × log2(x + 1) for x > -1, else x
//   f80Const(which, cw): u32        the constant `which` (Const.*) rounded with cw.RC, as the FLD
//                                   constant instructions do since the 486; no status bits
//
// Accuracy: every function evaluates in the 128-bit arithmetic of wide.ts and rounds once with cw.RC to 64
// bits (precision control does not apply, SDM 8.1.5.2). Like the hardware, the sine, cosine and tangent
// reduce their argument with the 66-bit approximation of π the x87 uses (SDM 8.3.10: "an internal value
// of π that has a 66-bit mantissa"), exactly, so that results near multiples of π/2 match the FPU's.

import {
  C_1, C_2, CW_PC_SHIFT, Cls, EXP_BIAS, FLAG_DE, FLAG_PE, FLAG_UE, FLAG_ZE, J_BIT, PC_64, SIGN_BIT, classify,
  isNaNCls, normE, normS, normalize, propagateNaN, resSE, resSig, setIndefinite, setRes, setRes2, signOf,
} from "./f80";
import { f80Mul } from "./arith";
import { lt128, sub128, wHi, wLo } from "./u128";
import {
  slot, wAdd, wCopy, wDiv, wDivSmall, wExp, wFromF80, wFromInt, wHiOf, wLoOf, wMul, wNegate, wOneMinus,
  wOnePlus, wScale, wSet, wSub, wToF80,
} from "./wide";

/** The constants of FLDPI, FLDL2T, FLDL2E, FLDLG2 and FLDLN2, in that order. */
export const enum Const {
  Pi,
  Log2Ten,
  Log2E,
  Log10Two,
  LnTwo,
}

// Scratch slots of wide.ts used here (0..13 are the caller's).
const R: usize = slot(0); // reduced argument
const S: usize = slot(1); // its square
const ACC: usize = slot(2); // Horner accumulator
const T: usize = slot(3);
const U: usize = slot(4);
const V: usize = slot(5);
const RES: usize = slot(6);
const RES2: usize = slot(7);
const ONE: usize = slot(8);

// 128-bit constants, rounded to nearest: hi:lo × 2^(e - 127)
function wConst(d: usize, which: i32): void {
  switch (which) {
    case Const.Pi:
      wSet(d, 0xc90f_daa2_2168_c234, 0xc4c6_628b_80dc_1cd1, 1, 0);
      break;
    case Const.Log2Ten:
      wSet(d, 0xd49a_784b_cd1b_8afe, 0x492b_f6ff_4daf_db4d, 1, 0);
      break;
    case Const.Log2E:
      wSet(d, 0xb8aa_3b29_5c17_f0bb, 0xbe87_fed0_691d_3e89, 0, 0);
      break;
    case Const.Log10Two:
      wSet(d, 0x9a20_9a84_fbcf_f798, 0x8f89_59ac_0b7c_9178, -2, 0);
      break;
    default:
      wSet(d, 0xb172_17f7_d1cf_79ab, 0xc9e3_b398_03f2_f6af, -1, 0);
  }
}

export function f80Const(which: u32, cw: u32): u32 {
  wConst(RES, <i32>which);
  wToF80(RES, cw);
  return 0;
}

@inline function setOne(d: usize): void {
  wSet(d, J_BIT, 0, 0, 0);
}

// ---- sine, cosine, tangent ----

/** π as the x87 reduces with it: π × 2^64 truncated to an integer of 66 bits (0x3_243F6A88_85A308D3). */
const P66_HI: u64 = 0x3;
const P66_LO: u64 = 0x243f_6a88_85a3_08d3;
const CW_PC_64: u32 = PC_64 << CW_PC_SHIFT;

/** The FPU's trigonometric instructions accept |x| < 2^63. */
const TRIG_MAX_EXP: i32 = 63;

/** Reduces |x| (finite, nonzero, |x| < 2^63) by multiples of P/2, P the 66-bit π: R = |x| - q × P/2 with
 *  |R| ≤ P/4, computed exactly by long division. Returns q mod 4. */
function reduce(sig: u64, se: u32): u32 {
  normalize(sig, se);
  const e = normE - EXP_BIAS;
  if (e < -1) {
    // |x| < 1/2 < P/4
    wSet(R, normS, 0, e, 0);
    return 0;
  }
  // |x| in units of 2^-65 is normS × 2^(e + 2); P/2 in those units is P66
  let rHi: u64 = 0;
  let rLo = normS;
  let q: u32 = 0;
  for (let i = 0; i < e + 2; i++) {
    rHi = (rHi << 1) | (rLo >> 63);
    rLo <<= 1;
    q <<= 1;
    if (!lt128(rHi, rLo, P66_HI, P66_LO)) {
      sub128(rHi, rLo, P66_HI, P66_LO);
      rHi = wHi;
      rLo = wLo;
      q |= 1;
    }
  }
  // round the quotient to nearest: R in [-P/4, P/4]
  const twiceHi = (rHi << 1) | (rLo >> 63);
  const twiceLo = rLo << 1;
  if (lt128(P66_HI, P66_LO, twiceHi, twiceLo)) {
    sub128(P66_HI, P66_LO, rHi, rLo);
    wSet(R, wHi, wLo, 127 - 65, 1);
    return (q + 1) & 3;
  }
  wSet(R, rHi, rLo, 127 - 65, 0);
  return q & 3;
}

/** d = sin(r) for |r| ≤ π/4: r × (1 - r²/(2·3) × (1 - r²/(4·5) × (...))) */
function sinSeries(d: usize, r: usize): void {
  wMul(S, r, r);
  setOne(ACC);
  for (let k: u32 = 16; k >= 1; k--) {
    wMul(ACC, ACC, S);
    wDivSmall(ACC, ACC, (2 * k) * (2 * k + 1));
    wOneMinus(ACC, ACC);
  }
  wMul(d, r, ACC);
}

/** d = cos(r) for |r| ≤ π/4: 1 - r²/(1·2) × (1 - r²/(3·4) × (...)) */
function cosSeries(d: usize, r: usize): void {
  wMul(S, r, r);
  setOne(ACC);
  for (let k: u32 = 16; k >= 1; k--) {
    wMul(ACC, ACC, S);
    wDivSmall(ACC, ACC, (2 * k - 1) * (2 * k));
    wOneMinus(ACC, ACC);
  }
  wCopy(d, ACC);
}


/** sin (wantSin) or cos of x = (sig, se), finite nonzero and in range, into d. */
function trig(d: usize, sig: u64, se: u32, wantSin: bool): void {
  const q = reduce(sig, se) + (wantSin ? 0 : 1); // cos(x) = sin(x + π/2)
  if ((q & 1) == 0) sinSeries(d, R);
  else cosSeries(d, R);
  let neg = (q & 2) != 0;
  if (wantSin && signOf(se) != 0) neg = !neg; // sin is odd, cos even
  if (neg) wNegate(d, d);
}

/** Shared checks of FSIN/FCOS/FSINCOS/FPTAN. Returns -1 to go on, or the status when the result is set. */
function trigSpecial(sig: u64, se: u32): i32 {
  const c = classify(sig, se);
  if (c == Cls.Unsupported || c == Cls.Inf) return <i32>setIndefinite();
  if (isNaNCls(c)) return <i32>propagateNaN(sig, se, c, 0, 0, Cls.Zero);
  if (c != Cls.Zero && c != Cls.Denormal && <i32>(se & 0x7fff) - EXP_BIAS >= TRIG_MAX_EXP) {
    setRes(sig, se);
    return <i32>C_2;
  }
  return -1;
}

export function f80Sin(sig: u64, se: u32, cw: u32): u32 {
  const s = trigSpecial(sig, se);
  if (s >= 0) return <u32>s;
  const c = classify(sig, se);
  if (c == Cls.Zero) {
    setRes(sig, se);
    return 0;
  }
  trig(RES, sig, se, true);
  return (c == Cls.Denormal ? FLAG_DE : 0) | wToF80(RES, cw);
}

export function f80Cos(sig: u64, se: u32, cw: u32): u32 {
  const s = trigSpecial(sig, se);
  if (s >= 0) return <u32>s;
  const c = classify(sig, se);
  if (c == Cls.Zero) {
    setRes(J_BIT, <u32>EXP_BIAS);
    return 0;
  }
  trig(RES, sig, se, false);
  return (c == Cls.Denormal ? FLAG_DE : 0) | wToF80(RES, cw);
}

export function f80SinCos(sig: u64, se: u32, cw: u32): u32 {
  const s = trigSpecial(sig, se);
  if (s >= 0) {
    if ((<u32>s & C_2) == 0) setRes2(resSig, resSE);
    return <u32>s;
  }
  const c = classify(sig, se);
  if (c == Cls.Zero) {
    setRes(sig, se);
    setRes2(J_BIT, <u32>EXP_BIAS);
    return 0;
  }
  trig(RES, sig, se, true);
  trig(RES2, sig, se, false);
  const fc = wToF80(RES2, cw);
  setRes2(resSig, resSE);
  const fs = wToF80(RES, cw);
  return (c == Cls.Denormal ? FLAG_DE : 0) | fs | (fc & ~C_1);
}

export function f80Tan(sig: u64, se: u32, cw: u32): u32 {
  const s = trigSpecial(sig, se);
  if (s >= 0) {
    if ((<u32>s & C_2) == 0) setRes2(resSig, resSE); // a NaN result goes to both registers
    return <u32>s;
  }
  const c = classify(sig, se);
  setRes2(J_BIT, <u32>EXP_BIAS);
  if (c == Cls.Zero) {
    setRes(sig, se);
    return 0;
  }
  const q = reduce(sig, se);
  sinSeries(U, R);
  cosSeries(V, R);
  if ((q & 1) == 0) wDiv(RES, U, V);
  else {
    wDiv(RES, V, U);
    wNegate(RES, RES);
  }
  if (signOf(se) != 0) wNegate(RES, RES);
  return (c == Cls.Denormal ? FLAG_DE : 0) | wToF80(RES, cw);
}


// ---- arctangent ----

/** d = atan(t) for 0 ≤ t ≤ 1. Above tan(π/8), atan(t) = π/4 + atan((t - 1) / (t + 1)); then the Taylor
 *  series u × Σ (-u²)^k / (2k + 1) on |u| ≤ tan(π/8). */
function atanUnit(d: usize, t: usize): void {
  setOne(ONE);
  wCopy(U, t);
  let addQuarterPi = false;
  // tan(π/8) = (sqrt(2) - 1) = 0xD413CCCFE7799211_65F626CDD52AFA7C × 2^(-2 - 127)
  const te = wExp(t);
  if (te > -2 || (te == -2 && !lt128(wHiOf(t), wLoOf(t), 0xd413_cccf_e779_9211, 0x65f6_26cd_d52a_fa7c))) {
    wSub(T, t, ONE);
    wAdd(V, t, ONE);
    wDiv(U, T, V);
    addQuarterPi = true;
  }
  wMul(S, U, U);
  wSet(ACC, 0, 0, 0, 0);
  for (let k: i32 = 50; k >= 0; k--) {
    wMul(ACC, ACC, S);
    wNegate(ACC, ACC);
    wDivSmall(T, ONE, <u32>(2 * k + 1));
    wAdd(ACC, ACC, T);
  }
  wMul(d, U, ACC);
  if (addQuarterPi) {
    wConst(T, Const.Pi);
    wScale(T, T, -2);
    wAdd(d, d, T);
  }
}


/** RES = k × π/4 with the sign `neg` (k = 0..4). */
function quarterPi(k: i32, neg: bool): void {
  wConst(RES, Const.Pi);
  wScale(RES, RES, -2);
  wFromInt(T, k);
  wMul(RES, RES, T);
  if (neg) wNegate(RES, RES);
}

export function f80Atan(ySig: u64, ySE: u32, xSig: u64, xSE: u32, cw: u32): u32 {
  const cy = classify(ySig, ySE);
  const cx = classify(xSig, xSE);
  if (cy == Cls.Unsupported || cx == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(cy) || isNaNCls(cx)) return propagateNaN(ySig, ySE, cy, xSig, xSE, cx);
  const de: u32 = cy == Cls.Denormal || cx == Cls.Denormal ? FLAG_DE : 0;
  const yNeg = signOf(ySE) != 0;
  const xNeg = signOf(xSE) != 0;
  // SDM FPATAN table: zeros and infinities
  if (cy == Cls.Zero) {
    if (!xNeg) {
      setRes(0, ySE & SIGN_BIT);
      return de;
    }
    quarterPi(4, yNeg);
    return de | wToF80(RES, cw);
  }
  if (cy == Cls.Inf) {
    quarterPi(cx == Cls.Inf ? (xNeg ? 3 : 1) : 2, yNeg);
    return de | wToF80(RES, cw);
  }
  if (cx == Cls.Zero) {
    quarterPi(2, yNeg);
    return de | wToF80(RES, cw);
  }
  if (cx == Cls.Inf) {
    if (!xNeg) {
      setRes(0, ySE & SIGN_BIT);
      return de;
    }
    quarterPi(4, yNeg);
    return de | wToF80(RES, cw);
  }
  // |y| / |x| or its inverse, whichever is at most 1
  wFromF80(U, ySig, ySE & 0x7fff);
  wFromF80(V, xSig, xSE & 0x7fff);
  const swap = wExp(U) > wExp(V) || (wExp(U) == wExp(V) && lt128(wHiOf(V), wLoOf(V), wHiOf(U), wLoOf(U)));
  if (swap) wDiv(R, V, U);
  else wDiv(R, U, V);
  atanUnit(RES2, R);
  if (swap) {
    // atan(t) = π/2 - atan(1/t)
    wConst(T, Const.Pi);
    wScale(T, T, -1);
    wSub(RES2, T, RES2);
  }
  if (xNeg) {
    wConst(T, Const.Pi);
    wSub(RES2, T, RES2);
  }
  if (yNeg) wNegate(RES2, RES2);
  return de | wToF80(RES2, cw);
}

// ---- 2^x - 1 ----

export function f80F2xm1(sig: u64, se: u32, cw: u32): u32 {
  const c = classify(sig, se);
  if (c == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(c)) return propagateNaN(sig, se, c, 0, 0, Cls.Zero);
  if (c == Cls.Zero) {
    setRes(sig, se);
    return 0;
  }
  if (c == Cls.Inf) {
    // 2^+inf - 1 = +inf, 2^-inf - 1 = -1
    if (signOf(se) != 0) setRes(J_BIT, SIGN_BIT | <u32>EXP_BIAS);
    else setRes(sig, se);
    return 0;
  }
  const de: u32 = c == Cls.Denormal ? FLAG_DE : 0;
  if (<i32>(se & 0x7fff) > EXP_BIAS || ((se & 0x7fff) == <u32>EXP_BIAS && sig != J_BIT)) {
    // |x| > 1, outside the range of the SDM: the FPU leaves the operand and reports PE
    setRes(sig, se);
    return FLAG_PE;
  }
  // z = x ln 2; expm1(z) = z (1 + z/2 (1 + z/3 (1 + ...)))
  wFromF80(T, sig, se);
  wConst(U, Const.LnTwo);
  wMul(R, T, U);
  setOne(ACC);
  for (let k: u32 = 40; k >= 2; k--) {
    wMul(ACC, ACC, R);
    wDivSmall(ACC, ACC, k);
    wOnePlus(ACC, ACC);
  }
  wMul(RES, R, ACC);
  return de | wToF80(RES, cw);
}

// ---- logarithms ----

/** d = ln(1 + u) / 2 = atanh(s) with s = u / (2 + u) given in slot s: s × Σ s^2k / (2k + 1). */
function atanhSeries(d: usize, s: usize): void {
  setOne(ONE);
  wMul(S, s, s);
  wSet(ACC, 0, 0, 0, 0);
  for (let k: i32 = 30; k >= 0; k--) {
    wMul(ACC, ACC, S);
    wDivSmall(T, ONE, <u32>(2 * k + 1));
    wAdd(ACC, ACC, T);
  }
  wMul(d, s, ACC);
}

/** RES = log2(x) for x > 0 in slot X (not a power of two, or the result is not exact). */
function log2Wide(x: usize): void {
  let e = wExp(x);
  // m in [1, 2), moved to [sqrt(1/2), sqrt(2)) so that s = (m - 1)/(m + 1) stays below 0.172
  let me: i32 = 0;
  if (!lt128(wHiOf(x), wLoOf(x), 0xb504_f333_f9de_6484, 0x597d_89b3_754a_be9f)) {
    me = -1;
    e++;
  }
  wSet(U, wHiOf(x), wLoOf(x), me, 0);
  setOne(ONE);
  wSub(T, U, ONE);
  wAdd(V, U, ONE);
  wDiv(R, T, V);
  atanhSeries(RES, R);
  // log2(m) = 2 atanh(s) × log2(e)
  wConst(T, Const.Log2E);
  wMul(RES, RES, T);
  wScale(RES, RES, 1);
  wFromInt(T, e);
  wAdd(RES, RES, T);
}

/** The status of a finite nonzero result computed exactly that the FPU reports as inexact: PE, and UE
 *  when the result in resSig/resSE is tiny (a denormal). */
function inexact(flags: u32): u32 {
  if ((resSE & 0x7fff) == 0x7fff || resSig == 0) return flags;
  return flags | FLAG_PE | ((resSE & 0x7fff) == 0 ? FLAG_UE : 0);
}

/** Is (sig, se), finite and nonzero, a power of two? Then normE - bias is its log2. */
@inline function powerOfTwo(sig: u64, se: u32): bool {
  normalize(sig, se);
  return normS == J_BIT;
}

/** The exponent `e` as an extended value in (eSig, eSE). */
let eSig: u64 = 0;
let eSE: u32 = 0;
function intToF80(e: i32): void {
  if (e == 0) {
    eSig = 0;
    eSE = 0;
    return;
  }
  const mag = <u64>(e < 0 ? -e : e);
  const shift = <i32>clz(mag);
  eSig = mag << shift;
  eSE = (e < 0 ? SIGN_BIT : 0) | <u32>(EXP_BIAS + 63 - shift);
}

export function f80Yl2x(xSig: u64, xSE: u32, ySig: u64, ySE: u32, cw: u32): u32 {
  const cx = classify(xSig, xSE);
  const cy = classify(ySig, ySE);
  if (cx == Cls.Unsupported || cy == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(cx) || isNaNCls(cy)) return propagateNaN(xSig, xSE, cx, ySig, ySE, cy);
  const de: u32 = cx == Cls.Denormal || cy == Cls.Denormal ? FLAG_DE : 0;
  const xNeg = signOf(xSE) != 0;
  const yS = signOf(ySE);
  if (cx == Cls.Zero) {
    // log2(±0) = -inf: ZE for a finite nonzero y, invalid for y = 0
    if (cy == Cls.Zero) return setIndefinite();
    setRes(J_BIT, (yS ^ SIGN_BIT) | 0x7fff);
    return cy == Cls.Inf ? 0 : FLAG_ZE;
  }
  if (xNeg) return setIndefinite();
  if (cx == Cls.Inf) {
    if (cy == Cls.Zero) return setIndefinite();
    setRes(J_BIT, yS | 0x7fff);
    return de;
  }
  if (powerOfTwo(xSig, xSE)) {
    // log2(x) is an integer: one exact multiplication (which also handles y = 0 and infinite y)
    intToF80(normE - EXP_BIAS);
    const f = f80Mul(ySig, ySE, eSig, eSE, cw | CW_PC_64);
    // the FPU reports PE for every finite nonzero result, exact or not, and so UE for a tiny one
    return de | inexact(f);
  }
  normalize(xSig, xSE);
  const below1 = normE < EXP_BIAS;
  if (cy == Cls.Zero) {
    setRes(0, below1 ? yS ^ SIGN_BIT : yS);
    return de;
  }
  if (cy == Cls.Inf) {
    setRes(J_BIT, (below1 ? yS ^ SIGN_BIT : yS) | 0x7fff);
    return de;
  }
  wFromF80(RES2, xSig, xSE);
  log2Wide(RES2);
  wFromF80(T, ySig, ySE);
  wMul(RES, RES, T);
  return de | wToF80(RES, cw);
}

export function f80Yl2xp1(xSig: u64, xSE: u32, ySig: u64, ySE: u32, cw: u32): u32 {
  const cx = classify(xSig, xSE);
  const cy = classify(ySig, ySE);
  if (cx == Cls.Unsupported || cy == Cls.Unsupported) return setIndefinite();
  if (isNaNCls(cx) || isNaNCls(cy)) return propagateNaN(xSig, xSE, cx, ySig, ySE, cy);
  const de: u32 = cx == Cls.Denormal || cy == Cls.Denormal ? FLAG_DE : 0;
  const sx = signOf(xSE);
  const sy = signOf(ySE);
  if (cx == Cls.Zero) {
    // log2(1 ± 0) = ±0: y × ±0 (invalid for an infinite y)
    if (cy == Cls.Inf) return setIndefinite();
    setRes(0, sx ^ sy);
    return de;
  }
  if (cx == Cls.Inf) {
    if (sx != 0 || cy == Cls.Zero) return setIndefinite();
    setRes(J_BIT, sy | 0x7fff);
    return de;
  }
  if (cy == Cls.Zero) {
    setRes(0, sx ^ sy);
    return de;
  }
  if (cy == Cls.Inf) {
    setRes(J_BIT, (sx ^ sy) | 0x7fff);
    return de;
  }
  if (<i32>(xSE & 0x7fff) >= EXP_BIAS - 2) {
    // |x| ≥ 1/4, beyond the SDM's range (|x| < 1 - sqrt(2)/2): the FPU still returns y × log2(1 + x)
    if (sx != 0 && <i32>(xSE & 0x7fff) >= EXP_BIAS) {
      // x ≤ -1: the FPU leaves x as the result and reports PE
      setRes(xSig, xSE);
      return de | FLAG_PE;
    }
    wFromF80(U, xSig, xSE);
    setOne(ONE);
    wAdd(RES2, ONE, U);
    log2Wide(RES2);
  } else {
    // s = x / (2 + x); log2(1 + x) = 2 atanh(s) log2(e)
    wFromF80(U, xSig, xSE);
    wFromInt(T, 2);
    wAdd(V, T, U);
    wDiv(R, U, V);
    atanhSeries(RES, R);
    wConst(T, Const.Log2E);
    wMul(RES, RES, T);
    wScale(RES, RES, 1);
  }
  wFromF80(T, ySig, ySE);
  wMul(RES, RES, T);
  return de | wToF80(RES, cw);
}
