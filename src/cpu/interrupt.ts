// Delivery of interrupts and exceptions: real-address mode through the IVT (SDM 20.1.4) and protected mode
// through interrupt and trap gates in the IDT, with the stack switch from the TSS on a privilege change
// (SDM 6.12). Task gates and virtual-8086 mode delivery are not implemented yet and count as unimplemented.
import { CPU_IDTR_BASE, CPU_IDTR_LIMIT, SEG_TR } from "../layout/memory";
import {
  cpu, cpl, segSel, segBase, segLimit, setReg32, setReg16, reg32, ESP, SEG_SS_INDEX,
  ATTR_S, ATTR_P, ATTR_DPL_SHIFT, ATTR_DB, setSegCache, updateMode, segAttr,
} from "./state";
import { raise, faulted, EXC_GP, EXC_NP, EXC_SS, EXC_TS } from "./exceptions";
import { getFlags, setFlags, IF, TF, NT, RF, VM, AC } from "./flags";
import { readLin16, readLin32, writeLin16, writeLin32, setAccessUser, accUser } from "./mem";
import { segAddr } from "./mem";
import { SEGV_WRITE } from "./state";
import { protMode, vm86, readDescriptor, descLo, descHi, descAddr, descAttr, descBase, descLimit, setDescriptorState } from "./segments";
import { loadSegReal } from "./state";
import { loadCsProt } from "./far";
import { stackCheck } from "./operand";
import { logUnimplemented } from "./udlog";
import { taskSwitch, taskEip, TASK_CALL } from "./task";

/** Set while a fault is delivered: the pushed EFLAGS image gets RF (see exec.ts deliverFault). */
let faultRf: bool = false;
export function setFaultRf(on: bool): void { faultRf = on; }
@inline function pushedFlags(): u32 { return faultRf ? getFlags() | RF : getFlags(); }

/** Where the interrupted code resumes (EIP pushed in the frame). */
export function deliverInterrupt(vector: u32, returnEip: u32, software: bool, hasError: bool, error: u32): void {
  if (!protMode() && !vm86()) { deliverReal(vector, returnEip); return; }
  deliverProtected(vector, returnEip, software, hasError, error);
}

function deliverReal(vector: u32, returnEip: u32): void {
  const idt = <u32>load<u64>(cpu + CPU_IDTR_BASE);
  const limit = load<u32>(cpu + CPU_IDTR_LIMIT);
  // SDM 20.1.4: an IVT entry beyond the IDTR limit is #GP (which then escalates to #DF / shutdown).
  if (vector * 4 + 3 > limit) { raise(EXC_GP, vector * 8 + 2, true); return; }
  const u = accUser;
  setAccessUser(false);
  const ip = readLin16(idt + vector * 4);
  const cs = readLin16(idt + vector * 4 + 2);
  setAccessUser(u);
  if (faulted) return;
  // Push FLAGS, CS, IP as one unit.
  const s = reg32(ESP) & 0xffff;
  const nsp = (s - 6) & 0xffff;
  stackCheck(nsp, 6, SEGV_WRITE);
  if (faulted) return;
  const ssb = segBase(SEG_SS_INDEX);
  writeLin16(ssb + ((nsp + 4) & 0xffff), pushedFlags());
  writeLin16(ssb + ((nsp + 2) & 0xffff), segSel(1));
  writeLin16(ssb + nsp, returnEip);
  if (faulted) return;
  setReg16(ESP, nsp);
  setFlags(0, IF | TF | AC | RF);
  loadSegReal(1, cs);
  returnTo(ip);
}

/** Set by deliverInterrupt: the EIP where execution continues (the handler's entry). */
export let handlerEip: u32 = 0;
function returnTo(eip: u32): void { handlerEip = eip; }

// Gate types (SDM Table 3-2).
const GATE_TASK: u32 = 0x5;
const GATE_INT16: u32 = 0x6;
const GATE_TRAP16: u32 = 0x7;
const GATE_INT32: u32 = 0xe;
const GATE_TRAP32: u32 = 0xf;

