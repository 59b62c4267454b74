// x87 data transfer: FLD/FST/FSTP (m32 m64 m80 ST(i)), FILD/FIST/FISTP (m16 m32 m64), FBLD/FBSTP, the
// constants FLD1 ... FLDZ, FXCH, FCMOVcc, FINCSTP/FDECSTP, FFREE/FFREEP (SDM Vol. 2 the instruction pages;
// Vol. 1 8.5.1.1 stack overflow and underflow, 8.5 masked responses).
//
// Every handler runs after the entry checks of ops.ts, reads its memory operand (or checks its store target)
// first, then calls noteInstruction() and changes the FPU.
import { INDEF_SIG, INDEF_SE, J_BIT, EXP_BIAS, resSig, resSE, resMem, resMemHi } from "./f80";
import {
  f80FromF32, f80FromF64, f80FromInt, f80FromBCD, f80ToF32, f80ToF64, f80ToInt, f80ToBCD,
} from "./convert";
import { f80Const } from "./trans";
import {
  fcw, stSig, stSE, stEmpty, setSt, setStIndefinite, push, pop, signal, underflow, overflow,
  noteInstruction, clearC1, incTop, decTop, setTag, physOf, TAG_EMPTY,
} from "./state";
import { readOperand, opLo, opHi, storeTarget, storeOperand } from "./memop";
import { condition } from "../flags";

// Memory formats as named by the handlers.
export const enum Fmt { F32, F64, F80, I16, I32, I64, Bcd }

@inline function fmtBytes(f: Fmt): u32 {
  switch (f) {
    case Fmt.F32: case Fmt.I32: return 4;
    case Fmt.F64: case Fmt.I64: return 8;
    case Fmt.I16: return 2;
    default: return 10;
  }
}

/** Push the value (resSig, resSE) computed with status `st`, after the overflow check of every push. */
function pushResult(st: u32): void {
  if (!stEmpty(7)) {
    if (overflow()) push(INDEF_SIG, INDEF_SE);
    return;
  }
  if (signal(st, false)) push(resSig, resSE);
}

/** FLD/FILD/FBLD from memory: convert the operand, then push. */
export function loadMem(f: Fmt): void {
  if (!readOperand(fmtBytes(f))) return;
  noteInstruction();
  clearC1();
  if (!stEmpty(7)) {
    if (overflow()) push(INDEF_SIG, INDEF_SE);
    return;
  }
  let st: u32 = 0;
  switch (f) {
    case Fmt.F32: st = f80FromF32(<u32>opLo); break;
    case Fmt.F64: st = f80FromF64(opLo); break;
    case Fmt.I16: st = f80FromInt(<i64><i16>opLo); break;
    case Fmt.I32: st = f80FromInt(<i64><i32>opLo); break;
    case Fmt.I64: st = f80FromInt(<i64>opLo); break;
    case Fmt.Bcd: st = f80FromBCD(opLo, opHi); break;
    default: {
      // FLD m80 loads the encoding unchanged, whatever it is: no exception but the stack fault
      push(opLo, opHi & 0xffff);
      return;
    }
  }
  pushResult(st);
}

/** FST/FSTP/FIST/FISTP/FBSTP to memory. */
export function storeMem(f: Fmt, popAfter: bool): void {
  const size = fmtBytes(f);
  if (!storeTarget(size)) return;
  noteInstruction();
  clearC1();
  let lo: u64 = 0;
  let hi: u32 = 0;
  if (stEmpty(0)) {
    if (!underflow()) return;
    // masked response: the indefinite of the destination format
    switch (f) {
      case Fmt.F32: lo = 0xffc0_0000; break;
      case Fmt.F64: lo = 0xfff8_0000_0000_0000; break;
      case Fmt.F80: lo = INDEF_SIG; hi = INDEF_SE; break;
      case Fmt.I16: lo = 0x8000; break;
      case Fmt.I32: lo = 0x8000_0000; break;
      case Fmt.I64: lo = 0x8000_0000_0000_0000; break;
      default: lo = 0xc000_0000_0000_0000; hi = 0xffff; break; // BCD indefinite
    }
  } else {
    const sig = stSig(0);
    const se = stSE(0);
    const cw = fcw();
    let st: u32 = 0;
    switch (f) {
      case Fmt.F32: st = f80ToF32(sig, se, cw); break;
      case Fmt.F64: st = f80ToF64(sig, se, cw); break;
      case Fmt.I16: st = f80ToInt(sig, se, cw, 16, false); break;
      case Fmt.I32: st = f80ToInt(sig, se, cw, 32, false); break;
      case Fmt.I64: st = f80ToInt(sig, se, cw, 64, false); break;
      case Fmt.Bcd: st = f80ToBCD(sig, se, cw); break;
      default: break; // FSTP m80 stores the register unchanged
    }
    if (f == Fmt.F80) {
      lo = sig;
      hi = se;
    } else {
      if (!signal(st, true)) return;
      lo = resMem;
      hi = resMemHi;
    }
  }
  storeOperand(size, lo, hi);
  if (popAfter) pop();
}

