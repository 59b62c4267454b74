// Native wasm for the most frequent guest instructions: MOV, LEA, MOVZX/MOVSX, the ALU operations without carry
// in, TEST, PUSH/POP, Jcc/JMP/CALL/RET near. Every other instruction, and every form not handled here, calls
// the interpreter (jitStep) from its record, so coverage never depends on this file.
//
// Generated code keeps the guest state in the CPU block, exactly as the interpreter leaves it after each
// instruction (registers, lazy flags), so the two can alternate instruction by instruction. Memory operands
// call the core's segmented accessors (segmentation, TLB, page walk, MMIO); after each call a fault ends the
// block with EIP at the instruction, whose results are committed only after its last access can fault.
import {
  CPU_GPR, CPU_RIP, CPU_LF_OP, CPU_LF_SIZE, CPU_LF_RES, CPU_LF_SRC1, CPU_LF_SRC2, CPU_LF_MASK, CPU_SEG, SEG_SIZE,
  SEG_LIMIT, MODE_STACK32,
} from "../layout/memory";
import { R_OP, R_PFX, R_OSZ, R_A32, R_SEG, R_MOD, R_REG, R_RM, R_LEN, R_BASE, R_INDEX, R_SCALE, R_DISP, R_IMM } from "../cpu/dcache";
import { LF_ADD, LF_SUB, LF_LOGIC, ARITH } from "../cpu/flags";
import {
  byte, uleb, i32c, localGet, localSet, localTee, call, mem, op,
  OP_IF, OP_END, OP_RETURN, OP_I32_LOAD, OP_I32_LOAD8_U, OP_I32_LOAD16_U, OP_I32_STORE, OP_I32_STORE8,
  OP_I32_STORE16, OP_I32_ADD, OP_I32_SUB, OP_I32_AND, OP_I32_OR, OP_I32_XOR, OP_I32_SHL, OP_I32_SHR_U, OP_I32_EQZ,
  OP_I32_LT_S, OP_I32_LT_U, OP_I32_LE_S, OP_I32_LE_U, OP_I32_GT_U, OP_I32_EXTEND8_S, OP_I32_EXTEND16_S,
  BLOCKTYPE_VOID,
} from "./encoder";

// Imported functions (indices) and globals of a block module; translate.ts declares them in this order.
export const F_STEP: u32 = 0; // jitStep(rec, eip) -> status
export const F_COND: u32 = 1; // jitCond(cc) -> 0/1 from the lazy flags
export const F_READ8: u32 = 2; // read8/16/32(seg, off) -> value
export const F_WRITE8: u32 = 5; // write8/16/32(seg, off, value)
export const G_FAULTED: u32 = 0;
export const G_CODE_DIRTY: u32 = 1;

// Locals: the parameter, then scratch.
export const L_CPU: u32 = 0;
export const L_BASE: u32 = 1; // entry EIP
export const L_STATUS: u32 = 2;
export const L_A: u32 = 3;
export const L_B: u32 = 4;
export const L_R: u32 = 5;
export const L_T: u32 = 6;
export const NUM_SCRATCH_LOCALS: u32 = 6; // $base .. $t

const OP_GLOBAL_GET: u32 = 0x23;

// ---- the instruction being translated ----
let r: usize = 0; // its record
let idx: u32 = 0; // its index in the block
let off: u32 = 0; // its offset from the entry EIP
/** The CPU mode the block is translated for. */
let blockMode: u32 = 0;
/** CPU_RIP holds this instruction's EIP (true at entry and after an interpreted instruction). */
export let ripValid: bool = true;

// What the previous instruction left in $a $b $r for a following Jcc, if it was a native 32-bit ALU op.
const FUSE_NONE: u32 = 0, FUSE_SUB: u32 = 1, FUSE_LOGIC: u32 = 2;
let fuse: u32 = FUSE_NONE;
/** The instruction being emitted stores to memory. */
let wrote: bool = false;

