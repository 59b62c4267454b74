// Native wasm for the most frequent guest instructions: MOV (moffs too), LEA, MOVZX/MOVSX, the ALU operations,
// TEST, NOT, NEG, shifts and rotates, MUL/IMUL, DIV/IDIV (32-bit), INC/DEC, SETcc/CMOVcc, PUSH/POP (immediates too), LEAVE, BSWAP,
// Jcc/JMP/CALL/RET near and indirect. Every other
// instruction, and every form not handled here, calls the interpreter (jitStep) from its record, so coverage
// never depends on this file. The building blocks are in emit-core.ts.
import {
  L_A, L_B, L_C, L_OFF, L_R, L_T, L_VAL, L_W, access, aluCompute, aluCore, aluFlags,
  branchToT, condition, eipPlus, exitTo, fImm, fLen, fMod, fOp, fOsz, fReg, fRm, fSeg, getReg, guardTargetT,
  idx, insnEnd, insnStart, localTee64, gotoBlock, popToT, pushEa, r, readDest, readETo, relTarget,
  setLazyResult, setRegFrom, setSpFromA, sizeMask, spUp, targetBlock, writeDest, pushCarry,
  incDecPending, resultPending, rotatePending, rotateFlagsToMemory, flushFlags, flagsDead, fA32, stack32, L_G0,
  pushStart, pushFinish, interpretAndExit, returnToGroup,
} from "./emit-core";
import {
  BLOCKTYPE_VOID, OP_END, OP_I32_ADD, OP_I32_AND, OP_I32_EQ, OP_I32_EXTEND16_S, OP_I32_EXTEND8_S, OP_I32_OR,
  OP_I32_ROTL, OP_I32_ROTR, OP_I32_SHL, OP_I32_SHR_S, OP_I32_SHR_U, OP_I32_SUB, OP_I32_WRAP_I64, OP_I32_XOR,
  OP_I64_EXTEND_I32_S, OP_I64_MUL, OP_I64_NE, OP_IF, OP_SELECT, byte, call, i32c, localGet, localSet, localTee,
  op, i64c, OP_I64_EXTEND_I32_U, OP_I64_SHR_U, OP_I64_SHL, OP_I64_OR, OP_I64_DIV_S, OP_I64_DIV_U, OP_I64_REM_S,
  OP_I64_REM_U, OP_I32_EQZ, OP_I32_GE_U,
} from "./encoder";
import { CF, OF, LF_SUB } from "../cpu/flags";
import { thunkRegister, emitThunkShortcut } from "./emit-thunk";
import { R_PFX } from "../cpu/dcache";
// ---- instructions ----
/**
 * Emit instruction `idx` natively if this file handles its form. Returns 0 if not handled (the caller emits
 * the interpreter call), 1 if emitted and the block goes on, 2 if emitted and it ends the block (it returned).
 */