function deliverProtected(vector: u32, returnEip: u32, software: bool, hasError: bool, error: u32): void {
  const idt = <u32>load<u64>(cpu + CPU_IDTR_BASE);
  const limit = load<u32>(cpu + CPU_IDTR_LIMIT);
  const ext: u32 = software ? 0 : 1;
  if (vector * 8 + 7 > limit) { raise(EXC_GP, vector * 8 + 2 + ext, true); return; }
  const u = accUser;
  setAccessUser(false);
  const lo = readLin32(idt + vector * 8);
  const hi = readLin32(idt + vector * 8 + 4);
  setAccessUser(u);
  if (faulted) return;
  const type = (hi >> 8) & 0x1f;
  const gdpl = (hi >> 13) & 3;
  if (type == GATE_TASK) {
    if (software && gdpl < cpl()) { raise(EXC_GP, vector * 8 + 2, true); return; }
    if ((hi & 0x8000) == 0) { raise(EXC_NP, vector * 8 + 2 + ext, true); return; }
    if (taskSwitch(lo >>> 16, TASK_CALL, returnEip, hasError, error)) returnTo(taskEip);
    return;
  }
  if (type != GATE_INT16 && type != GATE_TRAP16 && type != GATE_INT32 && type != GATE_TRAP32) {
    raise(EXC_GP, vector * 8 + 2 + ext, true); return;
  }
  // SDM 6.12.1.1: INT n / INT3 / INTO check the gate's DPL against CPL; hardware interrupts do not.
  if (software && gdpl < cpl()) { raise(EXC_GP, vector * 8 + 2, true); return; }
  if ((hi & 0x8000) == 0) { raise(EXC_NP, vector * 8 + 2 + ext, true); return; }
  const sel = lo >>> 16;
  const offset = (lo & 0xffff) | (hi & 0xffff_0000);
  const gate32 = (type & 8) != 0;
  const trap = (type & 1) != 0;
  if ((sel & 0xfffc) == 0) { raise(EXC_GP, ext, true); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const cattr = descAttr(descHi);
  const dpl = (cattr >> ATTR_DPL_SHIFT) & 3;
  if ((cattr & ATTR_S) == 0 || (cattr & 0b1000) == 0 || dpl > cpl()) { raise(EXC_GP, (sel & 0xfffc) + ext, true); return; }
  if ((cattr & ATTR_P) == 0) { raise(EXC_NP, (sel & 0xfffc) + ext, true); return; }
  const conforming = (cattr & 0b0100) != 0;
  const eoff = gate32 ? offset : offset & 0xffff;
  if (eoff > descLimit(descLo, descHi)) { raise(EXC_GP, ext, true); return; }
  const csLo = descLo, csHi = descHi, csAddr = descAddr;
  const oldCpl = cpl();
  const oldFlags = pushedFlags();
  const n: u32 = gate32 ? 4 : 2;
  const frameWords: u32 = hasError ? 4 : 3;
  // From virtual-8086 mode the handler must be a ring-0 non-conforming code segment (SDM 20.3.1.1).
  const fromVm86 = vm86();
  if (fromVm86 && (conforming || dpl != 0)) { raise(EXC_GP, (sel & 0xfffc) + ext, true); return; }
  if (fromVm86 || (!conforming && dpl < oldCpl)) {
    // Inter-privilege: new SS:ESP from the TSS for level `dpl` (SDM 7.2.1, Figure 7-2).
    const tssBase = segBase(SEG_TR);
    const tss32 = (segAttr(SEG_TR) & 0b1000) != 0;
    let newEsp: u32, newSs: u32;
    setAccessUser(false);
    if (tss32) {
      const at: u32 = 4 + dpl * 8;
      if (at + 5 > segLimit(SEG_TR)) { setAccessUser(u); raise(EXC_TS, segSel(SEG_TR) & 0xfffc, true); return; }
      newEsp = readLin32(tssBase + at);
      newSs = readLin16(tssBase + at + 4);
    } else {
      const at: u32 = 2 + dpl * 4;
      if (at + 3 > segLimit(SEG_TR)) { setAccessUser(u); raise(EXC_TS, segSel(SEG_TR) & 0xfffc, true); return; }
      newEsp = readLin16(tssBase + at);
      newSs = readLin16(tssBase + at + 2);
    }
    setAccessUser(u);
    if (faulted) return;
    // The new SS must be a present writable data segment with DPL = RPL = new CPL; faults here are #TS.
    if ((newSs & 0xfffc) == 0) { raise(EXC_TS, ext, true); return; }
    if (!readDescriptor(newSs, EXC_TS)) return;
    const sattr = descAttr(descHi);
    if ((newSs & 3) != dpl || ((sattr >> ATTR_DPL_SHIFT) & 3) != dpl || (sattr & ATTR_S) == 0 || (sattr & 0b1010) != 0b0010) {
      raise(EXC_TS, (newSs & 0xfffc) + ext, true); return;
    }
    if ((sattr & ATTR_P) == 0) { raise(EXC_SS, (newSs & 0xfffc) + ext, true); return; }
    const ssBase = descBase(descLo, descHi);
    const ssLimit = descLimit(descLo, descHi);
    const ss32 = (sattr & ATTR_DB) != 0;
    const spMask: u32 = ss32 ? 0xffff_ffff : 0xffff;
    // From VM86 the frame also holds GS FS DS ES above SS (SDM Figure 20-5).
    const extra: u32 = fromVm86 ? 4 : 0;
    const total = n * (frameWords + 2 + extra);
    const top = (newEsp - total) & spMask;
    // The frame must fit the new (expand-up) stack segment (SDM 6.12.1.2: #SS(new SS) otherwise).
    if (top + total - 1 > ssLimit || top + total - 1 < top) { raise(EXC_SS, (newSs & 0xfffc) + ext, true); return; }
    // Write the frame through supervisor accesses at the new level: SS, ESP, EFLAGS, CS, EIP, [error].
    const oldSs = segSel(SEG_SS_INDEX);
    const oldEsp = reg32(ESP);
    setAccessUser(false);
    const vals = frameVals(oldSs, oldEsp, oldFlags, segSel(1), returnEip, hasError, error);
    for (let i: u32 = 0; i < frameWords + 2; i++) {
      const a = ssBase + ((top + i * n) & spMask);
      const v = unchecked(vals[frameWords + 1 - i]);
      if (n == 4) writeLin32(a, v); else writeLin16(a, v);
      if (faulted) { setAccessUser(u); return; }
    }
    for (let i: u32 = 0; i < extra; i++) {
      // ES, DS, FS, GS at increasing addresses above SS.
      const segIdx: u32 = i == 0 ? 0 : i == 1 ? 3 : i == 2 ? 4 : 5;
      const a = ssBase + ((top + (frameWords + 2 + i) * n) & spMask);
      if (n == 4) writeLin32(a, segSel(segIdx)); else writeLin16(a, segSel(segIdx));
      if (faulted) { setAccessUser(u); return; }
    }
    if (fromVm86) {
      // Entering protected mode from VM86: the data segment registers become null (SDM 20.3.1.1).
      setSegCache(0, 0, 0, 0, 0); setSegCache(3, 0, 0, 0, 0); setSegCache(4, 0, 0, 0, 0); setSegCache(5, 0, 0, 0, 0);
    }
    const ssHi = descHi, ssLo = descLo, ssAddr = descAddr;
    setSegCache(SEG_SS_INDEX, newSs, ssBase, descLimit(ssLo, ssHi), sattr);
    setDescriptorState(ssLo, ssHi, ssAddr);
    if (ss32) setReg32(ESP, top); else setReg16(ESP, top);
    setDescriptorState(csLo, csHi, csAddr);
    loadCsProt(sel, dpl);
  } else {
    const newCpl = conforming ? oldCpl : dpl;
    if (!conforming && dpl != oldCpl) { raise(EXC_GP, (sel & 0xfffc) + ext, true); return; }
    const ss32 = (segAttr(SEG_SS_INDEX) & ATTR_DB) != 0;
    const spMask: u32 = ss32 ? 0xffff_ffff : 0xffff;
    const total = n * frameWords;
    const top = (reg32(ESP) - total) & spMask;
    stackCheck(top, total, SEGV_WRITE);
    if (faulted) return;
    const ssb = segBase(SEG_SS_INDEX);
    const vals = frameVals(0, 0, oldFlags, segSel(1), returnEip, hasError, error);
    for (let i: u32 = 0; i < frameWords; i++) {
      const a = ssb + ((top + i * n) & spMask);
      const v = unchecked(vals[frameWords + 1 - i]);
      if (n == 4) writeLin32(a, v); else writeLin16(a, v);
      if (faulted) return;
    }
    if (ss32) setReg32(ESP, top); else setReg16(ESP, top);
    setDescriptorState(csLo, csHi, csAddr);
    loadCsProt(sel, newCpl);
  }
  // SDM 6.12.1.2: both gate kinds clear TF, VM, RF and NT; an interrupt gate also clears IF.
  setFlags(0, TF | VM | RF | NT | (trap ? 0 : IF));
  updateMode();
  returnTo(eoff);
}

// The frame as [SS, ESP, EFLAGS, CS, EIP, error?]; the writers walk it from the end, so the lowest address
// gets the error code (or EIP) and the highest gets SS.
const frame = new StaticArray<u32>(6);
function frameVals(ss: u32, esp: u32, flags: u32, cs: u32, eip: u32, hasError: bool, error: u32): StaticArray<u32> {
  if (hasError) {
    frame[5] = error; frame[4] = eip; frame[3] = cs; frame[2] = flags; frame[1] = esp; frame[0] = ss;
  } else {
    frame[4] = eip; frame[3] = cs; frame[2] = flags; frame[1] = esp; frame[0] = ss;
  }
  return frame;
}
