// x87 double extended-precision values: representation, status and control bits, classification, result
// registers, NaN propagation. The other files of src/cpu/x87/ build on this one.
//
// API (every operation of this folder follows it):
//   An extended value travels as two words, (sig: u64, se: u32):
//
//     se:   31 .. 16 | 15 | 14 ........ 0      sig:  63 | 62 ........................... 0
//          zero      | S  | exponent (bias       J  | fraction
//                    |    | 16383)                (explicit integer bit)
//
//   Operations take their operands as (sig, se) pairs and the FPU control word `cw` (RC, PC and the
//   exception masks are read from it), write their result to the result registers below, and return the
//   status bits they raise, in FSW positions (FLAG_* and C_*). The caller ORs the exception bits into FSW,
//   copies C0-C3 where the instruction defines them, and decides what an unmasked exception means for
//   the destination (SDM 8.7). Nothing is allocated; the result registers are module globals:
//     resSig/resSE     the result (the new ST(0) or the destination register)
//     res2Sig/res2SE   a second result: FSINCOS's cosine, FPTAN's 1.0, FXTRACT's significand
//     resMem           a memory result of a store (m32/m64 floats, m16/m32/m64 integers, BCD low 8 bytes;
//                      resMemHi holds the 2 high bytes of an 80-bit BCD)
//
// Encodings (SDM 8.2.2, Table 8-3): exponent 0 is a zero, denormal or pseudo-denormal (J = 1); 0x7FFF with
// J = 1 is an infinity (fraction 0) or NaN (quiet if bit 62 is set); any other J = 0 encoding (unnormal,
// pseudo-infinity, pseudo-NaN) is unsupported since the 387 and is an invalid operand (IE).

/** Status word bits (SDM 8.1.3). */
export const FLAG_IE: u32 = 0b0000_0000_0000_0001; // invalid operation
export const FLAG_DE: u32 = 0b0000_0000_0000_0010; // denormal operand
export const FLAG_ZE: u32 = 0b0000_0000_0000_0100; // zero divide
export const FLAG_OE: u32 = 0b0000_0000_0000_1000; // overflow
export const FLAG_UE: u32 = 0b0000_0000_0001_0000; // underflow
export const FLAG_PE: u32 = 0b0000_0000_0010_0000; // precision (inexact)
export const C_0: u32 = 0b0000_0001_0000_0000;
export const C_1: u32 = 0b0000_0010_0000_0000; // after rounding: the result was rounded up in magnitude
export const C_2: u32 = 0b0000_0100_0000_0000;
export const C_3: u32 = 0b0100_0000_0000_0000;

/** Control word fields (SDM 8.1.5): the six masks sit at the positions of the status flags. */
export const CW_PC_SHIFT: u32 = 8; // precision control: 00 = 24 bits, 10 = 53 bits, 11 = 64 bits
export const CW_RC_SHIFT: u32 = 10; // rounding control, values RC_*
export const PC_24: u32 = 0;
export const PC_53: u32 = 2;
export const PC_64: u32 = 3;
export const RC_NEAREST: u32 = 0;
export const RC_DOWN: u32 = 1;
export const RC_UP: u32 = 2;
export const RC_ZERO: u32 = 3;
/** FNINIT's control word: all exceptions masked, 64-bit precision, round to nearest. */
export const CW_DEFAULT: u32 = 0x037f;

export const EXP_BIAS: i32 = 16383;
export const EXP_MAX: u32 = 0x7fff;
export const SIGN_BIT: u32 = 0x8000;
export const J_BIT: u64 = 0x8000_0000_0000_0000;
export const QUIET_BIT: u64 = 0x4000_0000_0000_0000;
/** The QNaN floating-point indefinite (SDM 4.8.3.7). */
export const INDEF_SIG: u64 = 0xc000_0000_0000_0000;
export const INDEF_SE: u32 = 0xffff;
/** SDM 8.5.4/8.5.5: an unmasked overflow (underflow) on a register destination delivers the rounded result
 *  with its exponent decreased (increased) by this bias. */
export const UNMASKED_BIAS: i32 = 24576;

// ---- result registers ----
export let resSig: u64 = 0;
export let resSE: u32 = 0;
export let res2Sig: u64 = 0;
export let res2SE: u32 = 0;
export let resMem: u64 = 0;
export let resMemHi: u32 = 0;

