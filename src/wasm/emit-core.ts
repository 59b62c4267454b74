// The building blocks of native code generation (emit.ts uses them per instruction): the block function's
// locals and imports, the instruction being translated, register and memory operands with the inline TLB
// path, lazy flags, and the exits (fault, end of block, branch, loop to the entry).
//
// Generated code keeps the guest state in the CPU block, exactly as the interpreter leaves it after each
// instruction (registers, lazy flags), so the two can alternate instruction by instruction. A memory access
// that can fault is followed by a check that ends the block with EIP at the instruction, whose results are
// committed only after its last access can fault.
import {
  CPU_GPR, CPU_RIP, CPU_FLAGS, CPU_LF_OP, CPU_LF_SIZE, CPU_LF_RES, CPU_LF_SRC1, CPU_LF_SRC2, CPU_LF_MASK, CPU_SEG, SEG_SIZE,
  SEG_LIMIT, SEG_VALID, SEG_BASE, CPU_INTR, MODE_STACK32, MODE_FLAT, SEG_ES, SEG_SS, SEG_DS, TLB_BASE, TLB_STRIDE, CPU_BASE, CPU_STRIDE,
} from "../layout/memory";
import { SEGV_READ, SEGV_WRITE, SEGV_EXPAND_DOWN } from "../cpu/state";
import { TLB_R, TLB_W, TLB_UR, TLB_UW } from "../mmu/tlb";
import { recAlloc } from "./cache";
import { checkMode } from "./journal";
import { R_OP, R_PFX, R_OSZ, R_A32, R_SEG, R_MOD, R_REG, R_RM, R_LEN, R_BASE, R_INDEX, R_SCALE, R_DISP, R_IMM } from "../cpu/dcache";
import { LF_ADD, LF_SUB, LF_LOGIC, LF_RES, ARITH, CF, OF, AF, ZF, SF, PF } from "../cpu/flags";
import {
  OP_I32_POPCNT,
  byte, uleb, i32c, localGet, localSet, localTee, call, mem, op,
  OP_IF, OP_END, OP_RETURN, OP_I32_LOAD, OP_I32_LOAD8_U, OP_I32_LOAD16_U, OP_I32_STORE, OP_I32_STORE8,
  OP_I32_STORE16, OP_I32_ADD, OP_I32_SUB, OP_I32_MUL, OP_I32_AND, OP_I32_OR, OP_I32_XOR, OP_I32_SHL, OP_I32_SHR_U, OP_I32_EQZ,
  OP_I32_LT_S, OP_I32_LT_U, OP_I32_LE_S, OP_I32_LE_U, OP_I32_GT_U, OP_I32_EXTEND8_S, OP_I32_EXTEND16_S,
  BLOCKTYPE_VOID, T_I32, OP_ELSE, OP_BLOCK, OP_BR, OP_BR_IF, OP_I32_NE, OP_I32_STORE8 as ST8, OP_I32_ROTL, OP_I32_ROTR, OP_I32_EQ,
  OP_SELECT, OP_LOOP, OP_UNREACHABLE, depth, OP_I32_SHR_S, OP_I64_EXTEND_I32_S, OP_I64_MUL, OP_I64_NE, OP_I32_WRAP_I64,
  OP_DROP,
} from "./encoder";

// Imported functions (indices) and globals of a block module; translate.ts declares them in this order.

export const F_STEP: u32 = 0; // jitStep(rec, eip) -> status
export const F_COND: u32 = 1; // jitCond(cc) -> 0/1 from the lazy flags
export const F_READ8: u32 = 2; // read8/16/32(seg, off) -> value
export const F_WRITE8: u32 = 5; // write8/16/32(seg, off, value)
export const F_RMW_READ: u32 = 8; // jitRmwRead(seg, off, size) -> value, checked for writing first
export const F_JOURNAL: u32 = 9; // jitJournal(host, size): check mode's journal of inline stores (src/wasm/check.ts)
export const NUM_IMPORTED_FUNCS: u32 = 10;
export const G_FAULTED: u32 = 0;
export const G_CODE_DIRTY: u32 = 1;

// Locals of a group function: the parameters ($cpu: the vCPU block; $left: instructions it may retire at most;
// $k: the block to start with; $delta: that block's EIP minus the group's base EIP), then scratch.
export const L_CPU: u32 = 0;
export const L_LEFT: u32 = 1;
export const L_K: u32 = 2;
export const L_DELTA: u32 = 3;
export const L_BASE: u32 = 4; // EIP of the group's first block (every EIP is $base + a constant)
export const L_STATUS: u32 = 5; // jitStep's status; at a branch to the shared exit, what the block retired
export const L_A: u32 = 6;
export const L_B: u32 = 7;
export const L_R: u32 = 8;
export const L_T: u32 = 9;
export const L_OFF: u32 = 10; // offset of a memory access within its segment
export const L_VAL: u32 = 11; // value to store
export const L_LIN: u32 = 12; // its linear address
export const L_TLB: u32 = 13; // this vCPU's TLB (computed at entry)
export const L_E: u32 = 14; // TLB slot address, then the entry's low word
export const L_DONE: u32 = 15; // instructions retired by the blocks already run in this call
export const L_C: u32 = 16; // carry in (ADC/SBB), carry out (shifts)
/** The guest's eight general registers, held in locals for the whole call (see loadRegs/spillRegs). */
export const L_G0: u32 = 17;
/** The flags of the last native flag-writing instruction, while not yet stored (see `pend`). */
export const L_FA: u32 = 25; // first operand, masked to its size
export const L_FB: u32 = 26; // second operand, masked
export const L_FR: u32 = 27; // result, masked
export const L_FC: u32 = 28; // INC/DEC: the CF they kept (0/1); a result (PEND_RES): CF OF AF in EFLAGS positions
/** Scratch of the inline flag computations from the lazy flags in memory (pushMemFlag). */
export const L_X: u32 = 29;
export const L_Y: u32 = 30;
export const L_Z: u32 = 31;
/** CF and OF of a rotate (bits in EFLAGS positions), over the flags `pend` says (see `ovMask`). */
export const L_FO: u32 = 32;
export const NUM_SCRATCH_LOCALS: u32 = 29; // i32 $base .. $c, EAX .. EDI, $fa .. $fc, $x $y $z, $fo
export const L_W: u32 = 33; // i64 scratch (products)
/** At a branch to the shared exit that stores ADD/SUB/logic flags ($fa $fb $fr): LF_* op | size index << 8. */
export const L_PK: u32 = 34;

