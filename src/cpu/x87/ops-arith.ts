// x87 arithmetic and comparisons: FADD FMUL FSUB FSUBR FDIV FDIVR in every form (and the FIxxx integer
// forms), FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FTST, FXAM
// (SDM Vol. 2 the instruction pages; Vol. 1 8.1.3 condition codes, 8.5 exceptions).
//
// The reg field of every arithmetic encoding names the operation on x = ST(0) and y = the other operand:
// 0 x+y, 1 x×y, 4 x−y, 5 y−x, 6 x/y, 7 y/x. The DC/DE register forms keep this meaning and write ST(i)
// instead of ST(0), which is why their mnemonics swap SUB/SUBR and DIV/DIVR (FSUBR ST(i),ST = DC E0+i).
import {
  C_0, C_2, C_3, FLAG_DE, FLAG_IE, J_BIT, SIGN_BIT, classify, examine, isNaNCls, resSig, resSE,
} from "./f80";
import { f80Add, f80Sub, f80Mul, f80Div } from "./arith";
import { f80Compare } from "./compare";
import { f80FromF32, f80FromF64, f80FromInt } from "./convert";
import {
  fcw, stSig, stSE, stEmpty, setSt, setStIndefinite, pop, signal, underflow, noteInstruction, clearC1, setCC,
  physOf, tagOf, TAG_EMPTY, FSW_SF,
} from "./state";
import { readOperand, opLo } from "./memop";
import { setFlags, CF, PF, ZF, OF, SF, AF } from "../flags";
import { Fmt } from "./ops-load";

const UNORDERED: u32 = C_3 | C_2 | C_0;
/** A comparison with an empty register: IE and SF (C1 = 0), and the operands compare unordered. */
const STACK_UNDERFLOW_UNORDERED: u32 = FLAG_IE | FSW_SF | UNORDERED;

/** Operation `n` (see the file header) on x and y; result in resSig/resSE, status returned. */
function compute(n: u32, xSig: u64, xSE: u32, ySig: u64, ySE: u32, cw: u32): u32 {
  switch (n) {
    case 0: return f80Add(xSig, xSE, ySig, ySE, cw);
    case 1: return f80Mul(xSig, xSE, ySig, ySE, cw);
    case 4: return f80Sub(xSig, xSE, ySig, ySE, cw);
    case 5: return f80Sub(ySig, ySE, xSig, xSE, cw);
    case 6: return f80Div(xSig, xSE, ySig, ySE, cw);
    default: return f80Div(ySig, ySE, xSig, xSE, cw);
  }
}

// ---- memory operands as extended values ----
let memSig: u64 = 0;
let memSE: u32 = 0;

/**
 * The memory operand read into opLo as an extended value in memSig/memSE; returns DE for a denormal real.
 * An SNaN stays signaling here (the operation reports IE and picks the NaN by SDM Table 4-7), unlike FLD,
 * which quiets it.
 */
function memValue(f: Fmt): u32 {
  let st: u32 = 0;
  if (f == Fmt.F32 || f == Fmt.F64) {
    const single = f == Fmt.F32;
    const bits: u64 = single ? opLo & 0xffff_ffff : opLo;
    const fracBits: u64 = single ? 23 : 52;
    const expAll: u64 = single ? 0xff : 0x7ff;
    const frac = bits & ((<u64>1 << fracBits) - 1);
    if (((bits >> fracBits) & expAll) == expAll && frac != 0 && (frac >> (fracBits - 1)) == 0) {
      memSig = J_BIT | (frac << (63 - fracBits));
      memSE = (<u32>(bits >> (fracBits + (single ? 8 : 11))) != 0 ? SIGN_BIT : 0) | 0x7fff;
      return 0;
    }
    st = single ? f80FromF32(<u32>bits) : f80FromF64(bits);
  } else {
    const v: i64 = f == Fmt.I16 ? <i64><i16>opLo : <i64><i32>opLo;
    st = f80FromInt(v);
  }
  memSig = resSig;
  memSE = resSE;
  return st & FLAG_DE;
}

/** A denormal memory operand reports DE unless the operation met a NaN or an invalid operand first. */
@inline function withOperandDE(st: u32, memDE: u32, xSig: u64, xSE: u32): u32 {
  if (memDE == 0 || (st & FLAG_IE) != 0 || isNaNCls(classify(xSig, xSE))) return st;
  return st | FLAG_DE;
}

