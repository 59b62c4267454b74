// Bit tests and scans: BT BTS BTR BTC (register, immediate and memory bit-string forms), BSF BSR, SETcc.
import { dOp, dOsz, dReg, dMod, dRm, dImm, dSeg, dA32 } from "../decode";
import { faulted, raiseUD } from "../exceptions";
import { setFlags, condition, CF, ZF, OF, AF, SF, PF } from "../flags";
import { readG, writeG, readE, getReg, setReg, ea } from "../operand";
import { readSz, segAddr, probeWrite, readLin, writeLin } from "../mem";
import { SEGV_READ, SEGV_WRITE } from "../state";

// Bit operations in encoding order of 0F BA /4../7: BT BTS BTR BTC.
const BT: u32 = 0, BTS: u32 = 1, BTR: u32 = 2;

function bitOp(kind: u32, size: u32, bitOffset: u32, immediate: bool): void {
  const bits = size << 3;
  if (dMod() == 3) {
    const bit = bitOffset & (bits - 1);
    const v = getReg(dRm(), size);
    applyBit(kind, size, v, bit, true, 0);
    return;
  }
  // Memory: a register bit offset addresses a bit string beyond the operand (signed, SDM BT); an immediate
  // offset is taken modulo the operand size.
  let off = ea();
  let bit: u32;
  if (immediate) {
    bit = bitOffset & (bits - 1);
  } else {
    const sOff = size == 2 ? <i32><i16>bitOffset : <i32>bitOffset;
    off += <u32>((sOff >> (size == 2 ? 4 : 5)) * <i32>size);
    if (!dA32()) off &= 0xffff;
    bit = <u32>sOff & (bits - 1);
  }
  if (kind == BT) {
    const v = readSz(dSeg(), off, size);
    if (faulted) return;
    applyBit(kind, size, v, bit, false, 0);
    return;
  }
  const lin = segAddr(dSeg(), off, size, SEGV_READ | SEGV_WRITE);
  if (faulted) return;
  probeWrite(lin, size);
  if (faulted) return;
  const v = readLin(lin, size);
  if (faulted) return;
  applyBit(kind, size, v, bit, false, lin);
}

function applyBit(kind: u32, size: u32, v: u32, bit: u32, reg: bool, lin: u32): void {
  const m: u32 = 1 << bit;
  // CF = the selected bit; OF SF AF PF undefined (left unchanged here, as P6 does); ZF unchanged.
  setFlags((v & m) != 0 ? CF : 0, CF);
  if (kind == BT) return;
  const r = kind == BTS ? v | m : kind == BTR ? v & ~m : v ^ m;
  if (reg) setReg(dRm(), size, r); else writeLin(lin, size, r);
}

/** 0F A3 BT, 0F AB BTS, 0F B3 BTR, 0F BB BTC: Ev,Gv. */
export function opBtReg(): void {
  const kind = (dOp() >> 3) & 3; // A3 -> 0, AB -> 1, B3 -> 2, BB -> 3
  bitOp(kind, dOsz(), readG(dOsz()), false);
}

/** 0F BA /4-/7: Ev,Ib. */
export function opGrp8(): void {
  if (dReg() < 4) { raiseUD(); return; }
  bitOp(dReg() - 4, dOsz(), dImm(), true);
}

/** 0F BC BSF, 0F BD BSR. A zero source sets ZF and leaves the destination unchanged (P6 behaviour). */
export function opBsfBsr(): void {
  const v = readE(dOsz());
  if (faulted) return;
  if (v == 0) { setFlags(ZF, ZF | CF | OF | SF | AF | PF); return; }
  const r: u32 = dOp() == 0x1bc ? ctz<u32>(v) : 31 - clz<u32>(v);
  writeG(dOsz(), r);
  setFlags(0, ZF | CF | OF | SF | AF | PF);
}

/** 0F 90-9F SETcc Eb. */
export function opSetcc(): void {
  const v: u32 = condition(dOp() & 15) ? 1 : 0;
  if (dMod() == 3) { setReg(dRm(), 1, v); return; }
  const lin = segAddr(dSeg(), ea(), 1, SEGV_WRITE);
  if (faulted) return;
  writeLin(lin, 1, v);
}