@inline export function setRes(sig: u64, se: u32): void {
  resSig = sig;
  resSE = se;
}
@inline export function setRes2(sig: u64, se: u32): void {
  res2Sig = sig;
  res2SE = se;
}
@inline export function setResMem(lo: u64, hi: u32): void {
  resMem = lo;
  resMemHi = hi;
}
/** Result = the QNaN indefinite, status = IE. */
@inline export function setIndefinite(): u32 {
  setRes(INDEF_SIG, INDEF_SE);
  return FLAG_IE;
}

// ---- field access ----
@inline export function expOf(se: u32): i32 {
  return <i32>(se & EXP_MAX);
}
@inline export function signOf(se: u32): u32 {
  return se & SIGN_BIT;
}
@inline export function rcOf(cw: u32): u32 {
  return (cw >> CW_RC_SHIFT) & 3;
}
@inline export function pcOf(cw: u32): u32 {
  return (cw >> CW_PC_SHIFT) & 3;
}

// ---- classification ----
/** Operand classes, in the order the operations test them. */
export const enum Cls {
  Zero,
  Denormal, // exponent 0, significand nonzero (includes pseudo-denormals, J = 1)
  Normal,
  Inf,
  QNaN,
  SNaN,
  Unsupported, // unnormal, pseudo-infinity, pseudo-NaN
}

export function classify(sig: u64, se: u32): Cls {
  const e = se & EXP_MAX;
  if (e == 0) return sig == 0 ? Cls.Zero : Cls.Denormal;
  if ((sig & J_BIT) == 0) return Cls.Unsupported;
  if (e != EXP_MAX) return Cls.Normal;
  if ((sig << 1) == 0) return Cls.Inf;
  return (sig & QUIET_BIT) != 0 ? Cls.QNaN : Cls.SNaN;
}

@inline export function isNaNCls(c: Cls): bool {
  return c == Cls.QNaN || c == Cls.SNaN;
}

/** FXAM (SDM Vol. 2 FXAM): C3 C2 C0 name the class, C1 is the sign. `empty` is the tag word's verdict. */
export function examine(sig: u64, se: u32, empty: bool): u32 {
  const c1 = signOf(se) != 0 ? C_1 : 0;
  if (empty) return C_3 | C_0 | c1;
  switch (classify(sig, se)) {
    case Cls.Zero:
      return C_3 | c1;
    case Cls.Denormal:
      return C_3 | C_2 | c1;
    case Cls.Normal:
      return C_2 | c1;
    case Cls.Inf:
      return C_2 | C_0 | c1;
    case Cls.QNaN:
    case Cls.SNaN:
      return C_0 | c1;
    default:
      return c1;
  }
}

// ---- unpacking ----
// Operations work on normalized operands: the exponent as a signed integer (may go below 1 for a
// denormal) and the significand with J set. These two globals carry the result of normExp/normSig.
export let normE: i32 = 0;
export let normS: u64 = 0;

/** Normalizes a finite nonzero operand (normal, denormal or pseudo-denormal) into normE/normS. SDM 8.2.2:
 *  a denormal's exponent field 0 stands for the same scale as field 1. */
@inline export function normalize(sig: u64, se: u32): void {
  let e = expOf(se);
  if (e == 0) e = 1;
  const shift = <i32>clz(sig);
  normS = sig << shift;
  normE = e - shift;
}

// ---- NaN propagation (SDM 4.8.3.5, Table 4-7) ----
/** Result for an operation with at least one NaN operand (each of a, b may be a NaN or not; b may be
 *  absent with bCls set to Cls.Zero). An SNaN becomes quiet and raises IE. Two NaNs of one kind: the larger
 *  significand wins, the positive one on a tie; a QNaN wins over an SNaN. */
export function propagateNaN(aSig: u64, aSE: u32, aCls: Cls, bSig: u64, bSE: u32, bCls: Cls): u32 {
  const flags = aCls == Cls.SNaN || bCls == Cls.SNaN ? FLAG_IE : 0;
  let pickA: bool;
  if (!isNaNCls(bCls)) pickA = true;
  else if (!isNaNCls(aCls)) pickA = false;
  else if (aCls != bCls) pickA = aCls == Cls.QNaN;
  else {
    const ma = aSig | QUIET_BIT;
    const mb = bSig | QUIET_BIT;
    pickA = ma > mb || (ma == mb && signOf(aSE) == 0);
  }
  if (pickA) setRes(aSig | QUIET_BIT, aSE);
  else setRes(bSig | QUIET_BIT, bSE);
  return flags;
}
