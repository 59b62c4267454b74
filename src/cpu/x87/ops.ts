// The x87 escape opcodes D8-DF and WAIT (9B): entry checks and dispatch on the opcode and ModRM byte (SDM
// Vol. 2 Appendix A.4, Tables ). The handlers live in ops-load.ts (data transfer), ops-arith.ts
// (arithmetic, comparisons), ops-math.ts (top-of-stack and transcendental) and ops-control.ts.
//
// Every escape instruction first raises #NM when CR0.EM or CR0.TS is set, undefined encodings included
// (SDM Vol. 3 19.18.6.6); then undefined encodings are #UD without looking at pending exceptions; then a
// waiting instruction (all but FNINIT FNCLEX FNSTCW FNSTSW FNSTENV FNSAVE and the 287 leftovers FNENI
// FNDISI FNSETPM) reports a pending unmasked exception (#MF, or FERR# in MS-DOS compatibility mode).
//
// Beyond the SDM's tables the P6 decodes these register forms as aliases (kept here, as the hardware runs
// them): D9 D8+i FSTP, DC D0+i FCOM, DC D8+i FCOMP, DD C8+i FXCH, DE D0+i FCOMP, DF C0+i FFREEP, DF C8+i
// FXCH, DF D0+i and DF D8+i FSTP. FISTTP (DB/DD/DF /1) is SSE3 and #UD here.
import { dOp, dMod, dReg, dRm } from "../decode";
import { raiseUD } from "../exceptions";
import { deviceNotAvailable, pendingOk, noteInstruction } from "./state";
import { Fmt, loadMem, storeMem, fldSt, fstSt, fxch, fcmov, fldConst, fincDecStp, ffree } from "./ops-load";
import { arithMem, arithReg, compareMem, compareReg, ftst, fxam } from "./ops-arith";
import { unary, twoResults, binary, Unary, TwoResults, Binary } from "./ops-math";
import { fninit, fnclex, fldcw, fnstcw, fnstswMem, fnstswAx, fnstenv, fldenv, fnsave, frstor } from "./ops-control";

export { fpuReset } from "./state";

// Escape numbers: the low three bits of the opcode.
const D8: u32 = 0, D9: u32 = 1, DA: u32 = 2, DB: u32 = 3, DC: u32 = 4, DD: u32 = 5, DE: u32 = 6, DF: u32 = 7;

// ModRM reg values of the arithmetic group that are comparisons instead.
const REG_COM: u32 = 2;
const REG_COMP: u32 = 3;

/** D8-DF: every x87 instruction. */
export function opX87(): void {
  if (deviceNotAvailable(false)) return;
  const esc = dOp() & 7;
  if (dMod() != 3) memoryForm(esc, dReg());
  else registerForm(esc, dReg(), dRm());
}

/** 9B WAIT/FWAIT: #NM only with CR0.TS and CR0.MP; then any pending unmasked exception. */
export function opFwait(): void {
  if (deviceNotAvailable(true)) return;
  pendingOk();
}

// ---- memory forms ----

/** The memory format of the arithmetic/compare group of D8, DA, DC, DE. */
@inline function arithFormat(esc: u32): Fmt {
  return esc == D8 ? Fmt.F32 : esc == DA ? Fmt.I32 : esc == DC ? Fmt.F64 : Fmt.I16;
}

function memoryForm(esc: u32, reg: u32): void {
  // no-wait instructions and undefined encodings first: neither looks at pending exceptions
  if (esc == D9 && reg == 6) { fnstenv(); return; }
  if (esc == D9 && reg == 7) { fnstcw(); return; }
  if (esc == DD && reg == 6) { fnsave(); return; }
  if (esc == DD && reg == 7) { fnstswMem(); return; }
  if (
    (reg == 1 && esc != D8 && esc != DA && esc != DC && esc != DE) || // D9 /1, FISTTP (SSE3)
    (esc == DB && (reg == 4 || reg == 6)) ||
    (esc == DD && reg == 5)
  ) {
    raiseUD();
    return;
  }
  if (!pendingOk()) return;
  if ((esc & 1) == 0) {
    // D8 DA DC DE: arithmetic and compares with m32real, m32int, m64real, m16int
    const f = arithFormat(esc);
    if (reg == REG_COM || reg == REG_COMP) compareMem(f, reg == REG_COMP ? 1 : 0);
    else arithMem(reg, f);
    return;
  }
  switch (esc) {
    case D9:
      if (reg == 0) loadMem(Fmt.F32);
      else if (reg == 2 || reg == 3) storeMem(Fmt.F32, reg == 3);
      else if (reg == 4) fldenv();
      else fldcw();
      break;
    case DB:
      if (reg == 0) loadMem(Fmt.I32);
      else if (reg == 2 || reg == 3) storeMem(Fmt.I32, reg == 3);
      else if (reg == 5) loadMem(Fmt.F80);
      else storeMem(Fmt.F80, true);
      break;
    case DD:
      if (reg == 0) loadMem(Fmt.F64);
      else if (reg == 2 || reg == 3) storeMem(Fmt.F64, reg == 3);
      else frstor();
      break;
    default: // DF
      if (reg == 0) loadMem(Fmt.I16);
      else if (reg == 2 || reg == 3) storeMem(Fmt.I16, reg == 3);
      else if (reg == 4) loadMem(Fmt.Bcd);
      else if (reg == 5) loadMem(Fmt.I64);
      else if (reg == 6) storeMem(Fmt.Bcd, true);
      else storeMem(Fmt.I64, true);
      break;
  }
}