export const OP_GLOBAL_GET: u32 = 0x23;

// ---- the instruction being translated ----
export let r: usize = 0; // its record
export let idx: u32 = 0; // its index in the block
export let off: u32 = 0; // its offset from the entry EIP
/** The CPU mode the block is translated for. */
export let blockMode: u32 = 0;
/** CPU_RIP holds this instruction's EIP (true at entry and after an interpreted instruction). */
export let ripValid: bool = true;

// Flags in locals. A native ALU or INC/DEC instruction leaves its operands and result in $fa $fb $fr ($fc)
// instead of the CPU block's lazy-flags fields: `pend` says which operation they belong to. Conditions read
// them inline; they are stored (storeFlags) only where something else may read the flags: before the
// interpreter runs an instruction, before a helper that reads or merges EFLAGS, and on every way out of
// the function (returns and faults; a branch to another block of the group, which starts from memory).
// PEND_RES is a shift's or a multiply's result: CF OF AF eagerly in $fc, ZF SF PF from $fr.
const PEND_NONE: u32 = 0, PEND_ADD: u32 = 1, PEND_SUB: u32 = 2, PEND_LOGIC: u32 = 3, PEND_INC: u32 = 4, PEND_DEC: u32 = 5;
const PEND_RES: u32 = 6;
let pend: u32 = PEND_NONE;
let pendSize: u32 = 4;
/**
 * Flags (CF and OF: a rotate's) whose values are in $fo, over what `pend` says for the others (PEND_NONE:
 * the CPU block). A rotate writes only these two, so it leaves the rest pending instead of materialising it.
 */
let ovMask: u32 = 0;
/** The instruction being emitted stores to memory. */
export let wrote: bool = false;

/** The block key bit saying data accesses are user-mode (CPL 3), beside the MODE_* bits. */
export const KEY_USER: u32 = 0x20;
/** The MODE_* bits a block is keyed by (the others are KEY_USER's). */
export const KEY_MODE_MASK: u32 = 0x1f | MODE_FLAT;

// ---- the group: the blocks of one module, in one function, entered and chained through a dispatch loop ----
export const MAX_GROUP: u32 = 32;
const groupDelta = new StaticArray<u32>(<i32>MAX_GROUP); // block EIP minus the first block's
const groupLive = new StaticArray<bool>(<i32>MAX_GROUP); // the block has code (it can be branched to)
const groupRet = new StaticArray<bool>(<i32>MAX_GROUP); // the block follows a call (a RET may go to it)
let groupCount: u32 = 0;
/** The block being emitted. */
let curBlock: u32 = 0;
/** Blocks longer than this never exist, so a budget this large allows any block to run to its end. */
const MAX_PASS: u32 = 64;

/** EIP of the group's first block when it is translated (code reads the current one from $base). */
export let groupEip0: u32 = 0;
export function setGroup(count: u32, eip0: u32): void { groupCount = count; groupEip0 = eip0; }
export function setGroupBlock(i: u32, delta: u32, live: bool, returnPoint: bool): void {
  unchecked(groupDelta[i] = delta);
  unchecked(groupLive[i] = live);
  unchecked(groupRet[i] = returnPoint);
}
export function groupBlockDelta(i: u32): u32 { return unchecked(groupDelta[i]); }

/** The group block starting at `delta` (EIP minus the first block's), or -1. */
export function findTarget(delta: u32): i32 {
  for (let j: u32 = 0; j < groupCount; j++) {
    if (unchecked(groupLive[j]) && unchecked(groupDelta[j]) == delta) return <i32>j;
  }
  return -1;
}

export function beginBlock(key: u32, i: u32): void {
  blockMode = key; curBlock = i; ripValid = true; pend = PEND_NONE; ovMask = 0;
}

/**
 * Go to group block `j` with `retired` instructions of this block done: run it in this call while the budget
 * allows a whole block and no interrupt is requested; otherwise return to the run loop with EIP on it.
 */
export function gotoBlock(j: u32, retired: u32): void {
  localGet(L_DONE); i32c(retired); op(OP_I32_ADD); localSet(L_DONE);
  localGet(L_CPU); localGet(L_BASE);
  const d = unchecked(groupDelta[j]);
  if (d != 0) { i32c(d); op(OP_I32_ADD); }
  mem(OP_I32_STORE, 2, CPU_RIP);
  // A later block's code follows the end of its label, which encloses this block's code: a direct branch. An
  // earlier one (a loop) goes through the dispatch loop, with $k on it.
  const forward = j > curBlock;
  if (!forward) { i32c(j); localSet(L_K); }
  storeFlags(); // the target block starts from the flags in memory
  branchIfRoom(forward ? dispatchLevel + groupCount - j : dispatchLevel);
}

/**
 * The end of a way to another group block (EIP stored, flags in memory): branch to the label at `level` while
 * the budget allows a whole block and no interrupt is requested; otherwise return to the run loop.
 */
function branchIfRoom(level: u32): void {
  localGet(L_DONE); i32c(MAX_PASS); op(OP_I32_ADD); localGet(L_LEFT); op(OP_I32_LE_U);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_INTR); op(OP_I32_EQZ); op(OP_I32_AND);
  byte(OP_BR_IF); uleb(depth - level);
  i32c(0); localSet(L_STATUS);
  brExit();
}

/** The return points a RET compares its target with, at most. */
const MAX_RET_POINTS: u32 = 8;

/**
 * A near RET with its target in $t (within the CS limit): go on at the group block it returns to, if that is
 * one of the group's return points (blocks after a call, in this page), through the dispatch loop; otherwise
 * fall through to what follows (the exit). Returns to the caller inside the page then stay in the function,
 * as the call went in. The compares set $k; the way to the block is emitted once.
 */