export function beginBlock(mode: u32): void { blockMode = mode; ripValid = true; fuse = FUSE_NONE; }
export function beginInsn(rec: usize, i: u32, offset: u32): void { r = rec; idx = i; off = offset; }
/** After an interpreted instruction: it returned with CPU_RIP at the next one; no flags in locals. */
export function afterFallback(): void { ripValid = true; fuse = FUSE_NONE; }

@inline function fOp(): u32 { return <u32>load<u16>(r + R_OP); }
@inline function fOsz(): u32 { return <u32>load<u8>(r + R_OSZ); }
@inline function fA32(): bool { return load<u8>(r + R_A32) != 0; }
@inline function fSeg(): u32 { return <u32>load<u8>(r + R_SEG); }
@inline function fMod(): u32 { return <u32>load<u8>(r + R_MOD); }
@inline function fReg(): u32 { return <u32>load<u8>(r + R_REG); }
@inline function fRm(): u32 { return <u32>load<u8>(r + R_RM); }
@inline function fLen(): u32 { return <u32>load<u8>(r + R_LEN); }
@inline function fImm(): u32 { return load<u32>(r + R_IMM); }

@inline function sizeMask(size: u32): u32 { return size == 4 ? 0xffff_ffff : (<u32>1 << (size << 3)) - 1; }

// ---- building blocks ----
/** Push EIP of this instruction plus `extra`. */
function eipPlus(extra: u32): void {
  localGet(L_BASE);
  const v = off + extra;
  if (v != 0) { i32c(v); op(OP_I32_ADD); }
}

function storeRip(): void {
  localGet(L_CPU); eipPlus(0); mem(OP_I32_STORE, 2, CPU_RIP);
}

/** After a memory helper: if it faulted, leave with EIP at this instruction and `idx` retired. */
function faultCheck(): void {
  byte(OP_GLOBAL_GET); uleb(G_FAULTED);
  byte(OP_IF); byte(BLOCKTYPE_VOID);
  if (!ripValid) storeRip();
  i32c(idx); op(OP_RETURN);
  op(OP_END);
}

/** Push register `n` of `size` bytes (byte registers: AL..BH). */
function getReg(n: u32, size: u32): void {
  localGet(L_CPU);
  if (size == 4) mem(OP_I32_LOAD, 2, CPU_GPR + (n << 3));
  else if (size == 2) mem(OP_I32_LOAD16_U, 1, CPU_GPR + (n << 3));
  else mem(OP_I32_LOAD8_U, 0, CPU_GPR + ((n & 3) << 3) + (n >> 2));
}
/** Store local `l` into register `n` of `size` bytes. */
function setRegFrom(n: u32, size: u32, l: u32): void {
  localGet(L_CPU);
  localGet(l);
  if (size == 4) mem(OP_I32_STORE, 2, CPU_GPR + (n << 3));
  else if (size == 2) mem(OP_I32_STORE16, 1, CPU_GPR + (n << 3));
  else mem(OP_I32_STORE8, 0, CPU_GPR + ((n & 3) << 3) + (n >> 2));
}

/** Push the offset of the ModRM memory operand (as ea() in src/cpu/operand.ts). */
function pushEa(): void {
  const base = <i32>load<i8>(r + R_BASE);
  const index = <i32>load<i8>(r + R_INDEX);
  const disp = load<u32>(r + R_DISP);
  let any = false;
  if (base >= 0) { getReg(<u32>base, 4); any = true; }
  if (index >= 0) {
    getReg(<u32>index, 4);
    const sc = <u32>load<u8>(r + R_SCALE);
    if (sc != 0) { i32c(sc); op(OP_I32_SHL); }
    if (any) op(OP_I32_ADD);
    any = true;
  }
  if (!any) i32c(disp);
  else if (disp != 0) { i32c(disp); op(OP_I32_ADD); }
  if (!fA32()) { i32c(0xffff); op(OP_I32_AND); }
}

