// Data movement: MOV in its forms, MOVZX/MOVSX, LEA, XCHG, CBW/CWDE/CWD/CDQ, XLAT, MOV to and from segment
// registers, LDS/LES/LSS/LFS/LGS, BSWAP, CMOVcc.
import { dOp, dOsz, dReg, dRm, dMod, dImm, dSeg, dA32 } from "../decode";
import { faulted, raiseUD } from "../exceptions";
import { condition } from "../flags";
import { readG, writeG, readE, writeE, readEForWrite, writeBackE, getReg, setReg, ea } from "../operand";
import { EAX, EBX, EDX, reg8, reg16, reg32, setReg16, setReg32, segSel, SEGV_READ } from "../state";
import { readSz, writeSz, segAddr } from "../mem";
import { loadSeg } from "../segments";
import { mask } from "./alu";

/** 88 Eb,Gb; 89 Ev,Gv; 8A Gb,Eb; 8B Gv,Ev. */
export function opMov(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  if ((dOp() & 2) == 0) {
    writeE(size, readG(size));
  } else {
    const v = readE(size);
    if (faulted) return;
    writeG(size, v);
  }
}

/** C6 Eb,Ib; C7 Ev,Iz (reg field must be 0). */
export function opMovEImm(): void {
  if (dReg() != 0) { raiseUD(); return; }
  const size: u32 = dOp() == 0xc6 ? 1 : dOsz();
  writeE(size, dImm() & mask(size));
}

/** B0-B7 MOV r8,Ib; B8-BF MOV r,Iz. */
export function opMovRegImm(): void {
  if (dOp() < 0xb8) setReg(dOp() & 7, 1, dImm());
  else setReg(dOp() & 7, dOsz(), dImm());
}

/** A0-A3: MOV AL/eAX to and from a memory offset (moffs). */
export function opMovMoffs(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  if (dOp() < 0xa2) {
    const v = readSz(dSeg(), dImm(), size);
    if (faulted) return;
    setReg(EAX, size, v);
  } else {
    writeSz(dSeg(), dImm(), size, getReg(EAX, size));
  }
}

/** 8D LEA Gv,M: the offset, truncated or zero-extended to the operand size. */
export function opLea(): void {
  if (dMod() == 3) { raiseUD(); return; }
  writeG(dOsz(), ea() & mask(dOsz()));
}

/** 86/87 XCHG Eb,Gb / Ev,Gv; 90-97 XCHG eAX,r. */
export function opXchg(): void {
  if (dOp() >= 0x90) {
    const r = dOp() & 7;
    const t = getReg(r, dOsz());
    setReg(r, dOsz(), getReg(EAX, dOsz()));
    setReg(EAX, dOsz(), t);
    return;
  }
  const size: u32 = dOp() == 0x86 ? 1 : dOsz();
  const a = readEForWrite(size);
  if (faulted) return;
  writeBackE(size, readG(size));
  writeG(size, a);
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
export function opMovx(): void {
  const src: u32 = (dOp() & 1) == 0 ? 1 : 2;
  let v = readE(src);
  if (faulted) return;
  if (dOp() >= 0x1be) v = src == 1 ? <u32>(<i32><i8>v) : <u32>(<i32><i16>v);
  writeG(dOsz(), v & mask(dOsz()));
}

/** 98 CBW/CWDE. */
export function opCbw(): void {
  if (dOsz() == 4) setReg32(EAX, <u32>(<i32><i16>reg16(EAX)));
  else setReg16(EAX, <u32>(<i16><i8>reg8(EAX)) & 0xffff);
}

/** 99 CWD/CDQ. */
export function opCwd(): void {
  if (dOsz() == 4) setReg32(EDX, (reg32(EAX) & 0x8000_0000) != 0 ? 0xffff_ffff : 0);
  else setReg16(EDX, (reg16(EAX) & 0x8000) != 0 ? 0xffff : 0);
}

/** D7 XLAT: AL = [seg:(e)BX + AL]. */
export function opXlat(): void {
  const off = dA32() ? reg32(EBX) + reg8(EAX) : (reg16(EBX) + reg8(EAX)) & 0xffff;
  const v = readSz(dSeg(), off, 1);
  if (faulted) return;
  setReg(EAX, 1, v);
}

/** 8C MOV Ev,Sw: a register destination takes the zero-extended selector at operand size; memory is 16-bit. */
export function opMovFromSeg(): void {
  if (dReg() > 5) { raiseUD(); return; }
  const sel = segSel(dReg());
  if (dMod() == 3) setReg(dRm(), dOsz(), sel);
  else writeE(2, sel);
}

/** 8E MOV Sw,Ew. Loading CS this way is #UD (SDM MOV). */
export function opMovToSeg(): void {
  if (dReg() > 5 || dReg() == 1) { raiseUD(); return; }
  const v = readE(2);
  if (faulted) return;
  loadSeg(dReg(), v);
}

/** C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: load a far pointer. */
export function opLoadFarPtr(): void {
  if (dMod() == 3) { raiseUD(); return; }
  let s: u32;
  if (dOp() == 0xc4) s = 0; else if (dOp() == 0xc5) s = 3; else if (dOp() == 0x1b2) s = 2; else if (dOp() == 0x1b4) s = 4; else s = 5;
  const off = ea();
  // Check the whole pointer first so that one straddling the limit faults before anything is loaded.
  segAddr(dSeg(), off, dOsz() + 2, SEGV_READ);
  if (faulted) return;
  const v = readSz(dSeg(), off, dOsz());
  if (faulted) return;
  const sel = readSz(dSeg(), (off + dOsz()) & (dA32() ? 0xffff_ffff : 0xffff), 2);
  if (faulted) return;
  loadSeg(s, sel);
  if (faulted) return;
  writeG(dOsz(), v);
}

/** 0F C8-CF BSWAP r32 (with a 16-bit operand the result is undefined; we clear the low word as P6 does). */
export function opBswap(): void {
  const r = dOp() & 7;
  if (dOsz() == 4) setReg32(r, bswap<u32>(reg32(r)));
  else setReg16(r, 0);
}

/** 0F 40-4F CMOVcc Gv,Ev: the source is read (and may fault) even when the condition is false (SDM CMOVcc). */
export function opCmov(): void {
  const v = readE(dOsz());
  if (faulted) return;
  if (condition(dOp() & 15)) writeG(dOsz(), v);
}
