// The block translator: decode runs of guest instructions with the interpreter's decoder and emit one wasm
// module for a group of blocks of one page.
//
// A block starts at an entry EIP and extends over the following instructions of the same 4 KiB page, up to one
// that may transfer control (endsBlock), at most MAX_BLOCK_INSNS. It is keyed by the host (physical) address of
// its first byte and the CPU mode (code/stack size, paging, VM86, CPL 3), not by EIP: the same physical code
// mapped at two linear addresses shares one translation, so every EIP is computed from the entry EIP.
//
// A module holds one function, exported as "g": (cpu, left, k, delta) -> retired, whose dispatch loop starts at
// block k (EIP - delta is the first block's EIP) and lets the blocks branch to each other (emit-core.ts
// gotoBlock); every exit to the run loop branches to one shared exit path after the loop, which writes the
// registers back (emit-core.ts openGroup/closeGroup). The run loop calls it through the table with k and
// delta from the block's map entry (blockCall in src/cpu/exec.ts, callBlock in cache.ts). The guest registers
// and the flags live in locals while the function runs. On return EIP and every register are architecturally
// exact: either at an instruction boundary, or (when `faulted` is set) with EIP at the faulting instruction
// and its state as of its start, for the run loop to deliver the exception.
import { segBase, segLimit, cpu } from "../cpu/state";
import { decode, dOp, dRaisesUD, nextEip, rec, isScratchRecord } from "../cpu/decode";
import { faulted, clearFault } from "../cpu/exceptions";
import { endsBlock } from "../cpu/optable-info";
import { R_SIZE, R_OP, R_OSZ, R_IMM, R_REG } from "../cpu/dcache";
import { CPU_RIP, CPU_CR2, JIT_STATS, JIT_STAT_EMITTED } from "../layout/memory";
import {
  outReset, resetDepth, overflow, byte, uleb, name, sizeStart, sizeEnd, i32c, localGet, localSet, localTee, call, mem, op,
  T_I32, T_I64, OP_IF, OP_END, OP_RETURN, OP_BLOCK, OP_BR_TABLE, OP_UNREACHABLE, OP_I32_LOAD, OP_I32_STORE,
  OP_I32_SUB, OP_I32_ADD, OP_I32_SHR_U, BLOCKTYPE_VOID,
} from "./encoder";
import {
  recRoom, jitFlushAll, jitFind, jitClaimFree, clearPending, addPending, pendingCount, M_META, M_FN,
  META_NO_JIT, META_KEY_MASK,
} from "./cache";
import { emitNative } from "./emit";
import {
  F_STEP, L_CPU, L_BASE, L_STATUS, L_K, L_DELTA, NUM_SCRATCH_LOCALS, NUM_IMPORTED_FUNCS, beginBlock, beginInsn,
  afterFallback, ripValid, arenaRecord, retCount, retStatus, emitPrologue, setGroup, setGroupBlock, groupBlockDelta,
  findTarget, gotoBlock, openGroup, closeGroup, MAX_GROUP, spillRegs, loadRegs, flushFlags,
} from "./emit-core";
import { JIT_STAT_NATIVE } from "../layout/memory";

export const MAX_BLOCK_INSNS: u32 = 64;

/** Blocks per module at most: the hot one and those of the same page it leads to, compiled together. */
export const MAX_MODULE_BLOCKS: u32 = MAX_GROUP;
const candSlot = new StaticArray<u32>(<i32>MAX_MODULE_BLOCKS);
const candEip = new StaticArray<u32>(<i32>MAX_MODULE_BLOCKS);
const candN = new StaticArray<u32>(<i32>MAX_MODULE_BLOCKS);
const candBytes = new StaticArray<u32>(<i32>MAX_MODULE_BLOCKS);
const candRet = new StaticArray<bool>(<i32>MAX_MODULE_BLOCKS); // follows a call: a return point
// Every candidate's decoded records and instruction offsets, decoded once: the successors found and the code
// emitted come from the same decoding (decoding a block a second time could end it elsewhere, and code emitted
// for other instructions than the group was built from ran in Linux boots).
const candRecs: usize = memory.data(<i32>(MAX_MODULE_BLOCKS * MAX_BLOCK_INSNS * R_SIZE), 8);
const candOff = new StaticArray<u32>(<i32>(MAX_MODULE_BLOCKS * MAX_BLOCK_INSNS));
@inline function candRec(c: u32, k: u32): usize { return candRecs + ((<usize>(c * MAX_BLOCK_INSNS + k)) << 5); }