@inline function sizeIndex(size: u32): u32 { return size == 4 ? 2 : size == 2 ? 1 : 0; }

/** Read the memory operand of `size` bytes into local `l` (fault check included). */
function readMemTo(size: u32, l: u32): void {
  i32c(fSeg());
  pushEa();
  call(F_READ8 + sizeIndex(size));
  localSet(l);
  faultCheck();
}

/** Read the r/m operand into local `l`. */
function readETo(size: u32, l: u32): void {
  if (fMod() == 3) { getReg(fRm(), size); localSet(l); return; }
  readMemTo(size, l);
}

/** Record lazy flags as setLazy() does: op, size, operands and result from locals $a $b $r. */
function setLazy(lfOp: u32, size: u32): void {
  localGet(L_CPU); i32c(lfOp); mem(OP_I32_STORE, 2, CPU_LF_OP);
  localGet(L_CPU); i32c(sizeIndex(size)); mem(OP_I32_STORE, 2, CPU_LF_SIZE);
  localGet(L_CPU); localGet(L_A); mem(OP_I32_STORE, 2, CPU_LF_SRC1);
  localGet(L_CPU); localGet(L_B); mem(OP_I32_STORE, 2, CPU_LF_SRC2);
  localGet(L_CPU); localGet(L_R); mem(OP_I32_STORE, 2, CPU_LF_RES);
  localGet(L_CPU); i32c(ARITH); mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

// ALU operation numbers (bits 5..3 of 00-3F; the reg field of 80-83): ADD OR ADC SBB AND SUB XOR CMP.
/** $r = $a op $b masked to size, and the lazy flags. False for ADC/SBB (they read CF: interpreted). */
function aluCore(aluOp: u32, size: u32): bool {
  let lf: u32;
  localGet(L_A); localGet(L_B);
  switch (aluOp) {
    case 0: op(OP_I32_ADD); lf = LF_ADD; break;
    case 1: op(OP_I32_OR); lf = LF_LOGIC; break;
    case 4: op(OP_I32_AND); lf = LF_LOGIC; break;
    case 5: case 7: op(OP_I32_SUB); lf = LF_SUB; break;
    case 6: op(OP_I32_XOR); lf = LF_LOGIC; break;
    default: return false;
  }
  if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
  localSet(L_R);
  setLazy(lf, size);
  fuse = size == 4 ? (lf == LF_LOGIC ? FUSE_LOGIC : (lf == LF_SUB ? FUSE_SUB : FUSE_NONE)) : FUSE_NONE;
  return true;
}

// ---- instructions ----
/**
 * Emit instruction `idx` natively if this file handles its form. Returns 0 if not handled (the caller emits
 * the interpreter call), 1 if emitted and the block goes on, 2 if emitted and it ends the block (it returned).
 */
export function emitNative(): u32 {
  const o = fOp();
  // REP/REPNE (string instructions, and `rep ret`) and LOCK stay with the interpreter.
  if ((load<u8>(r + R_PFX) & 0b0001_1100) != 0) return 0;
  const prevFuse = fuse;
  fuse = FUSE_NONE;
  wrote = false;
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
  else if ((o >= 0x70 && o <= 0x7f) || (o >= 0x180 && o <= 0x18f)) done = emitJcc(o, prevFuse);
  else if (o == 0xe9 || o == 0xeb) done = emitJmp(o);
  else if (o == 0xe8) done = emitCall();
  else if (o == 0xc3) done = emitRet();
  if (done == 0) { fuse = FUSE_NONE; return 0; }
  if (wrote && done == 1) {
    // A store that hit a page holding translated code may have changed what follows in this block.
    byte(OP_GLOBAL_GET); uleb(G_CODE_DIRTY);
    byte(OP_IF); byte(BLOCKTYPE_VOID);
    localGet(L_CPU); eipPlus(fLen()); mem(OP_I32_STORE, 2, CPU_RIP);
    i32c(idx + 1); op(OP_RETURN);
    op(OP_END);
  }
  if (done == 1) ripValid = false;
  return done;
}

/** 00-3D forms 0-5. */
function emitAlu(o: u32): u32 {
  const aluOp = (o >> 3) & 7;
  if (aluOp == 2 || aluOp == 3) return 0;
  const form = o & 7;
  const size: u32 = (form & 1) == 0 ? 1 : fOsz();
  if (form < 2) {
    // E op= G: a memory destination is a read-modify-write (interpreted unless it only reads: CMP).
    if (fMod() != 3 && aluOp != 7) return 0;
    getReg(fReg(), size); localSet(L_B);
    readETo(size, L_A);
    aluCore(aluOp, size);
    if (aluOp != 7) setRegFrom(fRm(), size, L_R);
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
  if (aluOp == 2 || aluOp == 3) return 0;
  if (fMod() != 3 && aluOp != 7) return 0;
  const size: u32 = o == 0x80 ? 1 : fOsz();
  let b = fImm();
  if (o == 0x83) b = <u32>(<i32><i8>b);
  i32c(b & sizeMask(size)); localSet(L_B);
  readETo(size, L_A);
  aluCore(aluOp, size);
  if (aluOp != 7) setRegFrom(fRm(), size, L_R);
  return 1;
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
    i32c(fSeg()); pushEa(); getReg(fReg(), size);
    call(F_WRITE8 + sizeIndex(size)); wrote = true;
    faultCheck();
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
  i32c(fSeg()); pushEa(); i32c(v);
  call(F_WRITE8 + sizeIndex(size)); wrote = true;
  faultCheck();
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

@inline function stack32(): bool { return (blockMode & MODE_STACK32) != 0; }

/** Push the new stack pointer (ESP - size, wrapped to the stack width) into $a. */
function newSpDown(size: u32): void {
  getReg(4, 4); i32c(size); op(OP_I32_SUB);
  if (!stack32()) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_A);
}
/** Store $a as the stack pointer (SP only on a 16-bit stack). */
function setSpFromA(): void { setRegFrom(4, stack32() ? 4 : 2, L_A); }

/** 50-57 PUSH r. */
function emitPush(n: u32): u32 {
  const size = fOsz();
  newSpDown(size);
  i32c(2); localGet(L_A); getReg(n, size);
  call(F_WRITE8 + sizeIndex(size)); wrote = true;
  faultCheck();
  setSpFromA();
  return 1;
}

/** Push the stack pointer (SP on a 16-bit stack) into local `l`. */
function spTo(l: u32): void {
  if (stack32()) getReg(4, 4); else getReg(4, 2);
  localSet(l);
}

/** Read `size` bytes at the top of the stack into $t; the stack pointer is left in $a, not yet moved. */
function popToT(size: u32): void {
  spTo(L_A);
  i32c(2); localGet(L_A);
  call(F_READ8 + sizeIndex(size));
  localSet(L_T);
  faultCheck();
}

/** $a += size, wrapped to the stack width. */
function spUp(size: u32): void {
  localGet(L_A); i32c(size); op(OP_I32_ADD);
  if (!stack32()) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_A);
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

/** Push CS.limit. */
function csLimit(): void { localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_SEG + SEG_SIZE + SEG_LIMIT); }

/** Leave the block at EIP in local `l`, with this instruction retired. */
function exitTo(l: u32): void {
  localGet(L_CPU); localGet(l); mem(OP_I32_STORE, 2, CPU_RIP);
  i32c(idx + 1); op(OP_RETURN);
}

/** Hand this instruction to the interpreter and leave with what it reports (for rare paths: #GP). */
function interpretAndExit(): void {
  if (!ripValid) storeRip();
  i32c(<u32>r); eipPlus(0); call(F_STEP);
  i32c(1); op(OP_I32_SHR_U); i32c(idx); op(OP_I32_ADD); op(OP_RETURN);
}

/** Relative target of a near branch into $t, masked to 16 bits for a 16-bit operand size. */
function relTarget(rel: u32): void {
  eipPlus(fLen() + rel);
  if (fOsz() != 4) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_T);
}