/** D9 C0+i FLD ST(i). */
export function fldSt(i: u32): void {
  noteInstruction();
  clearC1();
  if (!stEmpty(7)) {
    if (overflow()) push(INDEF_SIG, INDEF_SE);
    return;
  }
  if (stEmpty(i)) {
    if (underflow()) push(INDEF_SIG, INDEF_SE);
    return;
  }
  push(stSig(i), stSE(i));
}

/** DD D0+i FST ST(i), DD D8+i FSTP ST(i) (and the aliases D9 D8+i, DF D0+i, DF D8+i). */
export function fstSt(i: u32, popAfter: bool): void {
  noteInstruction();
  clearC1();
  if (stEmpty(0)) {
    if (!underflow()) return;
    setStIndefinite(i);
  } else {
    setSt(i, stSig(0), stSE(0));
  }
  if (popAfter) pop();
}

/** D9 C8+i FXCH ST(i): an empty operand becomes the indefinite when IE is masked. */
export function fxch(i: u32): void {
  noteInstruction();
  clearC1();
  let aSig = stSig(0), aSE = stSE(0);
  let bSig = stSig(i), bSE = stSE(i);
  const aEmpty = stEmpty(0), bEmpty = stEmpty(i);
  if (aEmpty || bEmpty) {
    if (!underflow()) return;
    if (aEmpty) { aSig = INDEF_SIG; aSE = INDEF_SE; }
    if (bEmpty) { bSig = INDEF_SIG; bSE = INDEF_SE; }
  }
  setSt(i, aSig, aSE);
  setSt(0, bSig, bSE);
}

/** DA/DB C0-DF FCMOVcc ST(0), ST(i) (P6): conditions B E BE U and their negations from EFLAGS. */
export function fcmov(cc: u32, negate: bool, i: u32): void {
  noteInstruction();
  clearC1();
  if (stEmpty(0) || stEmpty(i)) {
    if (underflow()) setStIndefinite(0);
    return;
  }
  // Jcc condition numbers: B = 2, E = 4, BE = 6, P = 10 (FCMOVU tests PF)
  const jcc: u32 = cc == 0 ? 2 : cc == 1 ? 4 : cc == 2 ? 6 : 10;
  if (condition(jcc) != negate) setSt(0, stSig(i), stSE(i));
}

/** D9 E8-EE: FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ. */
export function fldConst(k: u32): void {
  noteInstruction();
  clearC1();
  if (!stEmpty(7)) {
    if (overflow()) push(INDEF_SIG, INDEF_SE);
    return;
  }
  if (k == 0) push(J_BIT, <u32>EXP_BIAS);
  else if (k == 6) push(0, 0);
  else {
    // rounded with RC from the internal constant (SDM 8.3.8); FLDL2T is Const 1, ..., FLDLN2 Const 4
    const order: u32 = k == 1 ? 1 : k == 2 ? 2 : k == 3 ? 0 : k == 4 ? 3 : 4;
    f80Const(order, fcw());
    push(resSig, resSE);
  }
}

/** D9 F7 FINCSTP, D9 F6 FDECSTP: TOP only, tags untouched; C1 = 0. */
export function fincDecStp(inc: bool): void {
  noteInstruction();
  clearC1();
  if (inc) incTop(); else decTop();
}

/** DD C0+i FFREE ST(i), DF C0+i FFREEP ST(i) (FFREE then pop; undocumented, present on the P6). */
export function ffree(i: u32, popAfter: bool): void {
  noteInstruction();
  setTag(physOf(i), TAG_EMPTY);
  if (popAfter) pop();
}
