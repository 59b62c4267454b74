// Protection queries: LAR, LSL, VERR, VERW, ARPL (protected mode only; #UD in real and virtual-8086 mode).
// A selector that fails a check clears ZF and raises nothing (SDM LAR/LSL/VERR/VERW).
import { dOp, dOsz, dReg } from "../decode";
import { faulted, raiseUD, EXC_GP } from "../exceptions";
import { setFlags, ZF } from "../flags";
import { cpl, ATTR_S, ATTR_DPL_SHIFT } from "../state";
import { readE, readG, writeG, readEForWrite, writeBackE } from "../operand";
import { protMode, readDescriptor, selectorInTable, descLo, descHi, descAttr, descLimit } from "../segments";

// System descriptor types LAR accepts (SDM LAR): TSS16 avail/busy, LDT, call gate 16, task gate,
// TSS32 avail/busy, call gate 32. LSL accepts those that have a limit: the TSSes and the LDT.
const LAR_TYPES: u32 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 11) | (1 << 12);
const LSL_TYPES: u32 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);

/**
 * Read the descriptor for `sel` without faulting on a bad selector: returns false (the caller clears ZF) for
 * null selectors and selectors beyond the table limit. A page fault while reading the table still faults.
 */
function probeDescriptor(sel: u32): bool {
  if ((sel & 0xfffc) == 0 || !selectorInTable(sel)) return false;
  return readDescriptor(sel, EXC_GP);
}

/** Privilege rule shared by LAR LSL VERR VERW: DPL >= CPL and DPL >= RPL, unless conforming code. */
function visible(sel: u32, attr: u32): bool {
  const conformingCode = (attr & ATTR_S) != 0 && (attr & 0b1100) == 0b1100;
  if (conformingCode) return true;
  const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
  return dpl >= cpl() && dpl >= (sel & 3);
}

/** 0F 02 LAR Gv,Ew; 0F 03 LSL Gv,Ew. */
export function opLarLsl(): void {
  if (!protMode()) { raiseUD(); return; }
  const sel = readE(2);
  if (faulted) return;
  if (!probeDescriptor(sel)) { if (!faulted) setFlags(0, ZF); return; }
  const attr = descAttr(descHi);
  const lsl = dOp() == 0x103;
  const ok = ((attr & ATTR_S) != 0 || ((lsl ? LSL_TYPES : LAR_TYPES) & (1 << (attr & 0xf))) != 0) && visible(sel, attr);
  if (!ok) { setFlags(0, ZF); return; }
  if (lsl) writeG(dOsz(), dOsz() == 4 ? descLimit(descLo, descHi) : descLimit(descLo, descHi) & 0xffff);
  else writeG(dOsz(), dOsz() == 4 ? descHi & 0x00f0_ff00 : descHi & 0xff00);
  setFlags(ZF, ZF);
}

/** 0F 00 /4 VERR, /5 VERW. */
export function verrVerw(): void {
  const sel = readE(2);
  if (faulted) return;
  if (!probeDescriptor(sel)) { if (!faulted) setFlags(0, ZF); return; }
  const attr = descAttr(descHi);
  let ok = (attr & ATTR_S) != 0 && visible(sel, attr);
  if (ok) {
    const code = (attr & 0b1000) != 0;
    ok = dReg() == 4 ? (!code || (attr & 0b0010) != 0) : (!code && (attr & 0b0010) != 0);
  }
  setFlags(ok ? ZF : 0, ZF);
}

/** 63 ARPL Ew,Gw: raise the destination selector's RPL to the source's. */
export function opArpl(): void {
  if (!protMode()) { raiseUD(); return; }
  const d = readEForWrite(2);
  if (faulted) return;
  const s = readG(2);
  if ((d & 3) < (s & 3)) {
    writeBackE(2, (d & ~3) | (s & 3));
    setFlags(ZF, ZF);
  } else {
    setFlags(0, ZF);
  }
}
