// Control transfer within and between code segments: Jcc, JMP, CALL, RET, LOOP/JCXZ, far JMP/CALL/RET.
import { dOp, dOsz, dImm, dImm2, dReg, dMod, dA32, dSeg, nextEip, setNextEip } from "../decode";
import { faulted, raiseGP, raiseUD } from "../exceptions";
import { condition, flag, ZF } from "../flags";
import { ECX, reg32, reg16, setReg32, setReg16, segLimit, SEGV_READ } from "../state";
import { push, peek, setSp, spPlus, readE, ea } from "../operand";
import { readSz, segAddr } from "../mem";
import { farTransfer, farReturn, FAR_JMP, FAR_CALL } from "../far";

/** Jump to `target` (already masked to the operand size) after the CS limit check (SDM JMP). */
export function jumpNear(target: u32): void {
  if (target > segLimit(1)) { raiseGP(0); return; }
  setNextEip(target);
}

@inline function relTarget(rel: u32): u32 {
  const t = nextEip + rel;
  return dOsz() == 4 ? t : t & 0xffff;
}

/** 70-7F Jcc rel8; 0F 80-8F Jcc rel16/32. */
export function opJcc(): void {
  if (!condition(dOp() & 15)) return;
  const rel = dOp() < 0x100 ? <u32>(<i32><i8>dImm()) : (dOsz() == 4 ? dImm() : <u32>(<i32><i16>dImm()));
  jumpNear(relTarget(rel));
}

/** E9 JMP rel16/32; EB JMP rel8. */
export function opJmpRel(): void {
  const rel = dOp() == 0xeb ? <u32>(<i32><i8>dImm()) : (dOsz() == 4 ? dImm() : <u32>(<i32><i16>dImm()));
  jumpNear(relTarget(rel));
}

/** E8 CALL rel16/32. The target is checked before the return address is pushed. */
export function opCallRel(): void {
  const rel = dOsz() == 4 ? dImm() : <u32>(<i32><i16>dImm());
  const t = relTarget(rel);
  if (t > segLimit(1)) { raiseGP(0); return; }
  push(dOsz(), nextEip);
  if (faulted) return;
  setNextEip(t);
}

/** C3 RET; C2 RET imm16. */
export function opRetNear(): void {
  const t = peek(dOsz(), 0);
  if (faulted) return;
  if (t > segLimit(1)) { raiseGP(0); return; }
  setSp(spPlus(dOsz() + (dOp() == 0xc2 ? dImm() : 0)));
  setNextEip(t);
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ/JECXZ; the counter is CX or ECX by address size. */
export function opLoop(): void {
  let c = dA32() ? reg32(ECX) : reg16(ECX);
  let take: bool;
  if (dOp() == 0xe3) {
    take = c == 0;
  } else {
    c = dA32() ? c - 1 : (c - 1) & 0xffff;
    take = c != 0;
    if (dOp() == 0xe0) take = take && !flag(ZF);
    else if (dOp() == 0xe1) take = take && flag(ZF);
  }
  if (take) {
    const t = relTarget(<u32>(<i32><i8>dImm()));
    if (t > segLimit(1)) { raiseGP(0); return; }
    setNextEip(t);
  }
  if (dOp() != 0xe3) { if (dA32()) setReg32(ECX, c); else setReg16(ECX, c); }
}

/** FF /2 CALL Ev; FF /4 JMP Ev (near, absolute indirect). */
export function callJmpNearE(): void {
  const t = readE(dOsz());
  if (faulted) return;
  if (t > segLimit(1)) { raiseGP(0); return; }
  if (dReg() == 2) {
    push(dOsz(), nextEip);
    if (faulted) return;
  }
  setNextEip(t);
}

/** FF /3 CALLF m16:16/32; FF /5 JMPF m16:16/32. */
export function callJmpFarE(): void {
  if (dMod() == 3) { raiseUD(); return; }
  const off = ea();
  segAddr(dSeg(), off, dOsz() + 2, SEGV_READ);
  if (faulted) return;
  const target = readSz(dSeg(), off, dOsz());
  if (faulted) return;
  const sel = readSz(dSeg(), (off + dOsz()) & (dA32() ? 0xffff_ffff : 0xffff), 2);
  if (faulted) return;
  farTransfer(dReg() == 3 ? FAR_CALL : FAR_JMP, sel, target);
}

/** 9A CALLF ptr16:16/32; EA JMPF ptr16:16/32. */
export function opFarImm(): void {
  farTransfer(dOp() == 0x9a ? FAR_CALL : FAR_JMP, dImm2(), dImm());
}

/** CB RETF; CA RETF imm16. */
export function opRetFar(): void {
  farReturn(dOp() == 0xca ? dImm() : 0);
}