export function returnToGroup(): void {
  let n: u32 = 0;
  for (let j: u32 = 0; j < groupCount; j++) if (unchecked(groupLive[j]) && unchecked(groupRet[j])) n++;
  if (n == 0) return;
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); // $miss
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); // $hit
  n = 0;
  for (let j: u32 = 0; j < groupCount && n < MAX_RET_POINTS; j++) {
    if (!unchecked(groupLive[j]) || !unchecked(groupRet[j])) continue;
    n++;
    localGet(L_T); localGet(L_BASE);
    const d = unchecked(groupDelta[j]);
    if (d != 0) { i32c(d); op(OP_I32_ADD); }
    op(OP_I32_EQ);
    op(OP_IF); byte(BLOCKTYPE_VOID);
    i32c(j); localSet(L_K);
    byte(OP_BR); uleb(1); // $hit
    op(OP_END);
  }
  byte(OP_BR); uleb(1); // $miss
  op(OP_END); // $hit: on to block $k
  localGet(L_DONE); i32c(idx + 1); op(OP_I32_ADD); localSet(L_DONE);
  localGet(L_CPU); localGet(L_T); mem(OP_I32_STORE, 2, CPU_RIP);
  storeFlags();
  branchIfRoom(dispatchLevel);
  op(OP_END); // $miss
}

/** Leave at the group block for a branch with displacement `rel` if there is one (32-bit code), else -1. */
export function targetBlock(rel: u32): i32 {
  if (fOsz() != 4) return -1;
  return findTarget(off + fLen() + rel);
}

/** Return `k` instructions retired in this pass, plus earlier passes of a looping block. */
export function retCount(k: u32): void {
  if (ovMask == 0 && (pend == PEND_ADD || pend == PEND_SUB || pend == PEND_LOGIC)) {
    // The commonest pending flags: the shared exit stores them from $fa $fb $fr, told the op and size by $pk.
    i32c(pendLfOp() | (sizeIndex(pendSize) << 8));
    localSet(L_PK);
    i32c(k); localSet(L_STATUS);
    byte(OP_BR); uleb(depth - flagsExitLevel);
    flagsExitUsed = true;
    return;
  }
  storeFlags();
  i32c(k); localSet(L_STATUS);
  brExit();
}

// The group function's code is `block $exit (block $flags (loop $dispatch ...) end; store flags) end` followed by
// the one exit path every block shares: the registers back to the CPU block, and $status (the instructions
// retired by the block that left) plus $done returned. An exit is a few bytes where spilling eight registers in
// place took ~60; the host engine compiles (and keeps) far less code. An exit with ADD, SUB or logic flags
// pending goes through $flags, which stores them (six stores that took ~40 bytes at each such exit).
let exitLevel: u32 = 0;
let flagsExitLevel: u32 = 0;
let flagsExitUsed = false;
let dispatchLevel: u32 = 0;
/** Open the group's $exit and $flags blocks and its dispatch loop (the label gotoBlock branches to). */
export function openGroup(): void {
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); exitLevel = depth;
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); flagsExitLevel = depth; flagsExitUsed = false;
  op(OP_LOOP); byte(BLOCKTYPE_VOID); dispatchLevel = depth;
}
/** Close the dispatch loop, $flags and $exit, and emit the shared exit paths. */
export function closeGroup(): void {
  op(OP_END); // the loop: every block ends in a branch or a return
  op(OP_UNREACHABLE);
  op(OP_END); // $flags (where a branch came)
  if (flagsExitUsed) storeArithFlags(true);
  op(OP_END); // $exit
  spillRegs();
  localGet(L_STATUS); localGet(L_DONE); op(OP_I32_ADD);
}
/** Branch to the shared exit with $status set. */
function brExit(): void { byte(OP_BR); uleb(depth - exitLevel); }

/**
 * After jitStep: return (status >> 1) + k: jitStep's status 1 (faulted) retires nothing more, 2 retires its
 * instruction. A return of its own: the registers are in the CPU block already, and the shared exit's spill
 * would overwrite them with stale locals.
 */
export function retStatus(k: u32): void {
  localGet(L_STATUS); i32c(1); op(OP_I32_SHR_U); i32c(k); op(OP_I32_ADD); localGet(L_DONE); op(OP_I32_ADD);
  op(OP_RETURN);
}

/** Block entry: $tlb = this vCPU's TLB, from its CPU block address (both are per-vCPU strides). */
export function emitPrologue(): void {
  localGet(L_CPU); i32c(<u32>(TLB_STRIDE / CPU_STRIDE)); op(OP_I32_MUL);
  i32c(<u32>(TLB_BASE - CPU_BASE * (TLB_STRIDE / CPU_STRIDE))); op(OP_I32_ADD);
  localSet(L_TLB);
  loadRegs();
}
export function beginInsn(rec: usize, i: u32, offset: u32, next: usize): void {
  r = rec; idx = i; off = offset; recCopy = 0; nextRec = next;
}
/** The record of the next instruction of the block (0: this one is the last). */
let nextRec: usize = 0;

/**
 * The flags this instruction writes are dead: the next instruction of the block writes all six arithmetic
 * flags without reading any and cannot fault (a register or immediate ALU operation other than ADC/SBB), so
 * nothing can observe them. Only for instructions that do not store (a store to a code page ends the block,
 * and the flags stored there must be exact).
 */
export function flagsDead(): bool {
  if (nextRec == 0) return false;
  const o = <u32>load<u16>(nextRec + R_OP);
  const mod = <u32>load<u8>(nextRec + R_MOD);
  const reg = <u32>load<u8>(nextRec + R_REG);
  if (o < 0x40 && (o & 7) < 6) {
    const aluOp = (o >> 3) & 7;
    return aluOp != 2 && aluOp != 3 && ((o & 7) >= 4 || mod == 3);
  }
  if (o == 0x80 || o == 0x81 || o == 0x83) return mod == 3 && reg != 2 && reg != 3;
  if (o == 0x84 || o == 0x85) return mod == 3;
  return o == 0xa8 || o == 0xa9;
}

/** The arena copy of this instruction's record, made the first time generated code needs it. */
export let recCopy: usize = 0;
export function arenaRecord(): usize {
  if (recCopy == 0) {
    recCopy = recAlloc(1); // translateBlock made sure the arena has room for the whole block
    memory.copy(recCopy, r, 32);
  }
  return recCopy;
}
/** After an interpreted instruction: it returned with CPU_RIP at the next one; no flags in locals. */
export function afterFallback(): void { ripValid = true; pend = PEND_NONE; ovMask = 0; }