export function emitNative(): u32 {
  const o = fOp();
  // REP/REPNE (string instructions, and `rep ret`) and LOCK stay with the interpreter.
  if ((load<u8>(r + R_PFX) & 0b0001_1100) != 0) return 0;
  insnStart();
  let done: u32 = 0;
  if (o < 0x40 && (o & 7) < 6) done = emitAlu(o);
  else if (o == 0x80 || o == 0x81 || o == 0x83) done = emitGrp1(o);
  else if (o == 0x84 || o == 0x85) done = emitTest(o);
  else if (o == 0xa8 || o == 0xa9) done = emitTestAcc(o);
  else if (o >= 0x88 && o <= 0x8b) done = emitMov(o);
  else if (o >= 0xb0 && o <= 0xbf) done = emitMovImm(o);
  else if (o == 0xc6 || o == 0xc7) done = emitMovEImm(o);
  else if (o == 0x8d) done = emitLea();
  else if (o == 0x1b6 || o == 0x1b7 || o == 0x1be || o == 0x1bf) done = emitMovx(o);
  else if (o >= 0x50 && o <= 0x57) done = emitPush(o & 7);
  else if (o >= 0x58 && o <= 0x5f) done = emitPop(o & 7);
  else if ((o >= 0x70 && o <= 0x7f) || (o >= 0x180 && o <= 0x18f)) done = emitJcc(o);
  else if (o == 0xe9 || o == 0xeb) done = emitJmp(o);
  else if (o == 0xe8) done = emitCall();
  else if (o == 0xc3) done = emitRet();
  else if (o == 0xc0 || o == 0xc1 || o == 0xd0 || o == 0xd1 || o == 0xd3) done = emitShift(o);
  else if (o == 0xf6 || o == 0xf7) done = emitGrp3(o);
  else if (o >= 0xa0 && o <= 0xa3) done = emitMovMoffs(o);
  else if (o == 0x6a || o == 0x68) done = emitPushImm(o);
  else if (o == 0xc9) done = emitLeave();
  else if (o >= 0x1c8 && o <= 0x1cf) done = emitBswap(o & 7);
  else if (o == 0x1af || o == 0x69 || o == 0x6b) done = emitImul(o);
  else if (o >= 0x40 && o <= 0x4f) done = emitIncDecReg(o);
  else if (o >= 0x190 && o <= 0x19f) done = emitSetcc(o);
  else if (o >= 0x140 && o <= 0x14f) done = emitCmov(o);
  else if (o == 0x90) done = 1; // NOP (XCHG eAX,eAX)
  else if (o == 0xff) done = emitGrp5();
  insnEnd(done);
  return done;
}


/** 00-3D forms 0-5. */
function emitAlu(o: u32): u32 {
  const aluOp = (o >> 3) & 7;
  const form = o & 7;
  const size: u32 = (form & 1) == 0 ? 1 : fOsz();
  if (form < 2) {
    getReg(fReg(), size); localSet(L_B);
    readDest(size, aluOp != 7);
    const lf = aluCompute(aluOp, size);
    if (aluOp != 7) writeDest(size);
    aluFlags(aluOp, lf, size);
  } else if (form < 4) {
    readETo(size, L_B);
    getReg(fReg(), size); localSet(L_A);
    aluCore(aluOp, size);
    if (aluOp != 7) setRegFrom(fReg(), size, L_R);
  } else {
    getReg(0, size); localSet(L_A);
    i32c(fImm() & sizeMask(size)); localSet(L_B);
    aluCore(aluOp, size);
    if (aluOp != 7) setRegFrom(0, size, L_R);
  }
  return 1;
}

/** 80 Eb,Ib; 81 Ev,Iz; 83 Ev,Ib (sign-extended). */
function emitGrp1(o: u32): u32 {
  const aluOp = fReg();
  const size: u32 = o == 0x80 ? 1 : fOsz();
  let b = fImm();
  if (o == 0x83) b = <u32>(<i32><i8>b);
  i32c(b & sizeMask(size)); localSet(L_B);
  readDest(size, aluOp != 7);
  const lf = aluCompute(aluOp, size);
  if (aluOp != 7) writeDest(size);
  aluFlags(aluOp, lf, size);
  return 1;
}

/**
 * C1 (imm8), D1 (1), D3 (CL), and the byte forms C0, D0: ROL ROR SHL SHR SAL SAR, as shiftOp() in
 * src/cpu/ops/shift.ts. Rotates and counts in CL only on 32-bit operands; 8/16-bit shifts only by a constant
 * below their width (shiftOp's flags for larger counts stay with it); RCL/RCR with the interpreter. A zero
 * count changes nothing, flags included.
 */