/** Go to $t (a near branch taken): beyond the CS limit the interpreter raises the #GP. */
function branchToT(): void {
  guardTargetT();
  exitTo(L_T);
}

/** A target in $t beyond the CS limit: the interpreter executes the instruction (and raises its #GP). */
function guardTargetT(): void {
  localGet(L_T); csLimit(); op(OP_I32_GT_U);
  byte(OP_IF); byte(BLOCKTYPE_VOID);
  interpretAndExit();
  op(OP_END);
}

/** The condition `cc` from the flags the previous native ALU op left in $a $b $r, or from the lazy flags. */
function condition(cc: u32, prevFuse: u32): void {
  const base = cc >> 1;
  let inline = false;
  if (prevFuse == FUSE_SUB) {
    inline = true;
    switch (base) {
      case 1: localGet(L_A); localGet(L_B); op(OP_I32_LT_U); break; // B
      case 2: localGet(L_R); op(OP_I32_EQZ); break; // Z
      case 3: localGet(L_A); localGet(L_B); op(OP_I32_LE_U); break; // BE
      case 4: localGet(L_R); i32c(0); op(OP_I32_LT_S); break; // S
      case 6: localGet(L_A); localGet(L_B); op(OP_I32_LT_S); break; // L
      case 7: localGet(L_A); localGet(L_B); op(OP_I32_LE_S); break; // LE
      default: inline = false; break; // O, P
    }
  } else if (prevFuse == FUSE_LOGIC) {
    inline = true;
    switch (base) {
      case 0: case 1: i32c(0); break; // O, B: cleared
      case 2: case 3: localGet(L_R); op(OP_I32_EQZ); break; // Z, BE (CF = 0)
      case 4: case 6: localGet(L_R); i32c(0); op(OP_I32_LT_S); break; // S, L (OF = 0)
      case 7: localGet(L_R); i32c(1); op(OP_I32_LT_S); break; // LE: ZF or SF
      default: inline = false; break; // P
    }
  }
  if (!inline) { i32c(cc); call(F_COND); return; }
  if ((cc & 1) != 0) op(OP_I32_EQZ);
}