// ---- register forms ----

/** Undefined register encodings (#UD). */
function undefinedRegister(esc: u32, reg: u32, rm: u32): bool {
  switch (esc) {
    case D9:
      return (reg == 2 && rm != 0) || (reg == 4 && (rm == 2 || rm == 3 || rm >= 6)) || (reg == 5 && rm == 7);
    case DA:
      return reg >= 4 && !(reg == 5 && rm == 1);
    case DB:
      return (reg == 4 && rm >= 5) || reg == 7;
    case DD:
      return reg >= 6;
    case DE:
      return reg == 3 && rm != 1;
    case DF:
      return (reg == 4 && rm != 0) || reg == 7;
    default:
      return false;
  }
}

function registerForm(esc: u32, reg: u32, rm: u32): void {
  if (undefinedRegister(esc, reg, rm)) {
    raiseUD();
    return;
  }
  if (esc == DB && reg == 4) {
    // DB E0-E4: FNENI FNDISI (8087) and FNSETPM (287) do nothing since the 387; FNCLEX; FNINIT
    if (rm == 2) fnclex();
    else if (rm == 3) fninit();
    return;
  }
  if (esc == DF && reg == 4) {
    fnstswAx();
    return;
  }
  if (!pendingOk()) return;
  switch (esc) {
    case D8:
      if (reg == REG_COM || reg == REG_COMP) compareReg(rm, false, reg - REG_COM, false);
      else arithReg(reg, rm, true, false);
      break;
    case D9:
      d9Register(reg, rm);
      break;
    case DA:
      if (reg < 4) fcmov(reg, false, rm);
      else compareReg(1, true, 2, false); // DA E9 FUCOMPP
      break;
    case DB:
      if (reg < 4) fcmov(reg, true, rm);
      else compareReg(rm, reg == 5, 0, true); // E8+i FUCOMI, F0+i FCOMI
      break;
    case DC:
      if (reg == REG_COM || reg == REG_COMP) compareReg(rm, false, reg - REG_COM, false);
      else arithReg(reg, rm, false, false);
      break;
    case DD:
      if (reg == 0) ffree(rm, false);
      else if (reg == 1) fxch(rm);
      else if (reg == 2 || reg == 3) fstSt(rm, reg == 3);
      else compareReg(rm, true, reg - 4, false); // E0+i FUCOM, E8+i FUCOMP
      break;
    case DE:
      if (reg == REG_COM) compareReg(rm, false, 1, false);
      else if (reg == REG_COMP) compareReg(1, false, 2, false); // DE D9 FCOMPP
      else arithReg(reg, rm, false, true);
      break;
    default: // DF
      if (reg == 0) ffree(rm, true);
      else if (reg == 1) fxch(rm);
      else if (reg == 2 || reg == 3) fstSt(rm, true);
      else compareReg(rm, reg == 5, 1, true); // E8+i FUCOMIP, F0+i FCOMIP
      break;
  }
}

/** D9 C0-FF: FLD FXCH FNOP FSTP(alias) FCHS FABS FTST FXAM, the constants, and D9 F0-FF. */
function d9Register(reg: u32, rm: u32): void {
  switch (reg) {
    case 0: fldSt(rm); break;
    case 1: fxch(rm); break;
    case 2: noteInstruction(); break; // FNOP
    case 3: fstSt(rm, true); break;
    case 4:
      if (rm == 0) unary(Unary.Chs);
      else if (rm == 1) unary(Unary.Abs);
      else if (rm == 4) ftst();
      else fxam();
      break;
    case 5: fldConst(rm); break;
    default: {
      const modrm = 0xc0 | (reg << 3) | rm;
      switch (modrm) {
        case 0xf0: unary(Unary.F2xm1); break;
        case 0xf2: twoResults(TwoResults.Ptan); break;
        case 0xf4: twoResults(TwoResults.Xtract); break;
        case 0xf6: fincDecStp(false); break;
        case 0xf7: fincDecStp(true); break;
        case 0xfa: unary(Unary.Sqrt); break;
        case 0xfb: twoResults(TwoResults.SinCos); break;
        case 0xfc: unary(Unary.RndInt); break;
        case 0xfe: unary(Unary.Sin); break;
        case 0xff: unary(Unary.Cos); break;
        default: binary(<Binary>modrm); break; // F1 F3 F5 F8 F9 FD
      }
      break;
    }
  }
}