function emitShift(o: u32): u32 {
  const kind = fReg();
  const size: u32 = o == 0xc0 || o == 0xd0 ? 1 : fOsz();
  const bits = size << 3;
  if (kind == 2 || kind == 3) return 0;
  const constCount = o != 0xd3;
  if (size != 4 && kind <= 1) return 0;
  const c: u32 = o == 0xd1 || o == 0xd0 ? 1 : (fImm() & 31);
  // A zero count still checks the operand for writing; a shift by CL of memory stays interpreted for that.
  if ((constCount && (c == 0 || c >= bits)) || (!constCount && fMod() != 3)) return 0;
  // A count in CL may be zero at run time, leaving the flags alone on that path: store pending ones first, and
  // the new ones to the CPU block on the other path. A constant count keeps them in the flag locals.
  const dead = fMod() == 3 && flagsDead();
  if (!dead && !constCount) flushFlags();
  readDest(size);
  if (!constCount) {
    getReg(1, 1); i32c(31); op(OP_I32_AND); localTee(L_B);
    op(OP_IF); byte(BLOCKTYPE_VOID);
  } else {
    i32c(c); localSet(L_B);
  }
  // $r = result, $c = CF, $t = OF (0/1)
  if (kind == 0 || kind == 1) {
    localGet(L_A); localGet(L_B); op(kind == 0 ? OP_I32_ROTL : OP_I32_ROTR); localSet(L_R);
    if (kind == 0) {
      localGet(L_R); i32c(1); op(OP_I32_AND); localSet(L_C);
      localGet(L_R); i32c(31); op(OP_I32_SHR_U); localGet(L_C); op(OP_I32_XOR); localSet(L_T);
    } else {
      localGet(L_R); i32c(31); op(OP_I32_SHR_U); localSet(L_C);
      localGet(L_C); localGet(L_R); i32c(30); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND); op(OP_I32_XOR); localSet(L_T);
    }
    writeDest(4);
    // Rotates write CF and OF only; the other flags stay as they are, lazy or pending.
    if (!dead) {
      localGet(L_C); localGet(L_T); i32c(11); op(OP_I32_SHL); op(OP_I32_OR); localSet(L_T);
      if (constCount) rotatePending(L_T); else rotateFlagsToMemory(L_T);
    }
  } else {
    // $a is the operand zero-extended from its size; a count below the width never shifts everything out.
    if (kind == 4 || kind == 6) { // SHL/SAL
      localGet(L_A); localGet(L_B); op(OP_I32_SHL);
      if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
      localSet(L_R);
      localGet(L_A); i32c(bits); localGet(L_B); op(OP_I32_SUB); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND); localSet(L_C);
      localGet(L_R); i32c(bits - 1); op(OP_I32_SHR_U); localGet(L_C); op(OP_I32_XOR); localSet(L_T);
    } else if (kind == 5) { // SHR
      localGet(L_A); localGet(L_B); op(OP_I32_SHR_U); localSet(L_R);
      localGet(L_A); localGet(L_B); i32c(1); op(OP_I32_SUB); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND); localSet(L_C);
      // OF: the original sign for a 1-bit shift, else 0.
      localGet(L_A); i32c(bits - 1); op(OP_I32_SHR_U); i32c(0); localGet(L_B); i32c(1); op(OP_I32_EQ); op(OP_SELECT);
      localSet(L_T);
    } else { // SAR, on the operand sign-extended to 32 bits
      if (size != 4) { localGet(L_A); op(size == 1 ? OP_I32_EXTEND8_S : OP_I32_EXTEND16_S); localSet(L_A); }
      localGet(L_A); localGet(L_B); op(OP_I32_SHR_S);
      if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
      localSet(L_R);
      localGet(L_A); localGet(L_B); i32c(1); op(OP_I32_SUB); op(OP_I32_SHR_S); i32c(1); op(OP_I32_AND); localSet(L_C);
      i32c(0); localSet(L_T);
    }
    writeDest(size);
    if (!dead) {
      localGet(L_C); localGet(L_T); i32c(11); op(OP_I32_SHL); op(OP_I32_OR); localSet(L_T);
      if (constCount) resultPending(size, L_T); else setLazyResult(size, L_T);
    }
  }
  if (!constCount) op(OP_END);
  return 1;
}

/**
 * F6/F7 /0 /1 TEST E,imm; /2 NOT; /3 NEG; 32-bit MUL, IMUL; 32-bit DIV, IDIV of a register. The other sizes
 * stay with the interpreter.
 */