/** 70-7F Jcc rel8, 0F 80-8F Jcc rel16/32. Ends the block. */
function emitJcc(o: u32, prevFuse: u32): u32 {
  const rel = o < 0x100 ? <u32>(<i32><i8>fImm()) : (fOsz() == 4 ? fImm() : <u32>(<i32><i16>fImm()));
  condition(o & 15, prevFuse);
  byte(OP_IF); byte(BLOCKTYPE_VOID);
  relTarget(rel);
  branchToT();
  op(OP_END);
  eipPlus(fLen()); localSet(L_T);
  exitTo(L_T);
  return 2;
}

/** E9 JMP rel16/32, EB JMP rel8. Ends the block. */
function emitJmp(o: u32): u32 {
  const rel = o == 0xeb ? <u32>(<i32><i8>fImm()) : (fOsz() == 4 ? fImm() : <u32>(<i32><i16>fImm()));
  relTarget(rel);
  branchToT();
  return 2;
}

/** E8 CALL rel16/32: the target is checked before the return address is pushed. Ends the block. */
function emitCall(): u32 {
  const size = fOsz();
  const rel = size == 4 ? fImm() : <u32>(<i32><i16>fImm());
  relTarget(rel);
  guardTargetT();
  newSpDown(size);
  i32c(2); localGet(L_A); eipPlus(fLen());
  call(F_WRITE8 + sizeIndex(size)); wrote = true;
  faultCheck();
  setSpFromA();
  exitTo(L_T);
  return 2;
}

/** C3 RET. Ends the block. */
function emitRet(): u32 {
  const size = fOsz();
  popToT(size);
  guardTargetT();
  spUp(size);
  setSpFromA();
  exitTo(L_T);
  return 2;
}

