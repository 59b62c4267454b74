// Hardware task switching (SDM 7.3): JMP/CALL to a TSS or task gate, interrupts and exceptions through a task
// gate, and IRET with NT set. Saves the outgoing task's state into its TSS, loads the incoming one, maintains
// the busy bits, NT and the back link, sets CR0.TS, and loads the new segments, raising #TS/#NP/#SS in the
// context of the new task (SDM 7.3 step 12).
import { CPU_CR0, CPU_CR3, CPU_DR, SEG_TR, SEG_LDTR } from "../layout/memory";
import {
  cpu, cr0, cr4, segSel, segBase, segAttr, setSegCache, updateMode, setCpl, reg32, setReg32, reg16, setReg16,
  loadSegReal, ATTR_S, ATTR_P, ATTR_DPL_SHIFT, SEG_SS_INDEX, ESP,
} from "./state";
import { raise, faulted, setFaultEip, EXC_GP, EXC_NP, EXC_TS, EXC_SS } from "./exceptions";
import { getFlags, setFlags, NT, VM } from "./flags";
import { readLin16, readLin32, writeLin8, writeLin16, writeLin32, setAccessUser, writeSz } from "./mem";
import { readDescriptor, descLo, descHi, descAddr, descAttr, descBase, descLimit, setDescriptorState, setAccessed } from "./segments";
import { flushTlb } from "./exec";
import { loadPdptes } from "../mmu/paging";
import { dr, debugRegistersChanged } from "./debug";
import { stack32 } from "./operand";

export const TASK_JMP: u32 = 0;
export const TASK_CALL: u32 = 1; // CALL and interrupts/exceptions through a task gate: nested, back link set
export const TASK_IRET: u32 = 2;

const TSS16_AVAIL: u32 = 1, TSS16_BUSY: u32 = 3, TSS32_AVAIL: u32 = 9, TSS32_BUSY: u32 = 11;
const BUSY_BIT: u32 = 2; // type bit 1 distinguishes busy from available

/** The EIP execution continues at after a successful switch. */
export let taskEip: u32 = 0;

/**
 * Switch to the task whose TSS selector is `sel`. `retEip` is saved as the outgoing task's EIP. For an
 * exception through a task gate, `hasError` pushes `error` on the new task's stack. Returns false if a fault
 * was raised (before the switch: in the old task; after it: in the new one, with taskEip valid).
 */
