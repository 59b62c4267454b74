// x87 operations on the top of the stack: FCHS FABS FSQRT FRNDINT FSCALE FXTRACT FPREM FPREM1 and the
// transcendental instructions FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1 (SDM Vol. 2 the
// instruction pages; Vol. 1 8.3.5-8.3.10).
import { C_0, C_1, C_2, C_3, FLAG_IE, INDEF_SIG, INDEF_SE, SIGN_BIT, classify, isNaNCls, resSig, resSE, res2Sig, res2SE } from "./f80";
import { f80Sqrt, f80RoundInt, f80Scale, f80Extract, f80Rem } from "./arith";
import { f80Sin, f80Cos, f80SinCos, f80Tan, f80Atan, f80F2xm1, f80Yl2x, f80Yl2xp1 } from "./trans";
import {
  fcw, fsw, stSig, stSE, stEmpty, setSt, setStIndefinite, push, pop, signal, underflow, overflow,
  noteInstruction, setCC, FSW_CC,
} from "./state";

/** Operations on ST(0) alone, by their D9 E0-FF ModRM byte. */
export const enum Unary { Chs = 0xe0, Abs = 0xe1, F2xm1 = 0xf0, Sqrt = 0xfa, RndInt = 0xfc, Sin = 0xfe, Cos = 0xff }

/** FCHS, FABS, FSQRT, FRNDINT, F2XM1, FSIN, FCOS: ST(0) ← f(ST(0)). */
export function unary(k: Unary): void {
  noteInstruction();
  const trig = k == Unary.Sin || k == Unary.Cos;
  setCC(fsw() & ~(C_1 | (trig ? C_2 : 0)));
  if (stEmpty(0)) {
    if (underflow()) setStIndefinite(0);
    return;
  }
  const sig = stSig(0), se = stSE(0), cw = fcw();
  let st: u32 = 0;
  switch (k) {
    case Unary.Chs: setSt(0, sig, se ^ SIGN_BIT); return; // sign only: no exception, not even for an SNaN
    case Unary.Abs: setSt(0, sig, se & ~SIGN_BIT); return;
    case Unary.Sqrt: st = f80Sqrt(sig, se, cw); break;
    case Unary.RndInt: st = f80RoundInt(sig, se, cw); break;
    case Unary.F2xm1: st = f80F2xm1(sig, se, cw); break;
    case Unary.Sin: st = f80Sin(sig, se, cw); break;
    default: st = f80Cos(sig, se, cw); break;
  }
  if (trig && (st & C_2) != 0) {
    setCC(fsw() | C_2); // |x| ≥ 2^63: the operand stays, nothing else happens (SDM FSIN)
    return;
  }
  if (signal(st, false)) setSt(0, resSig, resSE);
}

/** Operations that replace ST(0) and push a second result, by their D9 ModRM byte. */
export const enum TwoResults { Ptan = 0xf2, Xtract = 0xf4, SinCos = 0xfb }

/** FPTAN, FXTRACT, FSINCOS: ST(0) ← r1, then push r2 (SDM: an empty ST(0) or a full ST(7) is a stack fault,
 *  whose masked response leaves the indefinite in both). */
export function twoResults(k: TwoResults): void {
  noteInstruction();
  const trig = k != TwoResults.Xtract;
  setCC(fsw() & ~(C_1 | (trig ? C_2 : 0)));
  if (stEmpty(0) || !stEmpty(7)) {
    const masked = stEmpty(0) ? underflow() : overflow();
    if (masked) {
      setStIndefinite(0);
      push(INDEF_SIG, INDEF_SE);
    }
    return;
  }
  const sig = stSig(0), se = stSE(0), cw = fcw();
  let st: u32;
  if (k == TwoResults.Ptan) st = f80Tan(sig, se, cw);
  else if (k == TwoResults.SinCos) st = f80SinCos(sig, se, cw);
  else st = f80Extract(sig, se);
  if (trig && (st & C_2) != 0) {
    setCC(fsw() | C_2);
    return;
  }
  if (!signal(st, false)) return;
  setSt(0, resSig, resSE);
  push(res2Sig, res2SE);
}

/** Operations on ST(0) and ST(1), by their D9 ModRM byte. */
export const enum Binary { Yl2x = 0xf1, Patan = 0xf3, Prem1 = 0xf5, Prem = 0xf8, Yl2xp1 = 0xf9, Scale = 0xfd }

/** FSCALE, FPREM, FPREM1 write ST(0); FPATAN, FYL2X, FYL2XP1 write ST(1) and pop. */
export function binary(k: Binary): void {
  noteInstruction();
  const prem = k == Binary.Prem || k == Binary.Prem1;
  const toSt1 = k == Binary.Yl2x || k == Binary.Patan || k == Binary.Yl2xp1;
  setCC(fsw() & ~(C_1 | (prem ? C_2 : 0)));
  if (stEmpty(0) || stEmpty(1)) {
    if (!underflow()) return;
    if (toSt1) {
      setStIndefinite(1);
      pop();
    } else setStIndefinite(0);
    return;
  }
  const aSig = stSig(0), aSE = stSE(0), bSig = stSig(1), bSE = stSE(1), cw = fcw();
  let st: u32;
  switch (k) {
    case Binary.Scale: st = f80Scale(aSig, aSE, bSig, bSE, cw); break;
    case Binary.Prem: st = f80Rem(aSig, aSE, bSig, bSE, false); break;
    case Binary.Prem1: st = f80Rem(aSig, aSE, bSig, bSE, true); break;
    case Binary.Patan: st = f80Atan(bSig, bSE, aSig, aSE, cw); break;
    case Binary.Yl2x: st = f80Yl2x(aSig, aSE, bSig, bSE, cw); break;
    default: st = f80Yl2xp1(aSig, aSE, bSig, bSE, cw); break;
  }
  if (!signal(st, false)) return;
  if (toSt1) {
    setSt(1, resSig, resSE);
    pop();
    return;
  }
  setSt(0, resSig, resSE);
  if (prem && (st & FLAG_IE) == 0 && !isNaNCls(classify(aSig, aSE)) && !isNaNCls(classify(bSig, bSE))) {
    // C2 = 1: partial remainder; else the quotient's low bits Q2 Q1 Q0 in C0 C3 C1. A NaN or invalid
    // operand leaves C0 and C3 alone.
    setCC((fsw() & ~FSW_CC) | (st & (C_0 | C_1 | C_2 | C_3)));
  }
}