@inline export function fOp(): u32 { return <u32>load<u16>(r + R_OP); }
@inline export function fOsz(): u32 { return <u32>load<u8>(r + R_OSZ); }
@inline export function fA32(): bool { return load<u8>(r + R_A32) != 0; }
@inline export function fSeg(): u32 { return <u32>load<u8>(r + R_SEG); }
@inline export function fMod(): u32 { return <u32>load<u8>(r + R_MOD); }
@inline export function fReg(): u32 { return <u32>load<u8>(r + R_REG); }
@inline export function fRm(): u32 { return <u32>load<u8>(r + R_RM); }
@inline export function fLen(): u32 { return <u32>load<u8>(r + R_LEN); }
@inline export function fImm(): u32 { return load<u32>(r + R_IMM); }

@inline export function sizeMask(size: u32): u32 { return size == 4 ? 0xffff_ffff : (<u32>1 << (size << 3)) - 1; }

// ---- building blocks ----
export function localTee64(): void { localTee(L_W); }

/** Push EIP of this instruction plus `extra`. */
export function eipPlus(extra: u32): void {
  localGet(L_BASE);
  const v = off + extra;
  if (v != 0) { i32c(v); op(OP_I32_ADD); }
}

export function storeRip(): void {
  localGet(L_CPU); eipPlus(0); mem(OP_I32_STORE, 2, CPU_RIP);
}

/** After a memory helper: if it faulted, leave with EIP at this instruction and `idx` retired. */
export function faultCheck(): void {
  byte(OP_GLOBAL_GET); uleb(G_FAULTED);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  if (!ripValid) storeRip();
  retCount(idx);
  op(OP_END);
}

/** Push register `n` of `size` bytes (byte registers: AL..BH). */
export function getReg(n: u32, size: u32): void {
  if (size == 4) { localGet(L_G0 + n); return; }
  if (size == 2) { localGet(L_G0 + n); i32c(0xffff); op(OP_I32_AND); return; }
  localGet(L_G0 + (n & 3));
  if (n >= 4) { i32c(8); op(OP_I32_SHR_U); }
  i32c(0xff); op(OP_I32_AND);
}
/** Store local `l` into register `n` of `size` bytes (the rest of a wider register is kept). */
export function setRegFrom(n: u32, size: u32, l: u32): void {
  if (size == 4) { localGet(l); localSet(L_G0 + n); return; }
  const g = L_G0 + (size == 2 ? n : n & 3);
  const shift: u32 = size == 1 && n >= 4 ? 8 : 0;
  const mask: u32 = (size == 2 ? 0xffff : 0xff) << shift;
  localGet(g); i32c(~mask); op(OP_I32_AND);
  localGet(l);
  if (shift != 0) { i32c(shift); op(OP_I32_SHL); }
  i32c(mask); op(OP_I32_AND);
  op(OP_I32_OR);
  localSet(g);
}
/** Registers from the CPU block into their locals (at entry, after the interpreter ran an instruction). */
export function loadRegs(): void {
  for (let n: u32 = 0; n < 8; n++) { localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_GPR + (n << 3)); localSet(L_G0 + n); }
}
/** Registers from their locals back into the CPU block (before leaving, before the interpreter runs). */
export function spillRegs(): void {
  for (let n: u32 = 0; n < 8; n++) { localGet(L_CPU); localGet(L_G0 + n); mem(OP_I32_STORE, 2, CPU_GPR + (n << 3)); }
}

/** Push the offset of the ModRM memory operand (as ea() in src/cpu/operand.ts). */
export function pushEa(): void {
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

@inline export function sizeIndex(size: u32): u32 { return size == 4 ? 2 : size == 2 ? 1 : 0; }

/** Read the memory operand of `size` bytes into local `l` (fault check included). */
export function readMemTo(size: u32, l: u32): void {
  pushEa(); localSet(L_OFF);
  access(fSeg(), size, false, l);
}

/**
 * A data access of `size` bytes at segment `s`, offset $off: a read into local `l`, or a write of $val. The
 * hit path is the interpreter's, inline: the segment's precomputed access bits and limit (segAddr), then the
 * TLB entry's permission bits (tlbLookup) within one page. Anything else (expand-down segments, limit faults,
 * TLB misses, MMIO, code pages, page crossings, data breakpoints) calls the core's accessor, which raises the
 * fault if there is one.
 */
export function access(s: u32, size: u32, write: bool, l: u32): void { accessKind(s, size, write ? ACC_W : ACC_R, l); }

export const ACC_R: u32 = 0, ACC_W: u32 = 1, ACC_RMW: u32 = 2;

/**
 * ACC_RMW reads the destination of a read-modify-write: like readEForWrite() it needs a writable segment and a
 * writable page, so a fault is the one the write would raise (#PF with W=1), before anything is read.
 */
export function accessKind(s: u32, size: u32, kind: u32, l: u32): void {
  const write = kind == ACC_W;
  const seg = CPU_SEG + s * SEG_SIZE;
  const need = kind == ACC_R ? SEGV_READ : (kind == ACC_W ? SEGV_WRITE : SEGV_READ | SEGV_WRITE);
  const user = (blockMode & KEY_USER) != 0;
  const tneed = kind == ACC_R ? (user ? TLB_UR : TLB_R) : (user ? TLB_UW : TLB_W);
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); // $done
  op(OP_BLOCK); byte(BLOCKTYPE_VOID); // $slow
  // Base 0, limit 4 GiB, readable and writable (the block key says so): the offset is the linear address.
  const flat = (blockMode & MODE_FLAT) != 0 && (s == SEG_ES || s == SEG_SS || s == SEG_DS);
  const lin = flat ? L_OFF : L_LIN;
  if (!flat) {
    localGet(L_CPU); mem(OP_I32_LOAD, 2, seg + SEG_VALID); i32c(need | SEGV_EXPAND_DOWN); op(OP_I32_AND);
    i32c(need); op(OP_I32_NE); byte(OP_BR_IF); uleb(0);
    localGet(L_OFF); localGet(L_CPU); mem(OP_I32_LOAD, 2, seg + SEG_LIMIT); op(OP_I32_GT_U); byte(OP_BR_IF); uleb(0);
    if (size > 1) {
      i32c(size - 1); localGet(L_CPU); mem(OP_I32_LOAD, 2, seg + SEG_LIMIT); localGet(L_OFF); op(OP_I32_SUB);
      op(OP_I32_GT_U); byte(OP_BR_IF); uleb(0);
    }
    localGet(L_CPU); mem(OP_I32_LOAD, 2, seg + SEG_BASE); localGet(L_OFF); op(OP_I32_ADD); localSet(L_LIN);
  }
  if (size > 1) {
    localGet(lin); i32c(0xfff); op(OP_I32_AND); i32c(4096 - size); op(OP_I32_GT_U); byte(OP_BR_IF); uleb(0);
  }
  // The TLB entry of the page (src/mmu/tlb.ts): its permission bit (one bit), then the host page.
  pushTlbEntry(lin); localTee(L_E);
  i32c(tneed); op(OP_I32_AND); op(OP_I32_EQZ); byte(OP_BR_IF); uleb(0);
  pushTlbHost(L_E, lin);
  emitHostAccess(size, write, l);
  byte(OP_BR); uleb(1);
  op(OP_END); // $slow:
  i32c(s); localGet(L_OFF);
  if (write) { localGet(L_VAL); call(F_WRITE8 + sizeIndex(size)); wrote = true; }
  else if (kind == ACC_RMW) { i32c(size); call(F_RMW_READ); localSet(l); }
  else { call(F_READ8 + sizeIndex(size)); localSet(l); }
  faultCheck();
  op(OP_END); // $done
}

