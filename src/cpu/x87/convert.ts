// x87 conversions between the extended format and the memory formats: FLD/FST m32 and m64 (SDM Vol. 1
// 4.2.2, 4.8.3), FILD/FIST/FISTP/FISTTP m16/m32/m64 (4.2.1, 8.3.3), FBLD/FBSTP m80 packed BCD (4.7, 8.3.4).
//
// API (loads write resSig/resSE, stores write resMem/resMemHi; all return status bits):
//   f80FromF32(bits: u32): u32             FLD m32: SNaN -> IE and quieted, denormal -> DE, exact otherwise
//   f80FromF64(bits: u64): u32             FLD m64
//   f80FromInt(v: i64): u32                FILD m16/m32/m64 (sign-extend the memory operand): exact
//   f80FromBCD(lo: u64, hi: u32): u32      FBLD: lo = bytes 0-7 (digits 1-16), hi = bytes 8-9 (digits
//                                          17-18 and the sign in bit 15); invalid digits are undefined
//                                          by the SDM and here weigh their binary value
//   f80ToF32(sig, se, cw): u32             FST m32 with cw.RC (PC does not apply); resMem low 32 bits
//   f80ToF64(sig, se, cw): u32             FST m64
//   f80ToInt(sig, se, cw, bits, trunc): u32
//                                          FIST m16/m32/m64 (bits = 16/32/64) with cw.RC, or FISTTP with
//                                          trunc = true; out of range, NaN, infinity or unsupported -> IE and
//                                          the integer indefinite (the most negative value) in resMem
//   f80ToBCD(sig, se, cw): u32             FBSTP with cw.RC; resMem = bytes 0-7, resMemHi = bytes 8-9;
//                                          |result| > 10^18 - 1 or not a number -> IE, BCD indefinite
// For an unmasked exception on a store (SDM 8.5) the caller does not write memory; the flags tell it.
// Stores never report DE for a denormal source: the host FPU does not (the SDM lists #D for FST).

import {
  C_1, Cls, EXP_BIAS, FLAG_DE, FLAG_IE, FLAG_PE, J_BIT, QUIET_BIT, RC_ZERO, SIGN_BIT, classify,
  normE, normS, normalize, rcOf, setRes, setResMem, signOf,
} from "./f80";
import { roundUp } from "./arith";
import { rndE, rndOverflow, rndOverflowToMax, rndSig, roundToFormat } from "./round";
import { shr128Jam, wHi, wLo } from "./u128";

// ---- loads ----

/** A binary interchange format: `fracBits` fraction bits below an `expBits` exponent (bias 2^(e-1) - 1). */
@inline function fromBinary(bits: u64, fracBits: u32, expBits: u32): u32 {
  const sign: u32 = (bits >> (fracBits + expBits)) != 0 ? SIGN_BIT : 0;
  const emax: u32 = (1 << expBits) - 1;
  const e = <u32>(bits >> fracBits) & emax;
  const frac = bits & (((<u64>1) << fracBits) - 1);
  const m = frac << (63 - fracBits); // fraction aligned below J
  if (e == emax) {
    if (frac == 0) {
      setRes(J_BIT, sign | 0x7fff);
      return 0;
    }
    setRes(J_BIT | QUIET_BIT | m, sign | 0x7fff);
    return (m & QUIET_BIT) == 0 ? FLAG_IE : 0;
  }
  const bias = <i32>(emax >> 1);
  if (e == 0) {
    if (frac == 0) {
      setRes(0, sign);
      return 0;
    }
    const shift = <i32>clz(m);
    setRes(m << shift, sign | <u32>(1 - bias - shift + EXP_BIAS));
    return FLAG_DE;
  }
  setRes(J_BIT | m, sign | <u32>(<i32>e - bias + EXP_BIAS));
  return 0;
}

export function f80FromF32(bits: u32): u32 {
  return fromBinary(<u64>bits, 23, 8);
}

export function f80FromF64(bits: u64): u32 {
  return fromBinary(bits, 52, 11);
}

export function f80FromInt(v: i64): u32 {
  if (v == 0) {
    setRes(0, 0);
    return 0;
  }
  const mag: u64 = v < 0 ? <u64>-v : <u64>v;
  const shift = <i32>clz(mag);
  setRes(mag << shift, (v < 0 ? SIGN_BIT : 0) | <u32>(EXP_BIAS + 63 - shift));
  return 0;
}

export function f80FromBCD(lo: u64, hi: u32): u32 {
  let n: u64 = 0;
  for (let i = 1; i >= 0; i--) n = n * 10 + <u64>((hi >> (4 * i)) & 0xf);
  for (let i = 15; i >= 0; i--) n = n * 10 + ((lo >> (4 * <u64>i)) & 0xf);
  const sign: u32 = (hi & 0x8000) != 0 ? SIGN_BIT : 0;
  if (n == 0) {
    setRes(0, sign);
    return 0;
  }
  const shift = <i32>clz(n);
  setRes(n << shift, sign | <u32>(EXP_BIAS + 63 - shift));
  return 0;
}

// ---- floating-point stores ----

