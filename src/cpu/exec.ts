// The execution loop: fetch-decode-execute one instruction at a time, deliver exceptions (with #DF and triple
// fault), take external interrupts at instruction boundaries, and return to the host with a reason.
import {
  CPU_HALTED, CPU_SHADOW, CPU_INTR, CPU_NMI, CPU_STOP, CPU_INSN_COUNT, CPU_EXIT_REASON, CPU_EXIT_INFO,
  EXIT_BUDGET, EXIT_HLT, EXIT_STOP, EXIT_RESET, EXIT_SHUTDOWN,
} from "../layout/memory";
import { cpu, eip, setEip } from "./state";
import { decode, dOp, dRaisesUD, nextEip, invalidateFetch, useRecord, rec } from "./decode";
import { faulted, excVector, excError, excHasError, clearFault, raiseUD, EXC_DF, EXC_PF, EXC_DB, faultEipOverride, faultEip, clearFaultEip } from "./exceptions";
import { opInfo, INFO_IMPL } from "./optable-info";
import { dispatch } from "./optable";
import { deliverInterrupt, handlerEip, setFaultRf } from "./interrupt";
import { sysFlag, IF, TF } from "./flags";
import { logUnimplemented } from "./udlog";
import { hostIntrAck } from "./seam";
import { tlbFlush } from "../mmu/tlb";
import { debugActive, instructionHits, pendingDataHits, clearPendingData, reportDr6, DR6_BS } from "./debug";
import { segBase } from "./state";
import { setFlags, RF } from "./flags";
import { raiseNoErr } from "./exceptions";
import { CPU_MODE, CPU_FLAGS, EXIT_COMPILE, JIT_STATS, JIT_STAT_INSNS, JIT_STAT_ENTRIES } from "../layout/memory";
import { R_LEN } from "./dcache";
import { segLimit, mode } from "./state";
import { accUser } from "./mem";
import { tlbLookup, TLB_X, TLB_UR } from "../mmu/tlb";
import { callBlock, markUsed, ecFind, ecFill, jitEnabled, jitThreshold, jitFind, jitClaim, codeDirty, clearCodeDirty, M_META, M_FN, M_HITS, META_NO_JIT } from "../wasm/cache";
import { translateHot, MAX_BLOCK_INSNS } from "../wasm/translate";
import { KEY_USER, KEY_MODE_MASK } from "../wasm/emit-core";
import { checkedCall } from "../wasm/check";
import { checkMode } from "../wasm/journal";

/** Set by instructions and devices to end run() after the current instruction (EXIT_* value + 1; 0: none). */
let pendingExit: u32 = 0;
export function requestExit(reason: u32): void { if (pendingExit == 0) pendingExit = reason + 1; }

export function setHalted(h: bool): void { store<u32>(cpu + CPU_HALTED, h ? 1 : 0); }

/** Flush the TLB and the fetch cache (CR3/CR0/CR4 writes, A20, physical map changes). */
export function flushTlb(keepGlobal: bool): void {
  tlbFlush(keepGlobal);
  invalidateFetch();
}

@inline function isContributory(v: u32): bool { return v == 0 || (v >= 10 && v <= 13); }

/**
 * Deliver the pending fault whose instruction started at `at`, escalating to #DF when a second fault occurs
 * during delivery (SDM 6.15, Table 6-5), and to a triple fault (shutdown → reset) after #DF fails.
 */
function deliverFault(instrStart: u32): void {
  faultsDelivered++;
  const at = faultEipOverride ? faultEip : instrStart;
  clearFaultEip();
  let v = excVector, e = excError, he = excHasError;
  // The EFLAGS image of a fault has RF set, so that restarting the instruction does not hit its instruction
  // breakpoint again; an instruction-breakpoint #DB leaves it to the handler (SDM 17.3.1.1).
  setFaultRf(!(v == EXC_DB && debugActive));
  for (let round = 0; round < 3; round++) {
    clearFault();
    deliverInterrupt(v, at, false, he, e);
    if (!faulted) { setFaultRf(false); setEip(handlerEip); return; }
    const v2 = excVector;
    if (v == EXC_DF) break; // a fault while delivering #DF: triple fault
    if ((isContributory(v) && isContributory(v2)) || (v == EXC_PF && (isContributory(v2) || v2 == EXC_PF))) {
      v = EXC_DF; e = 0; he = true;
    } else {
      v = v2; e = excError; he = excHasError;
    }
  }
  setFaultRf(false);
  clearFault();
  requestExit(EXIT_RESET);
  store<u32>(cpu + CPU_EXIT_INFO, v);
}

/** Faults delivered since start (check mode tells from it whether an instruction faulted). */
export let faultsDelivered: u32 = 0;

