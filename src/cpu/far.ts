// Far transfers: JMP/CALL to another code segment and RETF, in real/virtual-8086 mode and in protected mode
// (SDM JMP, CALL and RET reference pages; 5.8 privilege rules for control transfers).
import { SEG_LIMIT } from "../layout/memory";
import {
  cpl, setCpl, segPtr, segSel, segLimit, segAttr, loadSegReal, setSegCache, updateMode, setReg32, setReg16,
  ESP, SEG_SS_INDEX, ATTR_S, ATTR_P, ATTR_DPL_SHIFT, ATTR_DB, SEGV_READ, SEGV_WRITE,
} from "./state";
import { raise, raiseGP, faulted, EXC_GP, EXC_NP, EXC_SS } from "./exceptions";
import { dOsz, setNextEip, nextEip } from "./decode";
import { segAddr, writeSz, readSz, setAccessUser } from "./mem";
import { sp, stack32, stackCheck } from "./operand";
import {
  protMode, vm86, readDescriptor, descLo, descHi, descAddr, descAttr, descBase, descLimit, setAccessed, setDescriptorState,
} from "./segments";
import { taskSwitch, taskEip, TASK_CALL, TASK_JMP } from "./task";
import { callGate, GATE_CALL16, GATE_CALL32 } from "./gates";

export const FAR_JMP: u32 = 0;
export const FAR_CALL: u32 = 1;

/** Load CS in real or virtual-8086 mode. */
function loadCsReal(sel: u32): void {
  loadSegReal(1, sel);
  if (vm86()) store<u32>(segPtr(1) + SEG_LIMIT, 0xffff);
}

/** Load CS from a code descriptor already read into descLo/descHi, with CPL = `newCpl`. */
export function loadCsProt(sel: u32, newCpl: u32): void {
  setAccessed();
  const attr = descAttr(descHi);
  setSegCache(1, (sel & 0xfffc) | newCpl, descBase(descLo, descHi), descLimit(descLo, descHi), attr);
  setCpl(newCpl);
  setAccessUser(newCpl == 3);
  updateMode();
}

/** Push the return address (CS then EIP at operand size) as one unit: either both are written or neither. */
function pushReturn(csSel: u32, ret: u32): bool {
  const n = dOsz();
  const mask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  const nsp = (sp() - 2 * n) & mask;
  stackCheck(nsp, 2 * n, SEGV_WRITE);
  if (faulted) return false;
  writeSz(SEG_SS_INDEX, (nsp + n) & mask, n, csSel);
  if (faulted) return false;
  writeSz(SEG_SS_INDEX, nsp, n, ret);
  if (faulted) return false;
  if (stack32()) setReg32(ESP, nsp); else setReg16(ESP, nsp);
  return true;
}

