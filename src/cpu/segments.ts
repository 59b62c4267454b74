// Segment register loads: real and virtual-8086 mode (base = selector << 4) and protected mode (descriptor
// fetch from the GDT or LDT with the checks of SDM 5.4-5.8 and the MOV/POP/LDS reference pages).
import { CPU_GDTR_BASE, CPU_GDTR_LIMIT, CPU_MODE, MODE_PROT, MODE_VM86, CPU_SHADOW } from "../layout/memory";
import {
  cpu, cpl, segPtr, segBase, segLimit, segSel, loadSegReal, setSegCache, updateMode, SEG_SS_INDEX,
  ATTR_S, ATTR_P, ATTR_G, ATTR_DPL_SHIFT, ATTR_ACCESSED, ATTR_REAL_DATA,
} from "./state";
import { raise, faulted, EXC_GP, EXC_NP, EXC_SS } from "./exceptions";
import { readLin32, writeLin8, setAccessUser, accUser } from "./mem";
import { SEG_LIMIT, SEG_ATTR, SEG_VALID } from "../layout/memory";
import { accessBits } from "./state";

@inline export function protMode(): bool { return (load<u32>(cpu + CPU_MODE) & (MODE_PROT | MODE_VM86)) == MODE_PROT; }
@inline export function vm86(): bool { return (load<u32>(cpu + CPU_MODE) & MODE_VM86) != 0; }

// A descriptor as read by readDescriptor().
export let descLo: u32 = 0;
export let descHi: u32 = 0;
/** Linear address of the descriptor last read (to set its accessed or busy bit). */
export let descAddr: u32 = 0;

/** Whether the 8 bytes of `sel`'s descriptor lie within the GDT or LDT limit (no fault either way). */
export function selectorInTable(sel: u32): bool {
  if ((sel & 4) != 0) {
    if ((segSel(6) & 0xfffc) == 0) return false;
    return (sel & 0xfff8) + 7 <= segLimit(6);
  }
  return (sel & 0xfff8) + 7 <= load<u32>(cpu + CPU_GDTR_LIMIT);
}

/**
 * Read the descriptor for `sel` from the GDT or LDT (implicit supervisor accesses). Raises `vector`(sel) when
 * the selector lies beyond the table's limit; returns false then.
 */
export function readDescriptor(sel: u32, vector: u32): bool {
  let base: u32, limit: u32;
  if ((sel & 4) != 0) {
    base = segBase(6);
    limit = segLimit(6);
    if ((segSel(6) & 0xfffc) == 0) { raise(vector, sel & 0xfffc, true); return false; }
  } else {
    base = <u32>load<u64>(cpu + CPU_GDTR_BASE);
    limit = load<u32>(cpu + CPU_GDTR_LIMIT);
  }
  const off = sel & 0xfff8;
  if (off + 7 > limit) { raise(vector, sel & 0xfffc, true); return false; }
  const u = accUser;
  setAccessUser(false);
  descAddr = base + off;
  descLo = readLin32(descAddr);
  if (!faulted) descHi = readLin32(descAddr + 4);
  setAccessUser(u);
  return !faulted;
}

@inline export function descBase(lo: u32, hi: u32): u32 { return (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000); }
@inline export function descAttr(hi: u32): u32 { return (hi >>> 8) & 0xf0ff; }
/** The byte-granular limit: with G set, the 20-bit limit counts 4 KiB units (SDM 3.4.5). */
@inline export function descLimit(lo: u32, hi: u32): u32 {
  const l = (lo & 0xffff) | (hi & 0x000f_0000);
  return (hi & (ATTR_G << 8)) != 0 ? (l << 12) | 0xfff : l;
}

/** Make (lo, hi, addr) the current descriptor again, when a transfer read a second one after it. */
export function setDescriptorState(lo: u32, hi: u32, addr: u32): void {
  descLo = lo;
  descHi = hi;
  descAddr = addr;
}

/** Set the accessed bit of the descriptor last read, as the CPU does on a segment load (SDM 3.4.5.1). */
export function setAccessed(): void {
  if ((descHi & (ATTR_ACCESSED << 8)) != 0) return;
  descHi |= ATTR_ACCESSED << 8;
  const u = accUser;
  setAccessUser(false);
  writeLin8(descAddr + 5, descHi >>> 8);
  setAccessUser(u);
}

/** Load a data or stack segment register (ES, SS, DS, FS, GS) with `sel`. */
export function loadSeg(s: u32, sel: u32): void {
  sel &= 0xffff;
  if (!protMode()) {
    loadSegReal(s, sel);
    if (vm86()) {
      // Virtual-8086 segments: 64 KiB, read/write, DPL 3 (SDM 20.2).
      const p = segPtr(s);
      store<u32>(p + SEG_LIMIT, 0xffff);
      store<u32>(p + SEG_ATTR, ATTR_REAL_DATA | (3 << ATTR_DPL_SHIFT));
      store<u32>(p + SEG_VALID, accessBits(ATTR_REAL_DATA));
    }
    if (s == SEG_SS_INDEX) store<u32>(cpu + CPU_SHADOW, 1);
    return;
  }
  const rpl = sel & 3;
  const c = cpl();
  if ((sel & 0xfffc) == 0) {
    // A null selector: #GP(0) for SS; for the others the register becomes unusable (SDM 3.4.2).
    if (s == SEG_SS_INDEX) { raise(EXC_GP, 0, true); return; }
    setSegCache(s, sel, 0, 0, 0);
    return;
  }
  if (!readDescriptor(sel, EXC_GP)) return;
  const attr = descAttr(descHi);
  const type = attr & 0xf;
  const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
  if (s == SEG_SS_INDEX) {
    // SS: a writable data segment with RPL = DPL = CPL (SDM MOV, "IF SS is loaded").
    if ((attr & ATTR_S) == 0 || (type & 0b1010) != 0b0010 || rpl != c || dpl != c) { raise(EXC_GP, sel & 0xfffc, true); return; }
    if ((attr & ATTR_P) == 0) { raise(EXC_SS, sel & 0xfffc, true); return; }
  } else {
    // Data or readable code; privilege checked unless conforming code (SDM MOV, "IF DS, ES, FS, or GS").
    if ((attr & ATTR_S) == 0 || (type & 0b1010) == 0b1000) { raise(EXC_GP, sel & 0xfffc, true); return; }
    const conforming = (type & 0b1100) == 0b1100;
    if (!conforming && (rpl > dpl || c > dpl)) { raise(EXC_GP, sel & 0xfffc, true); return; }
    if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  }
  setAccessed();
  if (faulted) return;
  setSegCache(s, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  if (s == SEG_SS_INDEX) {
    store<u32>(cpu + CPU_SHADOW, 1);
    updateMode();
  }
}