/**
 * The block at EIP `at` (host address `host`, map slot `slot`) became hot: translate it, together with blocks
 * it leads to in the same physical page that have run or that control falls into (translated already or not:
 * a loop split over groups would go through the run loop on every pass), into one function of one module in
 * JIT_OUT, where they branch to each other without the run loop (one module per block costs the host engine
 * far more memory and compile time).
 * Returns true when a module is ready for the host (the pending list names the slot of each block); false
 * when nothing could be translated (the slot is marked so it is not tried again) or the record arena was full
 * (everything was flushed).
 */
export function translateHot(at: u32, host: usize, slot: usize, key: u32): bool {
  blockKey = key;
  let count: u32 = 1;
  unchecked(candSlot[0] = <u32>slot);
  unchecked(candEip[0] = at);
  unchecked(candRet[0] = false);
  // Breadth first over the static successors inside the page (branch targets, fall-through, return points).
  for (let q: u32 = 0; q < count; q++) {
    const eip = unchecked(candEip[q]);
    const n = decodeBlock(eip, q);
    if (n == 0 || count >= MAX_MODULE_BLOCKS) continue;
    const last = candRec(q, n - 1);
    const o = <u32>load<u16>(last + R_OP);
    const end = eip + unchecked(candBytes[q]);
    const osz = <u32>load<u8>(last + R_OSZ);
    const isJcc = (o >= 0x70 && o <= 0x7f) || (o >= 0x180 && o <= 0x18f);
    // What follows a conditional branch, or a block cut short, is code even if it has not run yet (control
    // falls into it without a lookup, so it may never get an entry of its own); what follows a call is code
    // only if the call has returned.
    const fallsThrough = isJcc || !endsBlock(o, <u32>load<u8>(last + R_REG));
    const isCall = o == 0xe8 || (o == 0xff && load<u8>(last + R_REG) == 2);
    if (fallsThrough || isCall) count = addSuccessor(count, end, at, host, key, fallsThrough);
    if (isCall) markReturnPoint(count, end);
    if ((isJcc || o == 0xe8 || o == 0xe9 || o == 0xeb) && osz == 4) {
      const imm = load<u32>(last + R_IMM);
      const rel = o == 0xeb || (o >= 0x70 && o <= 0x7f) ? <u32>(<i32><i8>imm) : imm;
      count = addSuccessor(count, end + rel, at, host, key, false);
    }
  }
  // Instructions the generated code hands to the interpreter need their record in the arena.
  // (At most one record per decoded instruction.)
  let insns: u32 = 0;
  for (let q: u32 = 0; q < count; q++) insns += unchecked(candN[q]);
  if (!recRoom(insns)) { jitFlushAll(); return false; }
  emitModule(count);
  if (overflow) {
    store<u32>(slot + M_META, load<u32>(slot + M_META) | META_NO_JIT);
    clearPending();
    return false;
  }
  return pendingCount() != 0;
}

/**
 * Add the block at EIP `eip` as a candidate if it is in the page and has run, or (`isCode`) is known to be
 * code: then it gets an entry now if its set has a free one.
 */
function addSuccessor(count: u32, eip: u32, at: u32, host: usize, key: u32, isCode: bool): u32 {
  if (count >= MAX_MODULE_BLOCKS) return count;
  const po = <u32>(host & 0xfff) + (eip - at);
  if (po >= 4096) return count; // another page
  for (let i: u32 = 0; i < count; i++) if (unchecked(candEip[i]) == eip) return count;
  let e = jitFind(host + <usize>(eip - at), key);
  if (e != 0 && (load<u32>(e + M_META) & META_NO_JIT) != 0) return count;
  // (A free entry only: taking a used one could take a candidate's.)
  if (e == 0 && isCode) e = jitClaimFree(host + <usize>(eip - at), key);
  // Otherwise only code the run loop has entered: bytes after a call that does not return may not be code.
  if (e == 0) return count;
  unchecked(candSlot[count] = <u32>e);
  unchecked(candEip[count] = eip);
  unchecked(candRet[count] = false);
  return count + 1;
}

/** The candidate at EIP `eip`, if there is one, follows a call: a RET in the group may go to it. */
function markReturnPoint(count: u32, eip: u32): void {
  for (let i: u32 = 0; i < count; i++) if (unchecked(candEip[i]) == eip) unchecked(candRet[i] = true);
}

/**
 * Decode the block at EIP `at` as candidate `c` (candRecs, candOff, candBytes, candN); returns its instruction
 * count (0: its first instruction cannot be translated).
 */