function emitGrp3(o: u32): u32 {
  const size: u32 = o == 0xf6 ? 1 : fOsz();
  const k = fReg();
  if (k < 2) {
    readETo(size, L_A);
    i32c(fImm() & sizeMask(size)); localSet(L_B);
    aluCore(4, size);
    return 1;
  }
  if (k >= 4) return size == 4 ? (k < 6 ? emitMulAcc(k == 5) : emitDivAcc(k == 7)) : 0;
  readDest(size);
  if (k == 2) { // NOT: no flags
    localGet(L_A); i32c(sizeMask(size)); op(OP_I32_XOR); localSet(L_R);
    writeDest(size);
    return 1;
  }
  // NEG: the flags of 0 - a (LF_SUB with a first operand of 0, as the interpreter records them).
  i32c(0); localGet(L_A); op(OP_I32_SUB);
  if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
  localSet(L_R);
  writeDest(size);
  localGet(L_A); localSet(L_B);
  i32c(0); localSet(L_A);
  aluFlags(5, LF_SUB, size);
  return 1;
}

/**
 * F7 /4 MUL, /5 IMUL r/m32: EDX:EAX = EAX * r/m32. CF = OF = the product does not fit 32 bits; ZF SF PF from the
 * low half, AF clear (src/cpu/ops/muldiv.ts).
 */
function emitMulAcc(signed: bool): u32 {
  const ext = signed ? OP_I64_EXTEND_I32_S : OP_I64_EXTEND_I32_U;
  readETo(4, L_B);
  getReg(0, 4); op(ext); localGet(L_B); op(ext); op(OP_I64_MUL); localTee64();
  op(OP_I32_WRAP_I64); localSet(L_R);
  localGet(L_W); i64c(32); op(OP_I64_SHR_U); op(OP_I32_WRAP_I64); localSet(L_T);
  setRegFrom(0, 4, L_R);
  setRegFrom(2, 4, L_T);
  if (flagsDead()) return 1;
  i32c(CF | OF); i32c(0);
  if (signed) { localGet(L_W); localGet(L_R); op(OP_I64_EXTEND_I32_S); op(OP_I64_NE); } else localGet(L_T);
  op(OP_SELECT); localSet(L_T);
  resultPending(4, L_T);
  return 1;
}

/**
 * F7 /6 DIV, /7 IDIV r32: EAX = EDX:EAX / r32, EDX = the remainder; the flags are left as they were. A zero
 * divisor or a quotient that does not fit goes to the interpreter, which raises the #DE (IDIV by -1 too: its
 * one overflowing case would trap in wasm). Register divisors only: the interpreter would read a memory
 * operand a second time.
 */
function emitDivAcc(signed: bool): u32 {
  if (fMod() != 3) return 0;
  getReg(fRm(), 4); localSet(L_B);
  getReg(2, 4); op(OP_I64_EXTEND_I32_U); i64c(32); op(OP_I64_SHL);
  getReg(0, 4); op(OP_I64_EXTEND_I32_U); op(OP_I64_OR); localSet(L_W);
  localGet(L_B); op(OP_I32_EQZ);
  if (signed) { localGet(L_B); i32c(0xffff_ffff); op(OP_I32_EQ); } else { getReg(2, 4); localGet(L_B); op(OP_I32_GE_U); }
  op(OP_I32_OR);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  interpretAndExit();
  op(OP_END);
  const ext = signed ? OP_I64_EXTEND_I32_S : OP_I64_EXTEND_I32_U;
  localGet(L_W); localGet(L_B); op(ext); op(signed ? OP_I64_REM_S : OP_I64_REM_U); op(OP_I32_WRAP_I64); localSet(L_R);
  localGet(L_W); localGet(L_B); op(ext); op(signed ? OP_I64_DIV_S : OP_I64_DIV_U); localTee64();
  if (signed) {
    // The quotient must fit 32 bits signed (unsigned, EDX < divisor above made sure of it).
    op(OP_I32_WRAP_I64); op(OP_I64_EXTEND_I32_S); localGet(L_W); op(OP_I64_NE);
    op(OP_IF); byte(BLOCKTYPE_VOID);
    interpretAndExit();
    op(OP_END);
    localGet(L_W);
  }
  op(OP_I32_WRAP_I64); localSet(L_T);
  setRegFrom(0, 4, L_T);
  setRegFrom(2, 4, L_R);
  return 1;
}

