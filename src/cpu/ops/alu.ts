// ADD OR ADC SBB AND SUB XOR CMP in all their forms, TEST, INC/DEC, NOT/NEG.
import { dOp, dReg, dImm, dOsz } from "../decode";
import { faulted } from "../exceptions";
import { flag, setLazy, setLazyResult, CF, OF, AF, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC } from "../flags";
import { readG, writeG, readE, readEForWrite, writeBackE, getReg, setReg } from "../operand";
import { EAX } from "../state";

// Encoding order of the ALU operations (bits 5..3 of opcodes 00-3F, the reg field of 80-83).
export const ALU_ADD: u32 = 0, ALU_OR: u32 = 1, ALU_ADC: u32 = 2, ALU_SBB: u32 = 3;
export const ALU_AND: u32 = 4, ALU_SUB: u32 = 5, ALU_XOR: u32 = 6, ALU_CMP: u32 = 7;

@inline export function szIndex(size: u32): u32 { return size >> 1; } // 1, 2, 4 -> 0, 1, 2
@inline export function mask(size: u32): u32 { return size == 4 ? 0xffff_ffff : (<u32>1 << (size << 3)) - 1; }

/** Compute `a op b` at `size` bytes, record the flags, return the result (masked to size). */
export function alu(op: u32, size: u32, a: u32, b: u32): u32 {
  const m = mask(size);
  const sz = szIndex(size);
  let r: u32;
  switch (op) {
    case ALU_ADD: r = (a + b) & m; setLazy(LF_ADD, sz, a, b, r); break;
    case ALU_OR: r = (a | b) & m; setLazy(LF_LOGIC, sz, a, b, r); break;
    case ALU_ADC: {
      const c: u32 = flag(CF) ? 1 : 0;
      r = (a + b + c) & m;
      setLazy(c != 0 ? LF_ADC : LF_ADD, sz, a, b, r);
      break;
    }
    case ALU_SBB: {
      const c: u32 = flag(CF) ? 1 : 0;
      r = (a - b - c) & m;
      setLazy(c != 0 ? LF_SBB : LF_SUB, sz, a, b, r);
      break;
    }
    case ALU_AND: r = a & b & m; setLazy(LF_LOGIC, sz, a, b, r); break;
    case ALU_XOR: r = (a ^ b) & m; setLazy(LF_LOGIC, sz, a, b, r); break;
    default: r = (a - b) & m; setLazy(LF_SUB, sz, a, b, r); break; // SUB, CMP
  }
  return r;
}

/** 00-3F, forms 0-5: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  eAX,Iz. */
export function opAlu(): void {
  const op = (dOp() >> 3) & 7;
  const form = dOp() & 7;
  const size: u32 = (form & 1) == 0 ? 1 : dOsz();
  if (form < 2) {
    const b = readG(size);
    if (op == ALU_CMP) {
      const a = readE(size);
      if (faulted) return;
      alu(op, size, a, b);
      return;
    }
    const a = readEForWrite(size);
    if (faulted) return;
    writeBackE(size, alu(op, size, a, b));
  } else if (form < 4) {
    const b = readE(size);
    if (faulted) return;
    const r = alu(op, size, readG(size), b);
    if (op != ALU_CMP) writeG(size, r);
  } else {
    const r = alu(op, size, getReg(EAX, size), dImm() & mask(size));
    if (op != ALU_CMP) setReg(EAX, size, r);
  }
}

/** 80 Eb,Ib; 81 Ev,Iz; 82 Eb,Ib (alias of 80); 83 Ev,Ib sign-extended. */
export function opGrp1(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  let b = dImm();
  if (dOp() == 0x83) b = <u32>(<i32><i8>b);
  b &= mask(size);
  if (dReg() == ALU_CMP) {
    const a = readE(size);
    if (faulted) return;
    alu(ALU_CMP, size, a, b);
    return;
  }
  const a = readEForWrite(size);
  if (faulted) return;
  writeBackE(size, alu(dReg(), size, a, b));
}

/** 84/85 TEST Eb,Gb / Ev,Gv; A8/A9 TEST AL,Ib / eAX,Iz. */
export function opTest(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  if (dOp() >= 0xa8) {
    alu(ALU_AND, size, getReg(EAX, size), dImm() & mask(size));
    return;
  }
  const a = readE(size);
  if (faulted) return;
  alu(ALU_AND, size, a, readG(size));
}

/** INC/DEC: like ADD/SUB 1 but CF is preserved (SDM INC: "The CF flag is not affected"). */
export function incDec(size: u32, a: u32, dec: bool): u32 {
  const m = mask(size);
  const r = (dec ? a - 1 : a + 1) & m;
  const sb: u32 = 1 << ((size << 3) - 1);
  let f: u32 = flag(CF) ? CF : 0;
  if (dec ? a == sb : r == sb) f |= OF;
  if (((a ^ 1 ^ r) & 0x10) != 0) f |= AF;
  setLazyResult(szIndex(size), r, f, CF | OF | AF);
  return r;
}

/** 40-4F INC/DEC r16/r32. */
export function opIncDecReg(): void {
  const r = dOp() & 7;
  setReg(r, dOsz(), incDec(dOsz(), getReg(r, dOsz()), dOp() >= 0x48));
}

/** FE /0 /1 and FF /0 /1: INC/DEC r/m. */
export function incDecE(size: u32): void {
  const a = readEForWrite(size);
  if (faulted) return;
  writeBackE(size, incDec(size, a, dReg() == 1));
}

/** F6/F7 /2 NOT and /3 NEG. */
export function notNegE(size: u32): void {
  const a = readEForWrite(size);
  if (faulted) return;
  if (dReg() == 2) {
    writeBackE(size, ~a & mask(size)); // NOT changes no flags
  } else {
    writeBackE(size, alu(ALU_SUB, size, 0, a));
  }
}

/** F6/F7 /0 /1 TEST r/m, imm. */
export function testEImm(size: u32): void {
  const a = readE(size);
  if (faulted) return;
  alu(ALU_AND, size, a, dImm() & mask(size));
}

