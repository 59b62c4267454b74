// JIT check mode (--jit-check): every call into translated code is checked against the interpreter, the
// reference semantics. The block runs with a journal of the guest memory it writes; then its writes are
// undone, the CPU state from before it is restored, and the interpreter executes the same number of
// instructions. Registers, EIP, EFLAGS, segment caches, CR2, the halted and shadow flags and every byte either
// side wrote must agree; the first difference stops the machine with a report (JIT_CHECK_*) the host prints.
//
// Its calls to the host (port I/O, MMIO, the clock) are recorded and the interpreter is answered from the
// record, so devices see them once; the interpreter must make the same ones. A call that changed the mode,
// CPL or a control register, or wrote or called out more than the logs hold, cannot be repeated: it is counted
// as unchecked and its result kept.
import { cpu, eip } from "../cpu/state";
import {
  CPU_GPR, CPU_RIP, CPU_MODE, CPU_CPL, CPU_CR0, CPU_CR3, CPU_CR4, CPU_CR2, CPU_SEG, SEG_SIZE, CPU_HALTED, CPU_SHADOW,
  CPU_STOP, CPU_EXIT, CPU_FPU, JIT_STATS, JIT_CHECK, JIT_CHECK_BAD, JIT_CHECK_EIP, JIT_CHECK_RETIRED, JIT_CHECK_WHAT, JIT_CHECK_JIT,
  JIT_CHECK_INTERP, JIT_CHECK_ADDR, JIT_CHECK_CHECKED, JIT_CHECK_UNCHECKED, JIT_CHECK_AT, JIT_CHECK_HOST, JIT_CHECK_JIT_EIP, JIT_CHECK_TRAIL, JIT_CHECK_TRAIL_LEN,
} from "../layout/memory";
import { faulted, clearFault, clearFaultEip, excVector } from "../cpu/exceptions";
import { getFlags } from "../cpu/flags";
import { checkStep, checkDeliver, faultsDelivered } from "../cpu/exec";
import { setAccessUser } from "../cpu/mem";
import {
  heRecord, heReplay, heStop, heCount, heOverflowed, heDiffered, journalStart, journalResume, journalStop, journalCount, journalOverflowed, jAddr, jSize, jOld, jNew,
  loadSz, storeSz, JOURNAL_STATE, checkBlocks, J_MAX,
} from "./journal";
import { callBlock } from "./cache";

// ---- state snapshots: the CPU block up to the run-loop fields (registers, segments, control, MSRs, x87) ----
const SNAP_BYTES: u32 = <u32>CPU_EXIT;
const snapBefore = memory.data(<i32>SNAP_BYTES, 16);
const snapJit = memory.data(<i32>SNAP_BYTES, 16);

@inline function rep(off: u32): usize { return <usize>JIT_STATS + JIT_CHECK + off; }
@inline function bump64(off: u32): void { store<u64>(rep(off), load<u64>(rep(off)) + 1); }

// What differed (JIT_CHECK_WHAT): 0..7 a register, then these.
const W_EIP: u32 = 8, W_EFLAGS: u32 = 9, W_MEM: u32 = 10, W_SEG: u32 = 11, W_CR2: u32 = 12, W_HALT: u32 = 13,
  W_INTERP_FAULTED: u32 = 14, W_JIT_FAULTED: u32 = 15, W_VECTOR: u32 = 16, W_FPU: u32 = 17, W_HOST: u32 = 18;

let codeHost: u32 = 0;
const trail = new StaticArray<u32>(<i32>JIT_CHECK_TRAIL_LEN);
let trailN: u32 = 0;

/** Test hook: the next checked call's translated result gets EAX bit 0 flipped, as a translator bug would. */
let inject: bool = false;
export function jitCheckInject(): void { inject = true; }

// The difference found by the last probe (what, the translated and interpreted values, an address).
let dWhat: u32 = 0, dJit: u32 = 0, dInterp: u32 = 0, dAddr: u32 = 0, dStep: u32 = 0;
function differ(what: u32, jitV: u32, interpV: u32, addr: u32, step: u32): u32 {
  dWhat = what; dJit = jitV; dInterp = interpV; dAddr = addr; dStep = step;
  return PROBE_DIFFERS;
}