/** The access itself at the host address on the stack: a store of $val, or a load into local `l`. */
function emitHostAccess(size: u32, write: bool, l: u32): void {
  if (write) {
    if (checkMode) { localTee(L_E); i32c(size); call(F_JOURNAL); localGet(L_E); }
    localGet(L_VAL);
    if (size == 4) mem(OP_I32_STORE, 0, 0); else if (size == 2) mem(OP_I32_STORE16, 0, 0); else mem(ST8, 0, 0);
  } else {
    if (size == 4) mem(OP_I32_LOAD, 0, 0); else if (size == 2) mem(OP_I32_LOAD16_U, 0, 0); else mem(OP_I32_LOAD8_U, 0, 0);
    localSet(l);
  }
}

/** Push the TLB entry for the linear address in local `lin` (tlbSlot in src/mmu/tlb.ts). */
export function pushTlbEntry(lin: u32): void {
  localGet(L_TLB); localGet(lin); i32c(12); op(OP_I32_SHR_U); i32c(2); op(OP_I32_SHL); op(OP_I32_ADD);
  mem(OP_I32_LOAD, 2, 0);
}

/** Push the host address of linear address `lin` from its TLB entry in local `e` (tlbLookup: page bits ^ lin). */
export function pushTlbHost(e: u32, lin: u32): void {
  localGet(e); i32c(0xffff_f000); op(OP_I32_AND); localGet(lin); op(OP_I32_XOR);
}

/** Read the r/m operand into local `l`. */
export function readETo(size: u32, l: u32): void {
  if (fMod() == 3) { getReg(fRm(), size); localSet(l); return; }
  readMemTo(size, l);
}

/** The rest of setLazy(): size, operands, result ($a $b $r), all six flags lazy. */
export function setLazyOperands(size: u32): void {
  localGet(L_CPU); i32c(sizeIndex(size)); mem(OP_I32_STORE, 2, CPU_LF_SIZE);
  localGet(L_CPU); localGet(L_A); mem(OP_I32_STORE, 2, CPU_LF_SRC1);
  localGet(L_CPU); localGet(L_B); mem(OP_I32_STORE, 2, CPU_LF_SRC2);
  localGet(L_CPU); localGet(L_R); mem(OP_I32_STORE, 2, CPU_LF_RES);
  localGet(L_CPU); i32c(ARITH); mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

/**
 * setLazyResult(): CF OF AF eagerly from local `eager` (bits in EFLAGS positions), ZF SF PF lazy from $r.
 */
export function setLazyResult(size: u32, eager: u32): void {
  pend = PEND_NONE; ovMask = 0; // all six arithmetic flags are written to memory: pending ones are dead
  storeResult(size, eager, L_R);
}

/** Store a result's flags: CF OF AF from local `eager`, ZF SF PF lazy from local `res`. */
function storeResult(size: u32, eager: u32, res: u32): void {
  localGet(L_CPU);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_FLAGS); i32c(~(CF | OF | AF)); op(OP_I32_AND);
  localGet(eager); op(OP_I32_OR);
  mem(OP_I32_STORE, 2, CPU_FLAGS);
  localGet(L_CPU); i32c(LF_RES); mem(OP_I32_STORE, 2, CPU_LF_OP);
  localGet(L_CPU); i32c(sizeIndex(size)); mem(OP_I32_STORE, 2, CPU_LF_SIZE);
  localGet(L_CPU); localGet(res); mem(OP_I32_STORE, 2, CPU_LF_RES);
  localGet(L_CPU); i32c(ZF | SF | PF); mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

// ALU operation numbers (bits 5..3 of 00-3F; the reg field of 80-83): ADD OR ADC SBB AND SUB XOR CMP.
/**
 * $r = $a op $b masked to size; returns the lazy-flags operation (for ADC/SBB: the base one, LF_ADD or
 * LF_SUB, to which the carry in $c is added). The flags are stored separately (aluFlags), after any store
 * that can fault.
 */
export function aluCompute(aluOp: u32, size: u32): u32 {
  let lf: u32;
  if (aluOp == 2 || aluOp == 3) { pushCarry(); localSet(L_C); } // CF, from whatever holds it
  localGet(L_A); localGet(L_B);
  switch (aluOp) {
    case 0: op(OP_I32_ADD); lf = LF_ADD; break;
    case 1: op(OP_I32_OR); lf = LF_LOGIC; break;
    case 2: op(OP_I32_ADD); localGet(L_C); op(OP_I32_ADD); lf = LF_ADD; break;
    case 3: op(OP_I32_SUB); localGet(L_C); op(OP_I32_SUB); lf = LF_SUB; break;
    case 4: op(OP_I32_AND); lf = LF_LOGIC; break;
    case 6: op(OP_I32_XOR); lf = LF_LOGIC; break;
    default: op(OP_I32_SUB); lf = LF_SUB; break; // SUB, CMP
  }
  if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
  localSet(L_R);
  return lf;
}

/**
 * The lazy flags of an ALU op (setLazy in src/cpu/flags.ts), from $a $b $r (and $c for ADC/SBB): kept in the
 * flag locals; ADC/SBB, whose operation depends on the carry in, store theirs at once.
 */
export function aluFlags(aluOp: u32, lf: u32, size: u32): void {
  if (aluOp == 2 || aluOp == 3) {
    localGet(L_CPU); i32c(lf); localGet(L_C); op(OP_I32_ADD); mem(OP_I32_STORE, 2, CPU_LF_OP); // LF_ADC/LF_SBB = +1
    setLazyOperands(size);
    pend = PEND_NONE; ovMask = 0;
    return;
  }
  ovMask = 0;
  maskedTo(L_A, size, L_FA);
  maskedTo(L_B, size, L_FB);
  localGet(L_R); localSet(L_FR);
  pend = lf == LF_ADD ? PEND_ADD : (lf == LF_SUB ? PEND_SUB : PEND_LOGIC);
  pendSize = size;
}

/** INC/DEC (the CF they keep in $c): their flags in the flag locals, from $a and $r. */
export function incDecPending(size: u32, dec: bool): void {
  maskedTo(L_A, size, L_FA);
  localGet(L_R); localSet(L_FR);
  localGet(L_C); localSet(L_FC);
  pend = dec ? PEND_DEC : PEND_INC;
  pendSize = size;
  ovMask = 0;
}

/**
 * A shift's or a multiply's flags (setLazyResult() in src/cpu/flags.ts) kept in the flag locals: CF OF AF from
 * local `eager` (bits in EFLAGS positions), ZF SF PF from $r.
 */
export function resultPending(size: u32, eager: u32): void {
  localGet(eager); localSet(L_FC);
  localGet(L_R); localSet(L_FR);
  pend = PEND_RES;
  pendSize = size;
  ovMask = 0;
}

/** A rotate's CF and OF, from local `bits` (EFLAGS positions): the other flags stay where they are. */
export function rotatePending(bits: u32): void {
  localGet(bits); localSet(L_FO);
  ovMask = CF | OF;
}

/**
 * A rotate by a count in CL, whose flags are written only when the count is not zero: CF and OF from local
 * `bits` into the CPU block (the caller flushed the pending flags first), as setFlags() would, without
 * materialising the lazy ones (they stay lazy: the mask says which).
 */
export function rotateFlagsToMemory(bits: u32): void {
  localGet(L_CPU);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_FLAGS); i32c(~(CF | OF)); op(OP_I32_AND); localGet(bits); op(OP_I32_OR);
  mem(OP_I32_STORE, 2, CPU_FLAGS);
  localGet(L_CPU);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_MASK); i32c(~(CF | OF)); op(OP_I32_AND);
  mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