function decodeBlock(at: u32, c: u32): u32 {
  // Decoding code that never ran (a successor) can fault on an instruction crossing into an unmapped page: the
  // fault is dropped, and so must be its side effect on CR2, which a guest's #PF handler may not have read yet.
  const cr2 = load<u64>(cpu + CPU_CR2);
  const lin0 = segBase(1) + at;
  const limit = segLimit(1);
  let n: u32 = 0;
  let cur = at;
  while (n < MAX_BLOCK_INSNS) {
    if (cur - at > 0 && ((lin0 + (cur - at)) & 0xfff) == 0) break; // the next instruction is in another page
    if (cur > limit) break;
    if (!decode(cur)) break;
    // Only what decodes from RAM/ROM within the page is cached in a record we can copy; #UD stays interpreted.
    if (isScratchRecord() || dRaisesUD()) break;
    memory.copy(candRec(c, n), rec, <usize>R_SIZE);
    unchecked(candOff[c * MAX_BLOCK_INSNS + n] = cur - at);
    n++;
    const end = endsBlock(dOp(), <u32>load<u8>(rec + R_REG));
    cur = nextEip;
    if (end) break;
  }
  if (faulted) { clearFault(); store<u64>(cpu + CPU_CR2, cr2); }
  unchecked(candBytes[c] = cur - at);
  unchecked(candN[c] = n);
  return n;
}

/** The key (MODE_* bits and KEY_USER) the block is translated for. */
let blockKey: u32 = 0;

function emitModule(count: u32): void {
  outReset();
  resetDepth();
  // Header: magic and version 1.
  byte(0x00); byte(0x61); byte(0x73); byte(0x6d); byte(0x01); byte(0x00); byte(0x00); byte(0x00);

  // Type section: 0 = (i32) -> i32 (the block, jitCond); 1 = (i32, i32) -> i32 (jitStep, reads);
  // 2 = (i32, i32, i32) -> () (writes).
  // 3 = (i32, i32) -> () (jitJournal); 4 = (i32, i32, i32) -> i32 (jitRmwRead).
  byte(1);
  let s = sizeStart();
  uleb(6);
  byte(0x60); uleb(1); byte(T_I32); uleb(1); byte(T_I32);
  byte(0x60); uleb(2); byte(T_I32); byte(T_I32); uleb(1); byte(T_I32);
  byte(0x60); uleb(3); byte(T_I32); byte(T_I32); byte(T_I32); uleb(0);
  byte(0x60); uleb(2); byte(T_I32); byte(T_I32); uleb(0);
  byte(0x60); uleb(3); byte(T_I32); byte(T_I32); byte(T_I32); uleb(1); byte(T_I32);
  byte(0x60); uleb(4); byte(T_I32); byte(T_I32); byte(T_I32); byte(T_I32); uleb(1); byte(T_I32); // 5: group
  sizeEnd(s);

  // Import section: the core's memory, helpers and fault flag, in the index order emit.ts uses.
  byte(2);
  s = sizeStart();
  uleb(13);
  name("e"); name("m"); byte(0x02); byte(0x00); uleb(0); // memory, limits {min 0}
  name("e"); name("s"); byte(0x00); uleb(1); // 0 jitStep
  name("e"); name("c"); byte(0x00); uleb(0); // 1 jitCond
  name("e"); name("r1"); byte(0x00); uleb(1); // 2..4 read8/16/32
  name("e"); name("r2"); byte(0x00); uleb(1);
  name("e"); name("r4"); byte(0x00); uleb(1);
  name("e"); name("w1"); byte(0x00); uleb(2); // 5..7 write8/16/32
  name("e"); name("w2"); byte(0x00); uleb(2);
  name("e"); name("w4"); byte(0x00); uleb(2);
  name("e"); name("rm"); byte(0x00); uleb(4); // 8 jitRmwRead
  name("e"); name("j"); byte(0x00); uleb(3); // 9 jitJournal
  name("e"); name("f"); byte(0x03); byte(T_I32); byte(0x01); // global 0: faulted (mutable i32)
  name("e"); name("d"); byte(0x03); byte(T_I32); byte(0x01); // global 1: codeDirty (mutable i32)
  sizeEnd(s);

  // Function section: the group function (type 5), the module's one function. The run loop calls it through
  // the table with the number of the block to start at and that block's EIP minus the first block's.
  byte(3);
  s = sizeStart();
  uleb(1);
  uleb(5);
  sizeEnd(s);

  // Export section: the group function as "g".
  byte(7);
  s = sizeStart();
  uleb(1);
  name("g"); byte(0x00); uleb(NUM_IMPORTED_FUNCS);
  sizeEnd(s);

  // Code section.
  byte(10);
  s = sizeStart();
  uleb(1);
  const body = sizeStart();
  // Locals: i32 scratch, one i64, $pk.
  uleb(3); uleb(NUM_SCRATCH_LOCALS); byte(T_I32); uleb(1); byte(T_I64); uleb(1); byte(T_I32);
  emitGroup(count);
  op(OP_END);
  sizeEnd(body);
  sizeEnd(s);
}