export function taskSwitch(sel: u32, kind: u32, retEip: u32, hasError: bool, error: u32): bool {
  if ((sel & 4) != 0) { raise(EXC_GP, sel & 0xfffc, true); return false; } // a TSS must be in the GDT
  if (!readDescriptor(sel, EXC_GP)) return false;
  const attr = descAttr(descHi);
  const type = attr & 0xf;
  const wantBusy = kind == TASK_IRET;
  const okType = wantBusy ? (type == TSS16_BUSY || type == TSS32_BUSY) : (type == TSS16_AVAIL || type == TSS32_AVAIL);
  if ((attr & ATTR_S) != 0 || !okType) { raise(kind == TASK_IRET ? EXC_TS : EXC_GP, sel & 0xfffc, true); return false; }
  if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return false; }
  const new32 = (type & 8) != 0;
  const nBase = descBase(descLo, descHi);
  const nLimit = descLimit(descLo, descHi);
  const minLimit: u32 = new32 ? 0x67 : 0x2b;
  if (nLimit < minLimit) { raise(EXC_TS, sel & 0xfffc, true); return false; }
  const nLo = descLo, nHi = descHi, nAddr = descAddr;

  // Read everything from the new TSS before changing anything (a #PF here belongs to the old task).
  setAccessUser(false);
  let nEip: u32, nFlags: u32, nCr3: u32 = 0, nLdt: u32;
  if (new32) {
    nCr3 = readLin32(nBase + 0x1c);
    nEip = readLin32(nBase + 0x20);
    nFlags = readLin32(nBase + 0x24);
    for (let i: u32 = 0; i < 8; i++) regs[i] = readLin32(nBase + 0x28 + i * 4);
    for (let i: u32 = 0; i < 6; i++) sels[i] = readLin16(nBase + 0x48 + i * 4);
    nLdt = readLin16(nBase + 0x60);
  } else {
    nEip = readLin16(nBase + 0x0e);
    nFlags = readLin16(nBase + 0x10);
    for (let i: u32 = 0; i < 8; i++) regs[i] = readLin16(nBase + 0x12 + i * 2);
    for (let i: u32 = 0; i < 4; i++) sels[i] = readLin16(nBase + 0x22 + i * 2);
    sels[4] = 0; sels[5] = 0;
    nLdt = readLin16(nBase + 0x2a);
  }
  if (faulted) return false;

  // Save the outgoing task (SDM 7.3 step 8): EIP, EFLAGS, GPRs, segment selectors.
  const oBase = segBase(SEG_TR);
  const old32 = (segAttr(SEG_TR) & 0b1000) != 0;
  const oldSel = segSel(SEG_TR);
  let flags = getFlags();
  if (kind == TASK_IRET) flags &= ~NT;
  if (old32) {
    writeLin32(oBase + 0x20, retEip);
    writeLin32(oBase + 0x24, flags);
    for (let i: u32 = 0; i < 8; i++) writeLin32(oBase + 0x28 + i * 4, reg32(i));
    for (let i: u32 = 0; i < 6; i++) writeLin16(oBase + 0x48 + i * 4, segSel(i));
  } else {
    writeLin16(oBase + 0x0e, retEip);
    writeLin16(oBase + 0x10, flags);
    for (let i: u32 = 0; i < 8; i++) writeLin16(oBase + 0x12 + i * 2, reg16(i));
    for (let i: u32 = 0; i < 4; i++) writeLin16(oBase + 0x22 + i * 2, segSel(i));
  }
  if (faulted) return false;
  // Old TSS: JMP and IRET leave it available (clear busy); CALL keeps it busy.
  if (kind != TASK_CALL) clearBusy(oldSel);
  if (kind == TASK_CALL) {
    writeLin16(nBase, oldSel); // back link
    nFlags |= NT;
  }
  if (kind != TASK_IRET) {
    writeLin8(nAddr + 5, (nHi >>> 8) | BUSY_BIT);
    setDescriptorState(nLo, nHi | (BUSY_BIT << 8), nAddr);
  }
  if (faulted) return false;

  // Commit: TR, CR0.TS, CR3, registers, EFLAGS. From here on, faults belong to the new task.
  setSegCache(SEG_TR, sel, nBase, nLimit, attr | (kind != TASK_IRET ? BUSY_BIT : 0));
  store<u32>(cpu + CPU_CR0, cr0() | (1 << 3));
  if (new32 && (cr0() & 0x8000_0000) != 0) {
    store<u64>(cpu + CPU_CR3, <u64>(nCr3 & 0xffff_fff8));
    // In PAE mode the new CR3 loads the PDPTEs; a reserved bit there is #GP in the new task (SDM 7.3 step 11).
    if ((cr4() & (1 << 5)) != 0 && !loadPdptes()) return false;
    flushTlb(true);
  }
  for (let i: u32 = 0; i < 8; i++) { if (new32) setReg32(i, regs[i]); else setReg16(i, regs[i]); }
  setFlags(new32 ? nFlags : (getFlags() & 0xffff_0000) | nFlags, 0xffff_ffff);
  taskEip = nEip;
  setFaultEip(nEip);
  // A task switch clears the local breakpoint enables L0-L3 (SDM 17.2.4).
  store<u64>(cpu + CPU_DR + 7 * 8, <u64>(dr(7) & ~<u32>0x55));
  debugRegistersChanged();
  // Selectors first with empty caches, so a fault below leaves the new task's selectors visible (SDM 7.3).
  for (let i: u32 = 0; i < 6; i++) setSegCache(i, sels[i], 0, 0, 0);
  setSegCache(SEG_LDTR, nLdt, 0, 0, 0);
  updateMode();

  if ((nFlags & VM) != 0 && new32) {
    for (let i: u32 = 0; i < 6; i++) loadSegReal(i, sels[i]);
    setCpl(3);
    setAccessUser(true);
    updateMode();
    return loadLdtFor(nLdt);
  }
  if (!loadLdtFor(nLdt)) return false;
  // CS: a code segment; CPL becomes its RPL (SDM 7.3 step 12).
  const cs = sels[1];
  const newCpl = cs & 3;
  if (!loadTaskSeg(1, cs, newCpl)) return false;
  setCpl(newCpl);
  setAccessUser(newCpl == 3);
  if (!loadTaskSeg(SEG_SS_INDEX, sels[2], newCpl)) return false;
  for (let i: u32 = 0; i < 6; i++) {
    if (i == 1 || i == 2) continue;
    if (!loadTaskSeg(i, sels[i], newCpl)) return false;
  }
  updateMode();
  if (hasError) {
    const n: u32 = new32 ? 4 : 2;
    const sp = (reg32(ESP) - n) & (stack32() ? 0xffff_ffff : 0xffff);
    writeSz(SEG_SS_INDEX, sp, n, error);
    if (faulted) return false;
    if (stack32()) setReg32(ESP, sp); else setReg16(ESP, sp);
  }
  return true;
}