function maskedTo(from: u32, size: u32, to: u32): void {
  localGet(from);
  if (size != 4) { i32c(sizeMask(size)); op(OP_I32_AND); }
  localSet(to);
}

/** Push CF (0/1): from the flag locals, or from the lazy flags in memory. */
export function pushCarry(): void { pushAnyFlag(CF); }

/** Push one arithmetic flag as 0/1 from wherever the flags are: the flag locals, or the CPU block. */
function pushAnyFlag(f: u32): void {
  if ((ovMask & f) != 0) { localGet(L_FO); i32c(ctz<u32>(f)); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND); }
  else if (pend == PEND_NONE) pushMemFlag(f);
  else pushFlag(f);
}

/**
 * Push one arithmetic flag (CF ZF SF OF PF) as 0/1 from the CPU block: from CPU_FLAGS, or computed from the
 * lazy operands as computeLazy() in src/cpu/flags.ts does. Inline, because a call from generated code costs
 * more than the computation: the engine saves every live local around it. The operands are shifted left by
 * 32 minus their width, which keeps their order and puts their sign bit at bit 31.
 */
function pushMemFlag(f: u32): void {
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_MASK); i32c(f); op(OP_I32_AND);
  op(OP_IF); byte(T_I32);
  if (f == PF) {
    localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_RES); i32c(0xff); op(OP_I32_AND); op(OP_I32_POPCNT);
    i32c(1); op(OP_I32_AND); op(OP_I32_EQZ);
  } else {
    i32c(32); i32c(8); localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_SIZE); op(OP_I32_SHL); op(OP_I32_SUB); localSet(L_Z);
    if (f == ZF || f == SF) {
      localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_RES); localGet(L_Z); op(OP_I32_SHL);
      if (f == ZF) op(OP_I32_EQZ); else { i32c(31); op(OP_I32_SHR_U); }
    } else {
      // a, b, r shifted into $x $y $z. ADD/ADC (op 0, 1) against SUB/SBB (2, 3); LOGIC (4) clears CF and OF.
      localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_SRC1); localGet(L_Z); op(OP_I32_SHL); localSet(L_X);
      localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_SRC2); localGet(L_Z); op(OP_I32_SHL); localSet(L_Y);
      localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_RES); localGet(L_Z); op(OP_I32_SHL); localSet(L_Z);
      if (f == CF) {
        // ADD: r < a, ADC: r <= a; SUB: a < b, SBB: a <= b.
        localGet(L_X); localGet(L_Y); pushMemLfOp(); i32c(2); op(OP_I32_LT_U); op(OP_SELECT); // y' = ADD ? a : b
        localGet(L_Z); localGet(L_X); pushMemLfOp(); i32c(2); op(OP_I32_LT_U); op(OP_SELECT); // x' = ADD ? r : a
        localSet(L_X); localSet(L_Y);
        localGet(L_X); localGet(L_Y); op(OP_I32_LE_U);
        localGet(L_X); localGet(L_Y); op(OP_I32_LT_U);
        pushMemLfOp(); i32c(1); op(OP_I32_AND); op(OP_SELECT);
      } else {
        // OF. ADD: (a ^ r) & (b ^ r); SUB: (a ^ b) & (a ^ r); the sign bit of that.
        localGet(L_X); localGet(L_Z); op(OP_I32_XOR); localGet(L_Y); localGet(L_Z); op(OP_I32_XOR); op(OP_I32_AND);
        localGet(L_X); localGet(L_Y); op(OP_I32_XOR); localGet(L_X); localGet(L_Z); op(OP_I32_XOR); op(OP_I32_AND);
        pushMemLfOp(); i32c(2); op(OP_I32_LT_U); op(OP_SELECT);
        i32c(31); op(OP_I32_SHR_U);
      }
      pushMemLfOp(); i32c(LF_LOGIC); op(OP_I32_LT_U); op(OP_I32_AND);
    }
  }
  byte(OP_ELSE);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_FLAGS); i32c(ctz<u32>(f)); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND);
  op(OP_END);
}
function pushMemLfOp(): void { localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_OP); }

/**
 * Store the pending flags into the CPU block's lazy-flags fields, as setLazy()/setLazyResult() would have
 * (code only: the flags stay pending for the code that follows on other paths).
 */
