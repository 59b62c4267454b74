// Rounding and packing for the x87 softfloat (SDM 4.8.4 rounding, 4.9.1.4/4.9.1.5 overflow and
// underflow, 8.1.5.2 precision control, 8.5.4/8.5.5 the unmasked responses).
//
// API:
//   roundPack(sign, e, sig, extra, cw, nbits): u32
//       Rounds (-1)^sign × sig:extra × 2^(e - 16383 - 127) — sig has J in bit 63, so e is the biased
//       exponent the value would have in a register, and may lie outside 1..0x7FFE — to `nbits` bits
//       (24/53/64, usually precisionOf(cw)) with cw.RC, into an extended register: resSig/resSE.
//       Returns PE, UE, OE, C1. Unmasked overflow/underflow (cw.OM/UM = 0) deliver the result with the
//       exponent bias of SDM 8.5.4/8.5.5 instead of infinity/denormal, as for a register destination.
//   roundToFormat(sign, e, sig, extra, rc, nbits, eMin, eMax, cw, bias): u32
//       The same with e unbiased (value = 1.f × 2^e) for any exponent range eMin..eMax, e.g. a memory
//       format: leaves the rounded significand in rndSig
//       (J in bit 63, or a denormal: J clear with rndE = eMin) and the exponent in rndE, or an infinity
//       or the largest finite value as decided by rndOverflow. Used by convert.ts for m32/m64 stores.
//   precisionOf(cw): u32   the significand width selected by cw.PC (24, 53 or 64; reserved PC 01 = 64)
//
// "sign" here is a boolean-ish u32 (0 or nonzero) and in the packed results the SIGN_BIT.

import {
  C_1, CW_PC_SHIFT, FLAG_OE, FLAG_PE, FLAG_UE, J_BIT, RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO, SIGN_BIT,
  EXP_BIAS, UNMASKED_BIAS, rcOf, setRes,
} from "./f80";
import { shr128Jam, wHi, wLo } from "./u128";

/** x86 detects tininess after rounding (with unbounded exponent, at the selected precision). */
const TININESS_AFTER_ROUNDING = true;

const HALF: u64 = 0x8000_0000_0000_0000;
const RB_INEXACT: u32 = 1;
const RB_UP: u32 = 2;
const RB_CARRY: u32 = 4;

export const EXT_EMIN: i32 = 1 - EXP_BIAS; // -16382
export const EXT_EMAX: i32 = EXP_BIAS; // 16383

// ---- rounder output ----
export let rndSig: u64 = 0;
export let rndE: i32 = 0;
/** Set by roundToFormat when the result overflowed: rndSig/rndE then hold the largest finite value of the
 *  format if rndOverflowToMax, else the caller packs an infinity. */
export let rndOverflow: bool = false;
export let rndOverflowToMax: bool = false;

@inline export function precisionOf(cw: u32): u32 {
  const pc = (cw >> CW_PC_SHIFT) & 3;
  return pc == 0 ? 24 : pc == 2 ? 53 : 64;
}

/** Rounds sig:extra to nbits at the position below bit (64 - nbits) of sig; the truncated-and-rounded
 *  significand goes to rndSig. On a carry out of bit 63, rndSig = J and RB_CARRY is returned. */
@inline function roundBits(sig: u64, extra: u64, nbits: u32, rc: u32, sign: u32): u32 {
  let rest: u64;
  let trunc: u64;
  let inc: u64;
  if (nbits >= 64) {
    rest = extra;
    trunc = sig;
    inc = 1;
  } else {
    inc = (<u64>1) << (64 - nbits);
    trunc = sig & ~(inc - 1);
    rest = (sig << nbits) | <u64>(extra != 0);
  }
  let up = false;
  if (rc == RC_NEAREST) up = rest > HALF || (rest == HALF && (trunc & inc) != 0);
  else if (rc == RC_DOWN) up = sign != 0 && rest != 0;
  else if (rc == RC_UP) up = sign == 0 && rest != 0;
  let flags: u32 = rest != 0 ? RB_INEXACT : 0;
  rndSig = trunc;
  if (up) {
    flags |= RB_UP;
    rndSig = trunc + inc;
    if (rndSig == 0) {
      rndSig = J_BIT;
      flags |= RB_CARRY;
    }
  }
  return flags;
}

