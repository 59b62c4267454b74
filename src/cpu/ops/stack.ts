// PUSH and POP in their forms, PUSHA/POPA, ENTER/LEAVE.
import { dOp, dOsz, dImm, dImm2, dMod, dRm, dSeg } from "../decode";
import { faulted } from "../exceptions";
import { ESP, EBP, reg32, reg16, setReg32, setReg16, segSel, SEG_SS_INDEX, SEGV_WRITE, SEGV_READ } from "../state";
import { push, pop, sp, setSp, spPlus, stack32, getReg, setReg, readE, ea, stackCheck } from "../operand";
import { writeSz, readSz, segAddr } from "../mem";
import { loadSeg } from "../segments";
import { mask } from "./alu";

/** 50-57 PUSH r. PUSH ESP pushes the value before the push (SDM PUSH). */
export function opPushReg(): void { push(dOsz(), getReg(dOp() & 7, dOsz())); }

/** 58-5F POP r. */
export function opPopReg(): void {
  const v = pop(dOsz());
  if (faulted) return;
  setReg(dOp() & 7, dOsz(), v);
}

/** 68 PUSH Iz; 6A PUSH Ib (sign-extended). */
export function opPushImm(): void {
  const v = dOp() == 0x6a ? <u32>(<i32><i8>dImm()) : dImm();
  push(dOsz(), v & mask(dOsz()));
}

/** FF /6 PUSH Ev. */
export function pushE(): void {
  const v = readE(dOsz());
  if (faulted) return;
  push(dOsz(), v);
}

/**
 * 8F /0 POP Ev. The address is computed after ESP is incremented (SDM POP: "If the ESP register is used as a
 * base register ... the value after the pop"); if the store faults, ESP is restored.
 */
export function opPopE(): void {
  if (dMod() == 3) {
    const v = pop(dOsz());
    if (faulted) return;
    setReg(dRm(), dOsz(), v);
    return;
  }
  const old = reg32(ESP);
  const v = pop(dOsz());
  if (faulted) return;
  writeSz(dSeg(), ea(), dOsz(), v);
  if (faulted) setReg32(ESP, old);
}

/** 06 0E 16 1E, 0F A0 0F A8: PUSH segment register. A 32-bit push writes the selector zero-extended. */
export function opPushSeg(): void {
  let s: u32;
  if (dOp() < 0x100) s = dOp() >> 3; else s = dOp() == 0x1a0 ? 4 : 5;
  push(dOsz(), segSel(s));
}

/** 07 17 1F, 0F A1 0F A9: POP segment register (never CS). */
export function opPopSeg(): void {
  let s: u32;
  if (dOp() < 0x100) s = dOp() >> 3; else s = dOp() == 0x1a1 ? 4 : 5;
  const v = peekTop();
  if (faulted) return;
  loadSeg(s, v & 0xffff);
  if (faulted) return;
  setSp(spPlus(dOsz()));
}

function peekTop(): u32 { return readSz(SEG_SS_INDEX, sp(), dOsz()); }

/** 60 PUSHA/PUSHAD: pushes AX CX DX BX original-SP BP SI DI. */
export function opPusha(): void {
  const n = dOsz();
  const base = spPlus(-(n << 3));
  // Check the whole 8-register area first so a fault leaves no partial frame (SDM: #SS if it would exceed).
  stackCheck(base, n << 3, SEGV_WRITE);
  if (faulted) return;
  const orig = sp();
  for (let i: u32 = 0; i < 8; i++) {
    const v = i == ESP ? orig : getReg(i, n);
    writeSz(SEG_SS_INDEX, spPlus(-((i + 1) * n)), n, v & mask(n));
    if (faulted) return;
  }
  setSp(base);
}

/** 61 POPA/POPAD: pops DI SI BP (skip SP) BX DX CX AX. */
export function opPopa(): void {
  const n = dOsz();
  stackCheck(sp(), n << 3, SEGV_READ);
  if (faulted) return;
  // All eight reads happen before any register changes, so a fault leaves the registers as they were.
  const v7 = readSz(SEG_SS_INDEX, spPlus(0), n);
  const v6 = readSz(SEG_SS_INDEX, spPlus(n), n);
  const v5 = readSz(SEG_SS_INDEX, spPlus(2 * n), n);
  const v3 = readSz(SEG_SS_INDEX, spPlus(4 * n), n);
  const v2 = readSz(SEG_SS_INDEX, spPlus(5 * n), n);
  const v1 = readSz(SEG_SS_INDEX, spPlus(6 * n), n);
  const v0 = readSz(SEG_SS_INDEX, spPlus(7 * n), n);
  if (faulted) return;
  setReg(7, n, v7); setReg(6, n, v6); setReg(5, n, v5); setReg(3, n, v3);
  setReg(2, n, v2); setReg(1, n, v1); setReg(0, n, v0);
  setSp(spPlus(8 * n));
}

/** C9 LEAVE: (E)SP = (E)BP, then pop (E)BP. */
export function opLeave(): void {
  const bp = stack32() ? reg32(EBP) : reg16(EBP);
  const v = readSz(SEG_SS_INDEX, bp, dOsz());
  if (faulted) return;
  if (stack32()) setReg32(ESP, bp); else setReg16(ESP, bp);
  setSp(spPlus(dOsz()));
  setReg(EBP, dOsz(), v);
}

/** C8 ENTER imm16, imm8: builds a stack frame with `level` nesting levels (SDM ENTER). */
export function opEnter(): void {
  const size = dImm();
  const level = dImm2() & 31;
  const n = dOsz();
  const bpMask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  let bp = stack32() ? reg32(EBP) : reg16(EBP);
  // Registers change only at the end, so a fault part-way leaves them as they were.
  const frameTemp = spPlus(-n);
  let cur = frameTemp;
  writeSz(SEG_SS_INDEX, cur, n, getReg(EBP, n));
  if (faulted) return;
  if (level > 0) {
    for (let i: u32 = 1; i < level; i++) {
      bp = (bp - n) & bpMask;
      const v = readSz(SEG_SS_INDEX, bp, n);
      if (faulted) return;
      cur = (cur - n) & bpMask;
      writeSz(SEG_SS_INDEX, cur, n, v);
      if (faulted) return;
    }
    cur = (cur - n) & bpMask;
    writeSz(SEG_SS_INDEX, cur, n, frameTemp);
    if (faulted) return;
  }
  const newSp = (cur - size) & bpMask;
  // The final stack pointer must also be valid (SDM ENTER: #SS if the new ESP is outside the segment).
  stackCheck(newSp, 1, SEGV_WRITE);
  if (faulted) return;
  setReg(EBP, n, frameTemp);
  if (stack32()) setReg32(ESP, newSp); else setReg16(ESP, newSp);
}