export function storeFlags(): void {
  storeBaseFlags();
  if (ovMask == 0) return;
  // The rotate's CF and OF over them: out of the lazy mask, into EFLAGS.
  localGet(L_CPU);
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_FLAGS); i32c(~ovMask); op(OP_I32_AND); localGet(L_FO); op(OP_I32_OR);
  mem(OP_I32_STORE, 2, CPU_FLAGS);
  localGet(L_CPU);
  if (pend == PEND_NONE) { localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_LF_MASK); i32c(~ovMask); op(OP_I32_AND); }
  else i32c((pend == PEND_INC || pend == PEND_DEC || pend == PEND_RES ? ZF | SF | PF : ARITH) & ~ovMask);
  mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

function storeBaseFlags(): void {
  if (pend == PEND_NONE) return;
  if (pend == PEND_RES) { storeResult(pendSize, L_FC, L_FR); return; }
  if (pend == PEND_INC || pend == PEND_DEC) {
    // CF kept, OF and AF eagerly in EFLAGS; ZF SF PF lazy from the result.
    localGet(L_CPU);
    localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_FLAGS); i32c(~(CF | OF | AF)); op(OP_I32_AND);
    localGet(L_FC); op(OP_I32_OR);
    pushFlag(OF); i32c(11); op(OP_I32_SHL); op(OP_I32_OR);
    localGet(L_FA); localGet(L_FR); op(OP_I32_XOR); i32c(AF); op(OP_I32_AND); op(OP_I32_OR);
    mem(OP_I32_STORE, 2, CPU_FLAGS);
    localGet(L_CPU); i32c(LF_RES); mem(OP_I32_STORE, 2, CPU_LF_OP);
    localGet(L_CPU); i32c(sizeIndex(pendSize)); mem(OP_I32_STORE, 2, CPU_LF_SIZE);
    localGet(L_CPU); localGet(L_FR); mem(OP_I32_STORE, 2, CPU_LF_RES);
    localGet(L_CPU); i32c(ZF | SF | PF); mem(OP_I32_STORE, 2, CPU_LF_MASK);
    return;
  }
  storeArithFlags(false);
}

/** The LF_* operation of pending ADD, SUB or logic flags. */
function pendLfOp(): u32 { return pend == PEND_ADD ? LF_ADD : (pend == PEND_SUB ? LF_SUB : LF_LOGIC); }

/**
 * Store ADD, SUB or logic flags from $fa $fb $fr: the operation and size as constants (`pend`), or at the shared
 * $flags exit from $pk, where retCount() put them (pendLfOp() | size index << 8).
 */
function storeArithFlags(fromPk: bool): void {
  localGet(L_CPU);
  if (fromPk) { localGet(L_PK); i32c(0xff); op(OP_I32_AND); } else i32c(pendLfOp());
  mem(OP_I32_STORE, 2, CPU_LF_OP);
  localGet(L_CPU);
  if (fromPk) { localGet(L_PK); i32c(8); op(OP_I32_SHR_U); } else i32c(sizeIndex(pendSize));
  mem(OP_I32_STORE, 2, CPU_LF_SIZE);
  localGet(L_CPU); localGet(L_FA); mem(OP_I32_STORE, 2, CPU_LF_SRC1);
  localGet(L_CPU); localGet(L_FB); mem(OP_I32_STORE, 2, CPU_LF_SRC2);
  localGet(L_CPU); localGet(L_FR); mem(OP_I32_STORE, 2, CPU_LF_RES);
  localGet(L_CPU); i32c(ARITH); mem(OP_I32_STORE, 2, CPU_LF_MASK);
}

/** Store the pending flags for good: from here on the flags in memory are the current ones. */
export function flushFlags(): void { storeFlags(); pend = PEND_NONE; ovMask = 0; }

/** Push one pending flag (CF ZF SF OF PF) as 0/1, computed from the flag locals. */
function pushFlag(f: u32): void {
  const sb: u32 = 1 << ((pendSize << 3) - 1);
  if (f == ZF) { localGet(L_FR); op(OP_I32_EQZ); return; }
  if (f == SF) { localGet(L_FR); i32c(sb); op(OP_I32_AND); i32c(0); op(OP_I32_NE); return; }
  if (f == PF) { localGet(L_FR); i32c(0xff); op(OP_I32_AND); op(OP_I32_POPCNT); i32c(1); op(OP_I32_AND); op(OP_I32_EQZ); return; }
  if (f == CF) {
    if (pend == PEND_ADD) { localGet(L_FR); localGet(L_FA); op(OP_I32_LT_U); }
    else if (pend == PEND_SUB) { localGet(L_FA); localGet(L_FB); op(OP_I32_LT_U); }
    else if (pend == PEND_LOGIC) i32c(0);
    else if (pend == PEND_RES) { localGet(L_FC); i32c(1); op(OP_I32_AND); }
    else localGet(L_FC);
    return;
  }
  // OF
  if (pend == PEND_RES) { localGet(L_FC); i32c(11); op(OP_I32_SHR_U); i32c(1); op(OP_I32_AND); return; }
  if (pend == PEND_ADD || pend == PEND_SUB) {
    // ADD: the operands agree in sign and the result does not; SUB: they differ and the result has b's sign.
    localGet(L_FA); localGet(pend == PEND_ADD ? L_FR : L_FB); op(OP_I32_XOR);
    localGet(pend == PEND_ADD ? L_FB : L_FA); localGet(L_FR); op(OP_I32_XOR);
    op(OP_I32_AND); i32c(sb); op(OP_I32_AND); i32c(0); op(OP_I32_NE);
  } else if (pend == PEND_LOGIC) i32c(0);
  else { localGet(pend == PEND_INC ? L_FR : L_FA); i32c(sb); op(OP_I32_EQ); } // INC: r = 80..0; DEC: a was
}

/** Push the operand `l` ($fa or $fb) sign-extended from the pending size. */
function pushSigned(l: u32): void {
  localGet(l);
  if (pendSize != 4) { const sh: u32 = 32 - (pendSize << 3); i32c(sh); op(OP_I32_SHL); i32c(sh); op(OP_I32_SHR_S); }
}

export function aluCore(aluOp: u32, size: u32): void { aluFlags(aluOp, aluCompute(aluOp, size), size); }