/** One interpreted instruction, for check mode (src/wasm/check.ts). */
export function checkStep(): void { step(); }
/** Deliver the fault translated code raised at `at`, as run() does (check mode). */
export function checkDeliver(at: u32): void { deliverFault(at); }

/** Execute one instruction (or deliver the fault it raised). */
@inline function step(): void {
  const at = eip();
  const tfBefore = sysFlag(TF);
  if (debugActive) {
    // Instruction breakpoints fault before the instruction unless EFLAGS.RF is set (SDM 17.3.1.1).
    clearPendingData();
    if (!sysFlag(RF)) {
      const hits = instructionHits(segBase(1) + at);
      if (hits != 0) { reportDr6(hits); raiseNoErr(EXC_DB); deliverFault(at); return; }
    }
  }
  if (!decode(at)) { deliverFault(at); return; }
  const op = dOp();
  if (dRaisesUD()) {
    // Decided when the instruction was decoded: no handler, or a LOCK prefix the SDM does not allow (#UD unless
    // the instruction is a lockable read-modify-write on memory).
    if ((opInfo(op) & INFO_IMPL) == 0) logUnimplemented(op);
    raiseUD();
  } else {
    dispatch(op);
  }
  if (faulted) { deliverFault(at); return; }
  if (faultEipOverride) clearFaultEip();
  setEip(nextEip);
  // A completed instruction clears RF, except an IRET that loaded it (SDM 17.3.1.1); data breakpoints and
  // single-step then trap (17.3.1.2, 17.3.1.4).
  if (debugActive || tfBefore) {
    if (sysFlag(RF) && dOp() != 0xcf) setFlags(0, RF);
    const hits = debugActive ? pendingDataHits : 0;
    if (hits != 0 || tfBefore) {
      reportDr6(hits | (tfBefore ? DR6_BS : 0));
      const next = eip();
      deliverInterrupt(EXC_DB, next, false, false, 0);
      if (faulted) deliverFault(next); else setEip(handlerEip);
    }
  }
}

/** Take an external interrupt if one is pending and allowed. Returns true if one was delivered. */
function takeInterrupt(): bool {
  if (load<u32>(cpu + CPU_SHADOW) != 0) { store<u32>(cpu + CPU_SHADOW, 0); return false; }
  if (load<u32>(cpu + CPU_INTR) == 0 || !sysFlag(IF)) return false;
  const vector = hostIntrAck();
  if (vector < 0) return false; // the controller withdrew the request (spurious handling is its job)
  setHalted(false);
  const at = eip();
  deliverInterrupt(<u32>vector, at, false, false, 0);
  if (faulted) deliverFault(at); else setEip(handlerEip);
  return true;
}

/**
 * Interpret one instruction for translated code, from record `r` at EIP `at` (CPU_RIP already holds `at`).
 * Returns 0 to go on with the block; 1 if it faulted (EIP stays at `at`, the run loop delivers the fault);
 * 2 if it retired but the block must return: it transferred control, changed the mode, IF or TF, set an
 * interrupt shadow, halted, asked the run loop to exit, raised INTR, or wrote a page holding translated code.
 */
export function jitStep(r: usize, at: u32): u32 {
  useRecord(r, at);
  const modeBefore = load<u32>(cpu + CPU_MODE);
  const flagsBefore = load<u32>(cpu + CPU_FLAGS) & (IF | TF);
  dispatch(load<u16>(r + 4));
  if (faulted) return 1;
  if (faultEipOverride) clearFaultEip();
  setEip(nextEip);
  if (nextEip != at + <u32>load<u8>(r + R_LEN) || pendingExit != 0 || codeDirty
    || load<u32>(cpu + CPU_MODE) != modeBefore || (load<u32>(cpu + CPU_FLAGS) & (IF | TF)) != flagsBefore
    || load<u32>(cpu + CPU_SHADOW) != 0 || load<u32>(cpu + CPU_HALTED) != 0 || load<u32>(cpu + CPU_STOP) != 0
    || (load<u32>(cpu + CPU_INTR) != 0 && sysFlag(IF)) || debugActive) return 2;
  return 0;
}

const BLOCK_NONE: i32 = -1;
const BLOCK_COMPILE: i32 = -2;
/** Nothing can be translated at EIP (its first instruction is not translatable): look again after it. */
const BLOCK_SKIP: i32 = -3;

/**
 * The block at EIP `at` (its length in map-entry META `meta`) lies within CS, whose limit may have shrunk since
 * the block was translated.
 */
@inline function withinCs(at: u32, meta: u32): bool {
  const len = (meta >> 8) & 0x1fff;
  const limit = segLimit(1);
  return at <= limit && len - 1 <= limit - at;
}

/**
 * Run the translated block at EIP if there is one: returns the instructions it retired, BLOCK_NONE (interpret
 * instead), or BLOCK_COMPILE (the block just became hot and was translated: the host compiles it).
 */