/** A0-A3 MOV AL/eAX,moffs and moffs,AL/eAX. */
function emitMovMoffs(o: u32): u32 {
  const size: u32 = (o & 1) == 0 ? 1 : fOsz();
  i32c(fA32() ? fImm() : fImm() & 0xffff); localSet(L_OFF);
  if (o <= 0xa1) {
    access(fSeg(), size, false, L_T);
    setRegFrom(0, size, L_T);
  } else {
    getReg(0, size); localSet(L_VAL);
    access(fSeg(), size, true, 0);
  }
  return 1;
}

/** 6A PUSH Ib (sign-extended), 68 PUSH Iz. */
function emitPushImm(o: u32): u32 {
  const size = fOsz();
  const v: u32 = o == 0x6a ? <u32>(<i32><i8>fImm()) : fImm();
  pushStart(size);
  i32c(v & sizeMask(size)); localSet(L_VAL);
  pushFinish(size);
  return 1;
}

/** C9 LEAVE (32-bit operand and stack): ESP = EBP, then POP EBP; nothing changes if the read faults. */
function emitLeave(): u32 {
  if (fOsz() != 4 || !stack32()) return 0;
  getReg(5, 4); localTee(L_A); localSet(L_OFF);
  access(2, 4, false, L_T);
  localGet(L_A); i32c(4); op(OP_I32_ADD); localSet(L_G0 + 4);
  localGet(L_T); localSet(L_G0 + 5);
  return 1;
}

/** 0F C8-CF BSWAP r32 (a 16-bit operand is undefined: interpreted). */
function emitBswap(n: u32): u32 {
  if (fOsz() != 4) return 0;
  localGet(L_G0 + n); i32c(0x00ff_00ff); op(OP_I32_AND); i32c(8); op(OP_I32_ROTR);
  localGet(L_G0 + n); i32c(0xff00_ff00); op(OP_I32_AND); i32c(8); op(OP_I32_ROTL);
  op(OP_I32_OR); localSet(L_G0 + n);
  return 1;
}

/** 0F AF IMUL Gv,Ev; 69 IMUL Gv,Ev,Iz; 6B IMUL Gv,Ev,Ib (32-bit): CF = OF = the product does not fit. */
function emitImul(o: u32): u32 {
  if (fOsz() != 4) return 0;
  readETo(4, L_A);
  if (o == 0x1af) { getReg(fReg(), 4); localSet(L_B); }
  else { i32c(o == 0x6b ? <u32>(<i32><i8>fImm()) : fImm()); localSet(L_B); }
  localGet(L_A); op(OP_I64_EXTEND_I32_S); localGet(L_B); op(OP_I64_EXTEND_I32_S); op(OP_I64_MUL); localTee64();
  op(OP_I32_WRAP_I64); localSet(L_R);
  setRegFrom(fReg(), 4, L_R);
  // CF = OF = the 64-bit product differs from its low half sign-extended
  if (flagsDead()) return 1;
  i32c(CF | OF); i32c(0); localGet(L_W); localGet(L_R); op(OP_I64_EXTEND_I32_S); op(OP_I64_NE); op(OP_SELECT);
  localSet(L_T);
  resultPending(4, L_T);
  return 1;
}

/** 40-47 INC r, 48-4F DEC r: CF is kept (SDM INC), OF and AF eagerly, ZF SF PF lazy. */
function emitIncDecReg(o: u32): u32 {
  const size = fOsz();
  const n = o & 7;
  const dec = o >= 0x48;
  getReg(n, size); localSet(L_A);
  localGet(L_A); i32c(1); op(dec ? OP_I32_SUB : OP_I32_ADD);
  if (size != 4) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_R);
  setRegFrom(n, size, L_R);
  incDecFlags(size, dec);
  return 1;
}