/**
 * Read the r/m destination into $a (a memory operand leaves its offset in $off): checked for writing first
 * when it will be written (`rmw`), as readEForWrite() does; a plain read for CMP, which only reads it.
 */
export function readDest(size: u32, rmw: bool = true): void {
  if (fMod() == 3) { getReg(fRm(), size); localSet(L_A); return; }
  pushEa(); localSet(L_OFF);
  accessKind(fSeg(), size, rmw ? ACC_RMW : ACC_R, L_A);
}
/** Write $r to the r/m destination read by readDest (the store may fault: nothing else is committed yet). */
export function writeDest(size: u32): void {
  if (fMod() == 3) { setRegFrom(fRm(), size, L_R); return; }
  localGet(L_R); localSet(L_VAL);
  access(fSeg(), size, true, 0);
}

@inline export function stack32(): bool { return (blockMode & MODE_STACK32) != 0; }

/** Push the new stack pointer (ESP - size, wrapped to the stack width) into $a. */
export function newSpDown(size: u32): void {
  getReg(4, 4); i32c(size); op(OP_I32_SUB);
  if (!stack32()) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_A);
}
/**
 * A push of `size` bytes in two halves, between which the caller puts the value in $val: the new stack
 * pointer into $a and the store's offset, then the store (which may fault: nothing is committed before it)
 * and the new stack pointer.
 */
export function pushStart(size: u32): void { newSpDown(size); localGet(L_A); localSet(L_OFF); }
export function pushFinish(size: u32): void { access(2, size, true, 0); setSpFromA(); }

/** Store $a as the stack pointer (SP only on a 16-bit stack). */
export function setSpFromA(): void { setRegFrom(4, stack32() ? 4 : 2, L_A); }


/** Push the stack pointer (SP on a 16-bit stack) into local `l`. */
export function spTo(l: u32): void {
  if (stack32()) getReg(4, 4); else getReg(4, 2);
  localSet(l);
}

/** Read `size` bytes at the top of the stack into $t; the stack pointer is left in $a, not yet moved. */
export function popToT(size: u32): void {
  spTo(L_A);
  localGet(L_A); localSet(L_OFF);
  access(2, size, false, L_T);
}

/** $a += size, wrapped to the stack width. */
export function spUp(size: u32): void {
  localGet(L_A); i32c(size); op(OP_I32_ADD);
  if (!stack32()) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_A);
}


/** Push CS.limit. */
export function csLimit(): void { localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_SEG + SEG_SIZE + SEG_LIMIT); }

/** Leave the block at EIP in local `l`, with this instruction retired. */
export function exitTo(l: u32): void {
  localGet(L_CPU); localGet(l); mem(OP_I32_STORE, 2, CPU_RIP);
  retCount(idx + 1);
}

/**
 * Hand this instruction to the interpreter and leave after it (for rare paths: #GP, #DE): it retired unless
 * it faulted (jitStep's "go on", 0, counts as 2 here).
 */
export function interpretAndExit(): void {
  if (!ripValid) storeRip();
  storeFlags();
  spillRegs();
  i32c(<u32>arenaRecord()); eipPlus(0); call(F_STEP); i32c(1); op(OP_I32_NE); i32c(1); op(OP_I32_SHL);
  localSet(L_STATUS);
  retStatus(idx);
}

/** Relative target of a near branch into $t, masked to 16 bits for a 16-bit operand size. */
export function relTarget(rel: u32): void {
  eipPlus(fLen() + rel);
  if (fOsz() != 4) { i32c(0xffff); op(OP_I32_AND); }
  localSet(L_T);
}

/** Go to $t (a near branch taken): beyond the CS limit the interpreter raises the #GP. */
export function branchToT(): void {
  guardTargetT();
  exitTo(L_T);
}

/**
 * A target in $t beyond the CS limit: the interpreter executes the instruction (and raises its #GP). Nothing
 * under MODE_FLAT, whose CS limit is 4 GiB: about a seventh of the wasm a Linux boot translated was this guard.
 */
export function guardTargetT(): void {
  if ((blockMode & MODE_FLAT) != 0) return;
  localGet(L_T); csLimit(); op(OP_I32_GT_U);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  interpretAndExit();
  op(OP_END);
}

/** The condition `cc` (0..15) as 0/1: inline from the flag locals, or from the lazy flags in memory. */
export function condition(cc: u32): void {
  const base = cc >> 1;
  // (The fused forms compare the operands: only while no rotate has replaced CF and OF.)
  const sub = pend == PEND_SUB && ovMask == 0;
  if (sub && base == 3) { localGet(L_FA); localGet(L_FB); op(OP_I32_LE_U); } // BE: a <= b
  else if (sub && base == 6) { pushSigned(L_FA); pushSigned(L_FB); op(OP_I32_LT_S); } // L
  else if (sub && base == 7) { pushSigned(L_FA); pushSigned(L_FB); op(OP_I32_LE_S); } // LE
  else {
    switch (base) {
      case 0: pushAnyFlag(OF); break;
      case 1: pushAnyFlag(CF); break;
      case 2: pushAnyFlag(ZF); break;
      case 3: pushAnyFlag(CF); pushAnyFlag(ZF); op(OP_I32_OR); break;
      case 4: pushAnyFlag(SF); break;
      case 5: pushAnyFlag(PF); break;
      case 6: pushAnyFlag(SF); pushAnyFlag(OF); op(OP_I32_NE); break;
      default: pushAnyFlag(ZF); pushAnyFlag(SF); pushAnyFlag(OF); op(OP_I32_NE); op(OP_I32_OR); break;
    }
  }
  if ((cc & 1) != 0) op(OP_I32_EQZ);
}

/** 70-7F Jcc rel8, 0F 80-8F Jcc rel16/32. Ends the block. */

/** Start emitting an instruction. */
export function insnStart(): void { wrote = false; }

/** Finish an instruction emitted with result `done` (see emitNative). */
export function insnEnd(done: u32): void {
  if (done == 0) return;
  if (wrote && done == 1) {
    // A store that hit a page holding translated code may have changed what follows in this block.
    byte(OP_GLOBAL_GET); uleb(G_CODE_DIRTY);
    op(OP_IF); byte(BLOCKTYPE_VOID);
    localGet(L_CPU); eipPlus(fLen()); mem(OP_I32_STORE, 2, CPU_RIP);
    retCount(idx + 1);
    op(OP_END);
  }
  if (done == 1) ripValid = false;
}