const regs = new StaticArray<u32>(8);
const sels = new StaticArray<u32>(6);

function clearBusy(sel: u32): void {
  if (!readDescriptor(sel, EXC_GP)) return;
  writeLin8(descAddr + 5, (descHi >>> 8) & ~BUSY_BIT);
}

function loadLdtFor(ldt: u32): bool {
  if ((ldt & 0xfffc) == 0) { setSegCache(SEG_LDTR, ldt, 0, 0, 0); return true; }
  if ((ldt & 4) != 0 || !readDescriptor(ldt, EXC_TS)) {
    if (!faulted) raise(EXC_TS, ldt & 0xfffc, true);
    return false;
  }
  const a = descAttr(descHi);
  if ((a & ATTR_S) != 0 || (a & 0xf) != 2) { raise(EXC_TS, ldt & 0xfffc, true); return false; }
  if ((a & ATTR_P) == 0) { raise(EXC_TS, ldt & 0xfffc, true); return false; }
  setSegCache(SEG_LDTR, ldt, descBase(descLo, descHi), descLimit(descLo, descHi), a);
  return true;
}

/** Load segment `s` of the incoming task; failures are #TS (or #SS/#NP for not-present, SDM Table 7-1). */
function loadTaskSeg(s: u32, sel: u32, c: u32): bool {
  if ((sel & 0xfffc) == 0) {
    if (s == 1 || s == SEG_SS_INDEX) { raise(EXC_TS, sel & 0xfffc, true); return false; }
    setSegCache(s, sel, 0, 0, 0);
    return true;
  }
  if (!readDescriptor(sel, EXC_TS)) return false;
  const a = descAttr(descHi);
  const type = a & 0xf;
  const dpl = (a >> ATTR_DPL_SHIFT) & 3;
  const rpl = sel & 3;
  let ok = (a & ATTR_S) != 0;
  if (s == 1) ok = ok && (type & 0b1000) != 0 && ((type & 0b0100) != 0 ? dpl <= c : dpl == c);
  else if (s == SEG_SS_INDEX) ok = ok && (type & 0b1010) == 0b0010 && dpl == c && rpl == c;
  else ok = ok && ((type & 0b1010) != 0b1000) && ((type & 0b1100) == 0b1100 || (dpl >= c && dpl >= rpl));
  if (!ok) { raise(EXC_TS, sel & 0xfffc, true); return false; }
  if ((a & ATTR_P) == 0) { raise(s == SEG_SS_INDEX ? EXC_SS : EXC_NP, sel & 0xfffc, true); return false; }
  setAccessed();
  if (faulted) return false;
  setSegCache(s, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  return true;
}