/** The flags of INC/DEC from $a and $r. */
function incDecFlags(size: u32, dec: bool): void {
  pushCarry(); localSet(L_C); // CF, kept
  incDecPending(size, dec);
}

/** 0F 90-9F SETcc Eb. */
function emitSetcc(o: u32): u32 {
  condition(o & 15);
  localSet(L_R);
  if (fMod() == 3) { setRegFrom(fRm(), 1, L_R); return 1; }
  pushEa(); localSet(L_OFF);
  localGet(L_R); localSet(L_VAL);
  access(fSeg(), 1, true, 0);
  return 1;
}

/** 0F 40-4F CMOVcc Gv,Ev: the source is read (and may fault) whatever the condition. */
function emitCmov(o: u32): u32 {
  const size = fOsz();
  condition(o & 15);
  localSet(L_C);
  readETo(size, L_T);
  localGet(L_C);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  setRegFrom(fReg(), size, L_T);
  op(OP_END);
  return 1;
}

/** FF /0 INC, /1 DEC Ev; /2 CALL and /4 JMP near Ev (end the block); /6 PUSH Ev. */
function emitGrp5(): u32 {
  const size = fOsz();
  switch (fReg()) {
    case 0: case 1: {
      readDest(size);
      localGet(L_A); i32c(1); op(fReg() == 1 ? OP_I32_SUB : OP_I32_ADD);
      if (size != 4) { i32c(0xffff); op(OP_I32_AND); }
      localSet(L_R);
      writeDest(size);
      incDecFlags(size, fReg() == 1);
      return 1;
    }
    case 2: case 4: {
      readETo(size, L_T);
      guardTargetT();
      if (fReg() == 2) pushReturnAddress(size);
      exitTo(L_T);
      return 2;
    }
    case 6: {
      readETo(size, L_T);
      pushStart(size);
      localGet(L_T); localSet(L_VAL);
      pushFinish(size);
      return 1;
    }
    default: return 0;
  }
}

/** 84/85 TEST E,G. */
function emitTest(o: u32): u32 {
  const size: u32 = o == 0x84 ? 1 : fOsz();
  getReg(fReg(), size); localSet(L_B);
  readETo(size, L_A);
  aluCore(4, size);
  return 1;
}

/** A8/A9 TEST AL/eAX,imm. */
function emitTestAcc(o: u32): u32 {
  const size: u32 = o == 0xa8 ? 1 : fOsz();
  getReg(0, size); localSet(L_A);
  i32c(fImm() & sizeMask(size)); localSet(L_B);
  aluCore(4, size);
  return 1;
}

/** 88 Eb,Gb  89 Ev,Gv  8A Gb,Eb  8B Gv,Ev. */
function emitMov(o: u32): u32 {
  const size: u32 = (o & 1) == 0 ? 1 : fOsz();
  if (o <= 0x89) {
    if (fMod() == 3) {
      getReg(fReg(), size); localSet(L_T);
      setRegFrom(fRm(), size, L_T);
      return 1;
    }
    pushEa(); localSet(L_OFF);
    getReg(fReg(), size); localSet(L_VAL);
    access(fSeg(), size, true, 0);
    return 1;
  }
  readETo(size, L_T);
  setRegFrom(fReg(), size, L_T);
  return 1;
}

/** B0-B7 MOV r8,Ib; B8-BF MOV r,Iz. */
function emitMovImm(o: u32): u32 {
  const size: u32 = o < 0xb8 ? 1 : fOsz();
  i32c(fImm() & sizeMask(size)); localSet(L_T);
  setRegFrom(o & 7, size, L_T);
  return 1;
}