function blockCall(left: u32): i32 {
  if (debugActive || sysFlag(TF)) return BLOCK_NONE;
  const at = eip();
  const h = tlbLookup(segBase(1) + at, accUser ? TLB_UR | TLB_X : TLB_X);
  if (h == 0) return BLOCK_NONE;
  const key = (mode() & KEY_MODE_MASK) | (accUser ? KEY_USER : 0);
  if (!checkMode) {
    const c = ecFind(h, key);
    if (c != 0) {
      const m = load<u32>(c + M_META);
      if (!withinCs(at, m)) return BLOCK_NONE;
      markUsed(c, m);
      return <i32>callBlock(c, cpu, left);
    }
  }
  let slot = jitFind(h, key);
  if (slot == 0) slot = jitClaim(h, key); // first execution seen (or its entry was evicted or went stale)
  const meta = load<u32>(slot + M_META);
  const fn = load<u32>(slot + M_FN);
  if (fn == 0) {
    if ((meta & META_NO_JIT) != 0) return BLOCK_SKIP;
    const hits = <u32>load<u16>(slot + M_HITS) + 1;
    store<u16>(slot + M_HITS, <u16>(hits < 0xffff ? hits : 0xffff));
    if (hits < jitThreshold) return BLOCK_NONE;
    if (translateHot(at, h, slot, key)) return BLOCK_COMPILE;
    return (load<u32>(slot + M_META) & META_NO_JIT) != 0 ? BLOCK_SKIP : BLOCK_NONE;
  }
  if (!withinCs(at, meta)) return BLOCK_NONE;
  markUsed(slot, meta);
  if (checkMode) return checkedCall(slot, left, h);
  ecFill(slot);
  return <i32>callBlock(slot, cpu, left);
}

/** Run up to `budget` instructions. Returns an EXIT_* reason; the host reads details from CPU_EXIT_*. */
export function run(budget: u32): u32 {
  pendingExit = 0;
  clearCodeDirty();
  let n: u32 = 0;
  // CPU_INSN_COUNT is kept current as instructions retire (not only at the end): with icount it is the clock.
  const count0 = load<u64>(cpu + CPU_INSN_COUNT);
  let reason: u32 = EXIT_BUDGET;
  // Translated blocks are looked up where control arrives: at entry, after a jump, an interrupt or a block.
  let lookup = true;
  let retry = false;
  let jitN: u32 = 0; // retired inside translated code
  let entries: u32 = 0; // calls into translated code
  while (n < budget) {
    if (load<u32>(cpu + CPU_INTR) != 0 || load<u32>(cpu + CPU_SHADOW) != 0) { if (takeInterrupt()) lookup = true; }
    if (load<u32>(cpu + CPU_HALTED) != 0) {
      reason = sysFlag(IF) || load<u32>(cpu + CPU_NMI) != 0 ? EXIT_HLT : EXIT_SHUTDOWN;
      break;
    }
    if (lookup && jitEnabled && budget - n >= MAX_BLOCK_INSNS) {
      const r = blockCall(budget - n);
      if (r >= 0) {
        n += <u32>r;
        store<u64>(cpu + CPU_INSN_COUNT, count0 + <u64>n);
        jitN += <u32>r;
        entries++;
        clearCodeDirty();
        // The interpreter counts an instruction that faulted as a step; so does a block.
        if (faulted) { deliverFault(eip()); n++; store<u64>(cpu + CPU_INSN_COUNT, count0 + <u64>n); }
        if (pendingExit != 0) { reason = pendingExit - 1; break; }
        if (load<u32>(cpu + CPU_STOP) != 0) { reason = EXIT_STOP; break; }
        continue;
      }
      lookup = false;
      if (r == BLOCK_COMPILE) { reason = EXIT_COMPILE; break; }
      if (r == BLOCK_SKIP) retry = true;
    }
    const before = eip();
    step();
    n++;
    store<u64>(cpu + CPU_INSN_COUNT, count0 + <u64>n);
    lookup = retry || eip() - before != <u32>load<u8>(rec + R_LEN);
    retry = false;
    if (pendingExit != 0) { reason = pendingExit - 1; break; }
    if (load<u32>(cpu + CPU_STOP) != 0) { reason = EXIT_STOP; break; }
  }
  store<u64>(cpu + CPU_INSN_COUNT, count0 + <u64>n);
  store<u64>(<usize>JIT_STATS + JIT_STAT_INSNS, load<u64>(<usize>JIT_STATS + JIT_STAT_INSNS) + <u64>jitN);
  store<u64>(<usize>JIT_STATS + JIT_STAT_ENTRIES, load<u64>(<usize>JIT_STATS + JIT_STAT_ENTRIES) + <u64>entries);
  store<u32>(cpu + CPU_EXIT_REASON, reason);
  return reason;
}