/** Does rounding to the largest finite value (rather than to infinity) apply on overflow? SDM Table 4-10. */
@inline function overflowsToMax(rc: u32, sign: u32): bool {
  return rc == RC_ZERO || (rc == RC_DOWN && sign == 0) || (rc == RC_UP && sign != 0);
}

/** The rounding core shared by registers and memory formats; see the file header. `bias` is true for a
 *  register destination, where unmasked overflow/underflow deliver a biased result. */
export function roundToFormat(
  sign: u32, e: i32, sig: u64, extra: u64, rc: u32, nbits: u32, eMin: i32, eMax: i32, cw: u32, bias: bool,
): u32 {
  rndOverflow = false;
  let flags: u32 = 0;
  if (e < eMin) {
    let rb = roundBits(sig, extra, nbits, rc, sign);
    const tiny = TININESS_AFTER_ROUNDING ? !((rb & RB_CARRY) != 0 && e + 1 == eMin) : true;
    if (tiny && bias && (cw & FLAG_UE) == 0) {
      // SDM 8.5.5: unmasked underflow, register destination: the normalized rounded result, exponent + bias
      rndE = e + <i32>((rb & RB_CARRY) != 0) + UNMASKED_BIAS;
      if (rndE >= eMin) return FLAG_UE | ((rb & RB_INEXACT) != 0 ? FLAG_PE : 0) | ((rb & RB_UP) != 0 ? C_1 : 0);
      // still too small after the bias (FSCALE can do that): a zero of the operand's sign in every mode
      rndSig = 0;
      rndE = eMin;
      return FLAG_UE | FLAG_PE;
    }
    shr128Jam(sig, extra, <u32>(eMin - e));
    rb = roundBits(wHi, wLo, nbits, rc, sign);
    rndE = eMin; // a carry into J (rounding up to 2^eMin) leaves the normal form: J set, exponent eMin
    if ((rb & RB_INEXACT) != 0) flags |= FLAG_PE;
    if ((rb & RB_UP) != 0) flags |= C_1;
    if (tiny && ((rb & RB_INEXACT) != 0 || (cw & FLAG_UE) == 0)) flags |= FLAG_UE;
    return flags;
  }
  const rb = roundBits(sig, extra, nbits, rc, sign);
  rndE = e + <i32>((rb & RB_CARRY) != 0);
  if ((rb & RB_INEXACT) != 0) flags |= FLAG_PE;
  if ((rb & RB_UP) != 0) flags |= C_1;
  if (rndE > eMax) {
    if (bias && (cw & FLAG_OE) == 0) {
      // SDM 8.5.4: unmasked overflow, register destination: exponent - bias
      rndE -= UNMASKED_BIAS;
      if (rndE <= eMax) return flags | FLAG_OE;
      // still too large after the bias (FSCALE can do that): an infinity in every rounding mode
      rndOverflow = true;
      rndOverflowToMax = false;
      return FLAG_OE | FLAG_PE | C_1;
    }
    rndOverflow = true;
    rndOverflowToMax = overflowsToMax(rc, sign);
    flags = FLAG_OE | FLAG_PE;
    if (rndOverflowToMax) {
      rndE = eMax;
      rndSig = nbits >= 64 ? 0xffff_ffff_ffff_ffff : ~((<u64>1 << (64 - nbits)) - 1);
    } else flags |= C_1;
  }
  return flags;
}

/** Rounds to an extended register; see the file header. */
export function roundPack(sign: u32, e: i32, sig: u64, extra: u64, cw: u32, nbits: u32): u32 {
  const s: u32 = sign != 0 ? SIGN_BIT : 0;
  const flags = roundToFormat(sign, e - EXP_BIAS, sig, extra, rcOf(cw), nbits, EXT_EMIN, EXT_EMAX, cw, true);
  if (rndOverflow && !rndOverflowToMax) {
    setRes(J_BIT, s | 0x7fff);
  } else if ((rndSig & J_BIT) == 0) {
    setRes(rndSig, s); // denormal or zero: exponent field 0
  } else {
    setRes(rndSig, s | (<u32>(rndE + EXP_BIAS) & 0x7fff));
  }
  return flags;
}