function report(at: u32, retired: u32): void {
  if (load<u32>(rep(JIT_CHECK_BAD)) != 0) return;
  store<u32>(rep(JIT_CHECK_BAD), 1);
  store<u32>(rep(JIT_CHECK_EIP), at);
  store<u32>(rep(JIT_CHECK_RETIRED), retired);
  store<u32>(rep(JIT_CHECK_WHAT), dWhat);
  store<u32>(rep(JIT_CHECK_JIT), dJit);
  store<u32>(rep(JIT_CHECK_INTERP), dInterp);
  store<u32>(rep(JIT_CHECK_ADDR), dAddr);
  store<u32>(rep(JIT_CHECK_AT), dStep);
  store<u32>(rep(JIT_CHECK_HOST), codeHost);
  store<u32>(rep(JIT_CHECK_JIT_EIP), load<u32>(snapJit + CPU_RIP));
  // The interpreter's path: the last JIT_CHECK_TRAIL_LEN instruction addresses, oldest first.
  for (let k: u32 = 0; k < <u32>JIT_CHECK_TRAIL_LEN; k++) {
    const n = trailN + k;
    store<u32>(rep(JIT_CHECK_TRAIL + (k << 2)), n < <u32>JIT_CHECK_TRAIL_LEN ? 0 : unchecked(trail[(n - JIT_CHECK_TRAIL_LEN) & (JIT_CHECK_TRAIL_LEN - 1)]));
  }
  store<u32>(cpu + CPU_STOP, 1);
}

const PROBE_SAME: u32 = 0, PROBE_DIFFERS: u32 = 1, PROBE_UNREPEATABLE: u32 = 2;
/** Instructions the last probe retired (a delivered fault counts as one, as in the run loop). */
let probeTotal: u32 = 0;
/** Translated instructions of the last probe, without its faulting one. */
let probeRetired: u32 = 0;
let cpl0: u32 = 0;

/**
 * Run the translated block of entry `slot` with budget `left` from the state in snapBefore, then the interpreter from the
 * same state, and compare. The state left is the interpreter's, its writes journaled (undoInterpreter() goes
 * back); PROBE_UNREPEATABLE leaves the translated code's result and nothing to undo.
 */
function probe(slot: usize, left: u32): u32 {
  const mode0 = load<u32>(cpu + CPU_MODE);
  const cr0 = load<u32>(cpu + CPU_CR0), cr3 = load<u64>(cpu + CPU_CR3), cr4 = load<u32>(cpu + CPU_CR4);
  journalStart();
  heRecord();
  const r = callBlock(slot, cpu, left);
  heStop();
  probeRetired = r;
  probeTotal = r;
  if (heOverflowed() || journalOverflowed() || load<u32>(cpu + CPU_MODE) != mode0 || load<u32>(cpu + CPU_CPL) != cpl0
    || load<u32>(cpu + CPU_CR0) != cr0 || load<u64>(cpu + CPU_CR3) != cr3 || load<u32>(cpu + CPU_CR4) != cr4) {
    journalStop();
    return PROBE_UNREPEATABLE;
  }
  // A fault is delivered here, as the run loop would: the interpreter's step delivers it too.
  const jf = faulted;
  const jVec = excVector;
  const total = jf ? r + 1 : r;
  probeTotal = total;
  if (jf) checkDeliver(eip());
  journalStop();
  if (journalOverflowed()) return PROBE_UNREPEATABLE;
  const jFlags = getFlags();
  memory.copy(snapJit, cpu, SNAP_BYTES);
  if (inject) { inject = false; store<u32>(snapJit + CPU_GPR, load<u32>(snapJit + CPU_GPR) ^ 1); }
  // Undo the block's writes (newest first), keeping what it left in each place.
  const jitN = journalCount();
  for (let i: u32 = 0; i < jitN; i++) unchecked(jNew[i] = loadSz(<usize>unchecked(jAddr[i]), <u32>unchecked(jSize[i]) & 7));
  undoFrom(0);
  restoreCpu();
  // The TLB is as the block found it (its fills were journaled): the interpreter sees the same translations (a
  // stale one included, as a real TLB may keep it until INVLPG) and walks the page tables where the block did,
  // setting the A/D bits the block's walks set (and were undone with its other writes).

  // The interpreter, the same number of instructions; the faulting one too when the block faulted.
  interpFrom = jitN;
  journalResume();
  heReplay();
  const d0 = faultsDelivered;
  trailN = 0;
  for (let i: u32 = 0; i < total; i++) {
    unchecked(trail[trailN & (JIT_CHECK_TRAIL_LEN - 1)] = eip());
    trailN++;
    checkStep();
    if (faultsDelivered != d0 && !(jf && i == r)) { journalStop(); heStop(); return differ(W_INTERP_FAULTED, 0, excVector, 0, i); }
  }
  journalStop();
  heStop();
  if (heDiffered()) return differ(W_HOST, heCount(), 0, 0, r);
  if (jf && faultsDelivered == d0) return differ(W_JIT_FAULTED, jVec, 0, load<u32>(snapJit + CPU_CR2), r); // CR2: a #PF's address
  if (jf && excVector != jVec) return differ(W_VECTOR, jVec, excVector, 0, r);
  return compare(r, jFlags, jitN);
}