export function farTransfer(kind: u32, sel: u32, offset: u32): void {
  sel &= 0xffff;
  if (dOsz() == 2) offset &= 0xffff;
  if (!protMode()) {
    // SDM JMP/CALL, real-address or virtual-8086 mode: the new EIP must lie within the CS limit.
    if (offset > segLimit(1)) { raiseGP(0); return; }
    if (kind == FAR_CALL && !pushReturn(segSel(1), nextEip)) return;
    loadCsReal(sel);
    setNextEip(offset);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const attr = descAttr(descHi);
  const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
  const rpl = sel & 3;
  const c = cpl();
  if ((attr & ATTR_S) == 0) {
    const type = attr & 0xf;
    if (type == GATE_CALL16 || type == GATE_CALL32) { callGate(kind, sel); return; }
    // A TSS or a task gate: DPL >= CPL and >= RPL (SDM JMP/CALL, "TASK-GATE" and "TASK-STATE-SEGMENT").
    if (type != 1 && type != 9 && type != 5) { raiseGP(sel & 0xfffc); return; }
    if (dpl < c || dpl < rpl) { raiseGP(sel & 0xfffc); return; }
    if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
    const tss = type == 5 ? descLo >>> 16 : sel;
    if (taskSwitch(tss, kind == FAR_CALL ? TASK_CALL : TASK_JMP, nextEip, false, 0)) setNextEip(taskEip);
    return;
  }
  if ((attr & 0b1000) == 0) { raiseGP(sel & 0xfffc); return; } // a data segment
  if ((attr & 0b0100) != 0) {
    if (dpl > c) { raiseGP(sel & 0xfffc); return; } // conforming: DPL <= CPL
  } else if (rpl > c || dpl != c) {
    raiseGP(sel & 0xfffc); return; // non-conforming: RPL <= CPL and DPL = CPL
  }
  if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  if (offset > descLimit(descLo, descHi)) { raiseGP(0); return; }
  if (kind == FAR_CALL && !pushReturn(segSel(1), nextEip)) return;
  loadCsProt(sel, c);
  setNextEip(offset);
}

/** RETF [imm16]. */
export function farReturn(imm: u32): void {
  const n = dOsz();
  const mask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  const s0 = sp();
  stackCheck(s0, 2 * n, SEGV_READ);
  if (faulted) return;
  let offset = readSz(SEG_SS_INDEX, s0, n);
  if (faulted) return;
  const sel = readSz(SEG_SS_INDEX, (s0 + n) & mask, 2);
  if (faulted) return;
  if (!protMode()) {
    if (offset > segLimit(1)) { raiseGP(0); return; }
    loadCsReal(sel);
    setSpMasked((s0 + 2 * n + imm) & mask);
    setNextEip(offset);
    return;
  }
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const attr = descAttr(descHi);
  const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
  const rpl = sel & 3;
  const c = cpl();
  if ((attr & ATTR_S) == 0 || (attr & 0b1000) == 0 || rpl < c) { raiseGP(sel & 0xfffc); return; }
  if ((attr & 0b0100) != 0 ? dpl > rpl : dpl != rpl) { raiseGP(sel & 0xfffc); return; }
  if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  if (n == 2) offset &= 0xffff;
  if (rpl == c) {
    if (offset > descLimit(descLo, descHi)) { raiseGP(0); return; }
    loadCsProt(sel, c);
    setSpMasked((s0 + 2 * n + imm) & mask);
    setNextEip(offset);
    return;
  }
  // Return to an outer privilege level: the caller's SS:ESP follows the immediate bytes (SDM RET).
  const spOff = (s0 + 2 * n + imm) & mask;
  stackCheck(spOff, 2 * n, SEGV_READ);
  if (faulted) return;
  const newSp = readSz(SEG_SS_INDEX, spOff, n);
  if (faulted) return;
  const newSs = readSz(SEG_SS_INDEX, (spOff + n) & mask, 2);
  if (faulted) return;
  const csLo = descLo, csHi = descHi, csAddr = descAddr;
  if (offset > descLimit(csLo, csHi)) { raiseGP(0); return; }
  if (!checkOuterStack(newSs, rpl)) return;
  const ssLo = descLo, ssHi = descHi, ssAddr = descAddr;
  // Commit: CS, then SS:ESP, then drop data segments the outer level may not use.
  setDescriptorState(csLo, csHi, csAddr);
  loadCsProt(sel, rpl);
  setDescriptorState(ssLo, ssHi, ssAddr);
  setAccessed();
  setSegCache(SEG_SS_INDEX, newSs, descBase(ssLo, ssHi), descLimit(ssLo, ssHi), descAttr(ssHi));
  updateMode();
  const outerMask: u32 = (descAttr(ssHi) & ATTR_DB) != 0 ? 0xffff_ffff : 0xffff;
  setSpMasked((newSp + imm) & outerMask);
  nullInaccessibleSegs(rpl);
  setNextEip(offset);
}

/** Check the SS selector for a return or interrupt return to privilege `rpl` (SDM RET: "RETURN-TO-OUTER"). */
export function checkOuterStack(ss: u32, rpl: u32): bool {
  if ((ss & 0xfffc) == 0) { raiseGP(0); return false; }
  if (!readDescriptor(ss, EXC_GP)) return false;
  const a = descAttr(descHi);
  if ((ss & 3) != rpl || (a & ATTR_S) == 0 || (a & 0b1010) != 0b0010 || ((a >> ATTR_DPL_SHIFT) & 3) != rpl) {
    raiseGP(ss & 0xfffc);
    return false;
  }
  if ((a & ATTR_P) == 0) { raise(EXC_SS, ss & 0xfffc, true); return false; }
  return true;
}

/** After a return to an outer level, data segments whose DPL is below the new CPL become null (SDM RET). */
export function nullInaccessibleSegs(newCpl: u32): void {
  const list: StaticArray<u32> = [0, 3, 4, 5];
  for (let i = 0; i < 4; i++) {
    const s = list[i];
    const a = segAttr(s);
    const conformingCode = (a & 0b1100) == 0b1100;
    if ((segSel(s) & 0xfffc) != 0 && !conformingCode && ((a >> ATTR_DPL_SHIFT) & 3) < newCpl) {
      setSegCache(s, 0, 0, 0, 0);
    }
  }
}

function setSpMasked(v: u32): void { if (stack32()) setReg32(ESP, v); else setReg16(ESP, v); }
