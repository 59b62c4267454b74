// Operand access for handlers: the effective address of the ModRM memory operand, register and r/m operands of
// 1, 2 or 4 bytes, and the stack. Sizes are byte counts (1, 2, 4).
import { CPU_MODE, MODE_STACK32 } from "../layout/memory";
import { cpu, reg8, reg16, reg32, setReg8, setReg16, setReg32, ESP, SEGV_READ, SEGV_WRITE, SEG_SS_INDEX } from "./state";
import { faulted } from "./exceptions";
import { dA32, dBase, dIndex, dScale, dDisp, dMod, dRm, dReg, dSeg } from "./decode";
import { segAddr, readLin, writeLin, probeWrite, readSz, writeSz } from "./mem";

/** Offset (within dSeg()) of the ModRM memory operand. */
@inline export function ea(): u32 {
  let a = dDisp();
  if (dBase() >= 0) a += reg32(<u32>dBase());
  if (dIndex() >= 0) a += reg32(<u32>dIndex()) << dScale();
  return dA32() ? a : a & 0xffff;
}

@inline export function getReg(r: u32, size: u32): u32 {
  return size == 4 ? reg32(r) : size == 2 ? reg16(r) : reg8(r);
}
@inline export function setReg(r: u32, size: u32, v: u32): void {
  if (size == 4) setReg32(r, v); else if (size == 2) setReg16(r, v); else setReg8(r, v);
}

/** The reg-field operand. */
@inline export function readG(size: u32): u32 { return getReg(dReg(), size); }
@inline export function writeG(size: u32, v: u32): void { setReg(dReg(), size, v); }

/** The r/m operand, read only. */
@inline export function readE(size: u32): u32 {
  if (dMod() == 3) return getReg(dRm(), size);
  return readSz(dSeg(), ea(), size);
}
/** The r/m operand, written only. */
@inline export function writeE(size: u32, v: u32): void {
  if (dMod() == 3) { setReg(dRm(), size, v); return; }
  writeSz(dSeg(), ea(), size, v);
}

// Read-modify-write: readEForWrite checks that the write cannot fault before anything changes, so writeBackE
// after a successful read never faults.
let rmwLin: u32 = 0;
@inline export function readEForWrite(size: u32): u32 {
  if (dMod() == 3) return getReg(dRm(), size);
  return readForWrite(dSeg(), ea(), size);
}
/** Read `size` bytes at seg:off after checking that writing them cannot fault (translated code uses it too). */
export function readForWrite(s: u32, off: u32, size: u32): u32 {
  const lin = segAddr(s, off, size, SEGV_READ | SEGV_WRITE);
  if (faulted) return 0;
  probeWrite(lin, size);
  if (faulted) return 0;
  rmwLin = lin;
  return readLin(lin, size);
}
@inline export function writeBackE(size: u32, v: u32): void {
  if (dMod() == 3) setReg(dRm(), size, v); else writeLin(rmwLin, size, v);
}

// ---- stack ----
@inline export function stack32(): bool { return (load<u32>(cpu + CPU_MODE) & MODE_STACK32) != 0; }
@inline export function sp(): u32 { return stack32() ? reg32(ESP) : reg16(ESP); }
@inline export function setSp(v: u32): void { if (stack32()) setReg32(ESP, v); else setReg16(ESP, v); }
@inline function spMask(): u32 { return stack32() ? 0xffff_ffff : 0xffff; }

/** Push `size` bytes. Nothing changes if it faults. */
export function push(size: u32, v: u32): void {
  const nsp = (sp() - size) & spMask();
  writeSz(SEG_SS_INDEX, nsp, size, v);
  if (faulted) return;
  setSp(nsp);
}
/** Read the value `size` bytes at SP + `offset` without popping. */
export function peek(size: u32, offset: u32): u32 {
  return readSz(SEG_SS_INDEX, (sp() + offset) & spMask(), size);
}
/** Pop `size` bytes. Nothing changes if it faults. */
export function pop(size: u32): u32 {
  const v = readSz(SEG_SS_INDEX, sp(), size);
  if (faulted) return 0;
  setSp((sp() + size) & spMask());
  return v;
}
/**
 * Check a block of `size` bytes at stack offset `off` before a multi-part push or pop, so that a fault leaves
 * nothing half-done. A 16-bit stack wraps at 64 KiB: a block that runs past 0xFFFF is checked as the two pieces
 * its individual accesses touch (the 286 data and the SDM: PUSHA with SP = 8 writes across the wrap).
 */
export function stackCheck(off: u32, size: u32, need: u32): void {
  if (!stack32() && off + size > 0x1_0000) {
    segAddr(SEG_SS_INDEX, off, 0x1_0000 - off, need);
    if (faulted) return;
    segAddr(SEG_SS_INDEX, 0, off + size - 0x1_0000, need);
    return;
  }
  segAddr(SEG_SS_INDEX, off, size, need);
}

/** SP adjusted by `delta` within the stack's width, not written back. */
@inline export function spPlus(delta: u32): u32 { return (sp() + delta) & spMask(); }