/** Store to a binary interchange format of `fracBits` fraction and `expBits` exponent bits. */
@inline function toBinary(sig: u64, se: u32, cw: u32, fracBits: u32, expBits: u32): u32 {
  const signBit: u64 = signOf(se) != 0 ? (<u64>1) << (fracBits + expBits) : 0;
  const emax: u64 = ((<u64>1) << expBits) - 1;
  const expField = emax << fracBits;
  const qbit = (<u64>1) << (fracBits - 1);
  const c = classify(sig, se);
  if (c == Cls.Unsupported) {
    setResMem(((<u64>1) << (fracBits + expBits)) | expField | qbit, 0); // the QNaN indefinite
    return FLAG_IE;
  }
  if (c == Cls.QNaN || c == Cls.SNaN) {
    // SDM 4.8.3.5: the NaN's fraction is truncated to the format, quieted
    setResMem(signBit | expField | qbit | ((sig << 1) >> (64 - fracBits)), 0);
    return c == Cls.SNaN ? FLAG_IE : 0;
  }
  if (c == Cls.Inf) {
    setResMem(signBit | expField, 0);
    return 0;
  }
  if (c == Cls.Zero) {
    setResMem(signBit, 0);
    return 0;
  }
  const bias = <i32>(emax >> 1);
  normalize(sig, se);
  const r = roundToFormat(signOf(se), normE - EXP_BIAS, normS, 0, rcOf(cw), fracBits + 1, 1 - bias, bias, cw, false);
  const fracMask = ((<u64>1) << fracBits) - 1;
  let bits: u64;
  if (rndOverflow && !rndOverflowToMax) bits = expField;
  else if ((rndSig & J_BIT) == 0) bits = rndSig >> (63 - fracBits); // denormal: exponent field 0
  else bits = (<u64>(rndE + bias) << fracBits) | ((rndSig >> (63 - fracBits)) & fracMask);
  setResMem(signBit | bits, 0);
  return r;
}

export function f80ToF32(sig: u64, se: u32, cw: u32): u32 {
  return toBinary(sig, se, cw, 23, 8);
}

export function f80ToF64(sig: u64, se: u32, cw: u32): u32 {
  return toBinary(sig, se, cw, 52, 11);
}

// ---- integer and BCD stores ----

/** Rounds a finite operand to an integer magnitude in intMag; returns its status bits (DE, PE, C1), or
 *  FLAG_IE when the magnitude does not fit in 64 bits. */
export let intMag: u64 = 0;

function toIntegerMagnitude(sig: u64, se: u32, rc: u32): u32 {
  const c = classify(sig, se);
  if (c == Cls.Zero) {
    intMag = 0;
    return 0;
  }
  let flags: u32 = 0;
  normalize(sig, se);
  const eu = normE - EXP_BIAS;
  if (eu >= 64) return FLAG_IE;
  shr128Jam(normS, 0, <u32>min(63 - eu, 200));
  const up = roundUp(wHi, wLo, rc, signOf(se));
  intMag = wHi + <u64>up;
  if (up && intMag == 0) return FLAG_IE;
  if (wLo != 0) flags |= FLAG_PE | (up ? C_1 : 0);
  return flags;
}

export function f80ToInt(sig: u64, se: u32, cw: u32, bits: u32, trunc: bool): u32 {
  const indefinite = (<u64>1) << (bits - 1);
  const c = classify(sig, se);
  if (c >= Cls.Inf) {
    setResMem(indefinite, 0);
    return FLAG_IE;
  }
  const flags = toIntegerMagnitude(sig, se, trunc ? RC_ZERO : rcOf(cw));
  const neg = signOf(se) != 0;
  if ((flags & FLAG_IE) != 0 || intMag > (neg ? indefinite : indefinite - 1)) {
    setResMem(indefinite, 0);
    return FLAG_IE;
  }
  const v = neg ? 0 - intMag : intMag;
  setResMem(bits == 64 ? v : v & ((<u64>1 << bits) - 1), 0);
  return flags;
}

const BCD_LIMIT: u64 = 1_000_000_000_000_000_000;
const BCD_INDEF_LO: u64 = 0xc000_0000_0000_0000;
const BCD_INDEF_HI: u32 = 0xffff;

export function f80ToBCD(sig: u64, se: u32, cw: u32): u32 {
  const c = classify(sig, se);
  if (c >= Cls.Inf) {
    setResMem(BCD_INDEF_LO, BCD_INDEF_HI);
    return FLAG_IE;
  }
  const flags = toIntegerMagnitude(sig, se, rcOf(cw));
  if ((flags & FLAG_IE) != 0 || intMag >= BCD_LIMIT) {
    setResMem(BCD_INDEF_LO, BCD_INDEF_HI);
    return FLAG_IE;
  }
  let n = intMag;
  let lo: u64 = 0;
  for (let i: u64 = 0; i < 16; i++) {
    lo |= (n % 10) << (4 * i);
    n /= 10;
  }
  const hi = <u32>(n % 10) | (<u32>(n / 10) << 4) | (signOf(se) != 0 ? 0x8000 : 0);
  setResMem(lo, hi);
  return flags;
}