// ---- arithmetic ----

/** D8/DC/DE register forms: ST(0) op ST(i) into ST(0) (toSt0) or ST(i), then pop for the DE forms. */
export function arithReg(n: u32, i: u32, toSt0: bool, popAfter: bool): void {
  noteInstruction();
  clearC1();
  const dest: u32 = toSt0 ? 0 : i;
  if (stEmpty(0) || stEmpty(i)) {
    if (!underflow()) return;
    setStIndefinite(dest);
  } else {
    const st = compute(n, stSig(0), stSE(0), stSig(i), stSE(i), fcw());
    if (!signal(st, false)) return;
    setSt(dest, resSig, resSE);
  }
  if (popAfter) pop();
}

/** D8/DC m32/m64 real and DA/DE m32/m16 integer forms: ST(0) op m into ST(0). */
export function arithMem(n: u32, f: Fmt): void {
  if (!readOperand(f == Fmt.F64 ? 8 : f == Fmt.I16 ? 2 : 4)) return;
  noteInstruction();
  clearC1();
  if (stEmpty(0)) {
    if (underflow()) setStIndefinite(0);
    return;
  }
  const de = memValue(f);
  const xSig = stSig(0), xSE = stSE(0);
  const st = compute(n, xSig, xSE, memSig, memSE, fcw());
  if (signal(withOperandDE(st, de, xSig, xSE), false)) setSt(0, resSig, resSE);
}

// ---- comparisons ----

/** Deliver a comparison verdict (C3 C2 C0 in `st`) to the condition codes or, for FCOMI, to ZF PF CF. */
function compareResult(st: u32, toEflags: bool, pops: u32): void {
  if (!toEflags) setCC(st & UNORDERED); // C1 = 0
  if (!signal(st & ~UNORDERED, false)) return;
  if (toEflags) {
    // SDM FCOMI: ZF PF CF = C3 C2 C0; OF SF AF cleared
    const f = ((st & C_3) != 0 ? ZF : 0) | ((st & C_2) != 0 ? PF : 0) | ((st & C_0) != 0 ? CF : 0);
    setFlags(f, ZF | PF | CF | OF | SF | AF);
  }
  for (let k: u32 = 0; k < pops; k++) pop();
}

/** FCOM/FCOMP/FCOMPP/FUCOM.../FCOMI/FUCOMI... with ST(i). */
export function compareReg(i: u32, quiet: bool, pops: u32, toEflags: bool): void {
  noteInstruction();
  clearC1();
  if (stEmpty(0) || stEmpty(i)) {
    compareResult(STACK_UNDERFLOW_UNORDERED, toEflags, pops);
    return;
  }
  compareResult(f80Compare(stSig(0), stSE(0), stSig(i), stSE(i), quiet), toEflags, pops);
}

/** FCOM/FCOMP m32/m64, FICOM/FICOMP m16/m32. */
export function compareMem(f: Fmt, pops: u32): void {
  if (!readOperand(f == Fmt.F64 ? 8 : f == Fmt.I16 ? 2 : 4)) return;
  noteInstruction();
  clearC1();
  if (stEmpty(0)) {
    compareResult(STACK_UNDERFLOW_UNORDERED, false, pops);
    return;
  }
  const de = memValue(f);
  const xSig = stSig(0), xSE = stSE(0);
  compareResult(withOperandDE(f80Compare(xSig, xSE, memSig, memSE, false), de, xSig, xSE), false, pops);
}

/** D9 E4 FTST: ST(0) against +0.0. */
export function ftst(): void {
  noteInstruction();
  clearC1();
  if (stEmpty(0)) {
    compareResult(STACK_UNDERFLOW_UNORDERED, false, 0);
    return;
  }
  compareResult(f80Compare(stSig(0), stSE(0), 0, 0, false), false, 0);
}

/** D9 E5 FXAM: the class of ST(0) in C3 C2 C0 and its sign in C1, even for an empty register. */
export function fxam(): void {
  noteInstruction();
  setCC(examine(stSig(0), stSE(0), tagOf(physOf(0)) == TAG_EMPTY));
}