/** C6/C7 /0 MOV E,imm. */
function emitMovEImm(o: u32): u32 {
  if (fReg() != 0) return 0; // #UD: interpreted
  const size: u32 = o == 0xc6 ? 1 : fOsz();
  const v = fImm() & sizeMask(size);
  if (fMod() == 3) { i32c(v); localSet(L_T); setRegFrom(fRm(), size, L_T); return 1; }
  pushEa(); localSet(L_OFF);
  i32c(v); localSet(L_VAL);
  access(fSeg(), size, true, 0);
  return 1;
}

/** 8D LEA. */
function emitLea(): u32 {
  if (fMod() == 3) return 0; // #UD
  const size = fOsz();
  pushEa();
  localSet(L_T);
  setRegFrom(fReg(), size, L_T);
  return 1;
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
function emitMovx(o: u32): u32 {
  const src: u32 = (o & 1) == 0 ? 1 : 2;
  readETo(src, L_T);
  if (o >= 0x1be) {
    localGet(L_T); op(src == 1 ? OP_I32_EXTEND8_S : OP_I32_EXTEND16_S); localSet(L_T);
  }
  setRegFrom(fReg(), fOsz(), L_T);
  return 1;
}

/** 50-57 PUSH r. */
function emitPush(n: u32): u32 {
  const size = fOsz();
  pushStart(size);
  getReg(n, size); localSet(L_VAL);
  pushFinish(size);
  return 1;
}

/** 58-5F POP r: the stack pointer moves first, so POP ESP loads the popped value. */
function emitPop(n: u32): u32 {
  const size = fOsz();
  popToT(size);
  spUp(size);
  setSpFromA();
  setRegFrom(n, size, L_T);
  return 1;
}

function emitJcc(o: u32): u32 {
  const rel = o < 0x100 ? <u32>(<i32><i8>fImm()) : (fOsz() == 4 ? fImm() : <u32>(<i32><i16>fImm()));
  condition(o & 15);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  relTarget(rel);
  const j = targetBlock(rel);
  if (j >= 0) { guardTargetT(); gotoBlock(<u32>j, idx + 1); } else branchToT();
  op(OP_END);
  const f = targetBlock(0); // the fall-through
  if (f >= 0) { gotoBlock(<u32>f, idx + 1); return 2; }
  eipPlus(fLen()); localSet(L_T);
  exitTo(L_T);
  return 2;
}

/** E9 JMP rel16/32, EB JMP rel8. Ends the block. */
function emitJmp(o: u32): u32 {
  const rel = o == 0xeb ? <u32>(<i32><i8>fImm()) : (fOsz() == 4 ? fImm() : <u32>(<i32><i16>fImm()));
  relTarget(rel);
  const j = targetBlock(rel);
  if (j >= 0) { guardTargetT(); gotoBlock(<u32>j, idx + 1); } else branchToT();
  return 2;
}

/** Push the address of the next instruction (a near CALL), then move the stack pointer. */
function pushReturnAddress(size: u32): void {
  pushStart(size);
  eipPlus(fLen()); localSet(L_VAL);
  pushFinish(size);
}

/**
 * E8 CALL rel16/32: the target is checked before the return address is pushed. Ends the block, except that a
 * call to a PIC thunk is done in place while the thunk is unchanged (emit-thunk.ts).
 */
function emitCall(): u32 {
  const size = fOsz();
  const rel = size == 4 ? fImm() : <u32>(<i32><i16>fImm());
  relTarget(rel);
  guardTargetT();
  const j = targetBlock(rel);
  const thunk = size == 4 && j < 0 ? thunkRegister(rel) : -1;
  pushReturnAddress(size);
  if (thunk >= 0) emitThunkShortcut(<u32>thunk);
  if (j >= 0) gotoBlock(<u32>j, idx + 1); else exitTo(L_T);
  return 2;
}

/** C3 RET. Ends the block. */
function emitRet(): u32 {
  const size = fOsz();
  popToT(size);
  guardTargetT();
  spUp(size);
  setSpFromA();
  returnToGroup();
  exitTo(L_T);
  return 2;
}