/** What the interpreter left at each of its journaled writes. */
const interpFinal = new StaticArray<u32>(<i32>J_MAX);
/** Journal entries from here on are the interpreter's. */
let interpFrom: u32 = 0;

function undoFrom(from: u32): void {
  for (let i = <i32>journalCount() - 1; i >= <i32>from; i--) {
    storeSz(<usize>unchecked(jAddr[i]), <u32>unchecked(jSize[i]) & 7, unchecked(jOld[i]));
  }
}
function restoreCpu(): void {
  memory.copy(cpu, snapBefore, SNAP_BYTES);
  setAccessUser(cpl0 == 3);
  clearFault(); clearFaultEip();
}
/** Back to the state before the last probe (its translated writes were undone already). */
function undoInterpreter(): void {
  undoFrom(interpFrom);
  restoreCpu();
}

/**
 * Run the translated block of entry `slot` (budget `left`) and check it against the interpreter. Returns the instructions
 * retired, as the call would; the state left is the interpreter's (equal to the block's unless reported).
 * A difference after chained blocks is narrowed down: the smallest budget that still differs ends at the first
 * block whose result is wrong.
 */
export function checkedCall(slot: usize, left: u32, host: usize): i32 {
  const at = eip();
  codeHost = <u32>host;
  cpl0 = load<u32>(cpu + CPU_CPL);
  memory.copy(snapBefore, cpu, SNAP_BYTES);
  // 64: room for any one block, and for no second (gotoBlock needs its whole length left over).
  const budget = checkBlocks && left > 64 ? 64 : left;
  const st = probe(slot, budget);
  if (st == PROBE_UNREPEATABLE) { bump64(JIT_CHECK_UNCHECKED); return <i32>probeTotal; }
  bump64(JIT_CHECK_CHECKED);
  if (st == PROBE_SAME) return <i32>probeTotal;
  // Narrowing down repeats the translated code, which cannot repeat its I/O: a call that made some is reported whole.
  if (probeRetired > 64 && heCount() == 0) {
    // Bisect the budget: chaining stops before a block that might not fit, so a budget of b runs the blocks
    // that end within b - 64 and one more.
    let good: u32 = 0, bad = budget;
    while (bad - good > 1) {
      const mid = good + ((bad - good) >> 1);
      undoInterpreter();
      const s = probe(slot, mid);
      if (s == PROBE_UNREPEATABLE) return <i32>probeTotal; // (cannot happen: a prefix of a repeatable run)
      if (s == PROBE_DIFFERS) bad = mid; else good = mid;
    }
    // The first finding stands if the difference does not come back (it depended on more than the budget).
    const w = dWhat, j = dJit, i = dInterp, a = dAddr, st0 = dStep, r0 = probeRetired;
    undoInterpreter();
    if (probe(slot, bad) != PROBE_DIFFERS) { differ(w, j, i, a, st0); probeRetired = r0; }
  }
  report(at, probeRetired);
  return <i32>probeTotal;
}