/**
 * The group function: every candidate block's code after a dispatch loop that starts, and continues, at
 * block $k. Blocks branch to each other inside the function (gotoBlock) and return to the run loop otherwise.
 */
function emitGroup(count: u32): void {
  clearPending();
  setGroup(count, unchecked(candEip[0]));
  for (let i: u32 = 0; i < count; i++) {
    setGroupBlock(i, unchecked(candEip[i]) - unchecked(candEip[0]), unchecked(candN[i]) != 0, unchecked(candRet[i]));
  }
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_RIP); localGet(L_DELTA); op(OP_I32_SUB); localSet(L_BASE);
  emitPrologue();
  openGroup();
  for (let i: u32 = 0; i < count; i++) { op(OP_BLOCK); byte(BLOCKTYPE_VOID); }
  localGet(L_K);
  byte(OP_BR_TABLE); uleb(count);
  for (let i: u32 = 0; i < count; i++) uleb(i);
  uleb(count - 1);
  for (let i: u32 = 0; i < count; i++) {
    op(OP_END); // the end of block label i: its code follows
    const slot = <usize>unchecked(candSlot[i]);
    const n = unchecked(candN[i]);
    if (n == 0) {
      // Nothing to translate here: never entered (not installed, no branch to it).
      op(OP_UNREACHABLE);
      if (slot != 0) store<u32>(slot + M_META, load<u32>(slot + M_META) | META_NO_JIT);
      addPending(0, 0);
      continue;
    }
    const native = emitBody(n, i);
    const bytes = unchecked(candBytes[i]);
    if (slot != 0) store<u32>(slot + M_META, (load<u32>(slot + M_META) & META_KEY_MASK) | ((bytes & 0x1fff) << 8));
    store<u64>(<usize>JIT_STATS + JIT_STAT_EMITTED, load<u64>(<usize>JIT_STATS + JIT_STAT_EMITTED) + <u64>n);
    store<u64>(<usize>JIT_STATS + JIT_STAT_NATIVE, load<u64>(<usize>JIT_STATS + JIT_STAT_NATIVE) + <u64>native);
    addPending(<u32>slot, unchecked(candEip[i]) - unchecked(candEip[0]));
  }
  closeGroup();
}

/** Emit block b of the group (candidate b's records); returns how many instructions are native. */
function emitBody(n: u32, b: u32): u32 {
  beginBlock(blockKey, b);
  const delta = groupBlockDelta(b);
  let native: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const at = delta + unchecked(candOff[b * MAX_BLOCK_INSNS + i]);
    beginInsn(candRec(b, i), i, at, i + 1 < n ? candRec(b, i + 1) : 0);
    const done = emitNative();
    if (done == 2) return native + 1; // it ended the block (every path returned or branched)
    if (done == 1) { native++; continue; }
    if (!ripValid) {
      // jitStep expects CPU_RIP at the instruction (native code before it did not store it).
      localGet(L_CPU);
      emitEip(at);
      mem(OP_I32_STORE, 2, CPU_RIP);
    }
    emitFallback(i, at);
    afterFallback();
  }
  // Fell off the end: on to the next instruction, in this group or through the run loop.
  const end = delta + unchecked(candBytes[b]);
  const f = findTarget(end);
  if (f >= 0) { gotoBlock(<u32>f, n); return native; }
  localGet(L_CPU);
  emitEip(end);
  mem(OP_I32_STORE, 2, CPU_RIP);
  retCount(n);
  return native;
}

/** Push the EIP at offset `off` from the group's base. */
function emitEip(off: u32): void {
  localGet(L_BASE);
  if (off != 0) { i32c(off); op(OP_I32_ADD); }
}

/**
 * Instruction i through the interpreter: jitStep(rec, eip) returns 0 to go on, 1 when it faulted (not
 * retired), 2 when it retired but the block must end (control transfer, mode change, pending exit ...).
 */
function emitFallback(i: u32, off: u32): void {
  flushFlags();
  spillRegs();
  i32c(<u32>arenaRecord());
  emitEip(off);
  call(F_STEP);
  localTee(L_STATUS);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  retStatus(i);
  op(OP_END);
  loadRegs(); // the interpreter may have changed any register
}