function compare(r: u32, jFlags: u32, jitN: u32): u32 {
  for (let n: u32 = 0; n < 8; n++) {
    const a = load<u32>(snapJit + CPU_GPR + (n << 3)), b = load<u32>(cpu + CPU_GPR + (n << 3));
    if (a != b) return differ(n, a, b, 0, r);
  }
  let a = load<u32>(snapJit + CPU_RIP), b = load<u32>(cpu + CPU_RIP);
  if (a != b) return differ(W_EIP, a, b, 0, r);
  b = getFlags();
  if (jFlags != b) return differ(W_EFLAGS, jFlags, b, 0, r);
  for (let o = <u32>CPU_SEG; o < <u32>(CPU_SEG + 8 * SEG_SIZE); o += 4) {
    a = load<u32>(snapJit + o); b = load<u32>(cpu + o);
    if (a != b) return differ(W_SEG, a, b, o, r);
  }
  a = load<u32>(snapJit + CPU_CR2); b = load<u32>(cpu + CPU_CR2);
  if (a != b) return differ(W_CR2, a, b, 0, r);
  a = load<u32>(snapJit + CPU_HALTED) | (load<u32>(snapJit + CPU_SHADOW) << 1);
  b = load<u32>(cpu + CPU_HALTED) | (load<u32>(cpu + CPU_SHADOW) << 1);
  if (a != b) return differ(W_HALT, a, b, 0, r);
  for (let o = <u32>CPU_FPU; o < SNAP_BYTES; o += 4) {
    a = load<u32>(snapJit + o); b = load<u32>(cpu + o);
    if (a != b) return differ(W_FPU, a, b, o, r);
  }
  // Every byte the block wrote holds what it left there ...
  for (let i: u32 = 0; i < jitN; i++) {
    const h = <usize>unchecked(jAddr[i]), size = <u32>unchecked(jSize[i]);
    if ((size & JOURNAL_STATE) != 0) continue;
    a = unchecked(jNew[i]); b = loadSz(h, size);
    if (a != b) return differ(W_MEM, a, b, <u32>h, r);
  }
  // ... and every place the interpreter wrote holds what the block left there: keep the interpreter's values,
  // rebuild the block's memory (undo the interpreter's writes, redo the block's) and compare, then go back.
  // (Not when the interpreter's writes overflowed the journal: those not journaled could not be put back.)
  if (journalOverflowed()) return PROBE_SAME;
  const jn = journalCount();
  for (let i = jitN; i < jn; i++) unchecked(interpFinal[i] = loadSz(<usize>unchecked(jAddr[i]), <u32>unchecked(jSize[i]) & 7));
  undoFrom(jitN);
  for (let i: u32 = 0; i < jitN; i++) {
    const size = <u32>unchecked(jSize[i]);
    if ((size & JOURNAL_STATE) == 0) storeSz(<usize>unchecked(jAddr[i]), size & 7, unchecked(jNew[i]));
  }
  let found = PROBE_SAME;
  for (let i = jitN; i < jn && found == PROBE_SAME; i++) {
    const h = <usize>unchecked(jAddr[i]), size = <u32>unchecked(jSize[i]);
    if ((size & JOURNAL_STATE) != 0) continue;
    a = loadSz(h, size); b = unchecked(interpFinal[i]);
    if (a != b) found = differ(W_MEM, a, b, <u32>h, r);
  }
  for (let i = <i32>jitN - 1; i >= 0; i--) {
    const size = <u32>unchecked(jSize[i]);
    if ((size & JOURNAL_STATE) == 0) storeSz(<usize>unchecked(jAddr[i]), size & 7, unchecked(jOld[i]));
  }
  for (let i = jitN; i < jn; i++) storeSz(<usize>unchecked(jAddr[i]), <u32>unchecked(jSize[i]) & 7, unchecked(interpFinal[i]));
  return found;
}
