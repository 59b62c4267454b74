// The execution loop: fetch-decode-execute one instruction at a time, deliver exceptions (with #DF and triple
// fault), take external interrupts at instruction boundaries, and return to the host with a reason.
import {
  CPU_HALTED, CPU_SHADOW, CPU_INTR, CPU_NMI, CPU_STOP, CPU_INSN_COUNT, CPU_EXIT_REASON, CPU_EXIT_INFO,
  EXIT_BUDGET, EXIT_HLT, EXIT_STOP, EXIT_RESET, EXIT_SHUTDOWN,
} from "../layout/memory";
import { cpu, eip, setEip } from "./state";
import { decode, dOp, dRaisesUD, nextEip, invalidateFetch } from "./decode";
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

/** Run up to `budget` instructions. Returns an EXIT_* reason; the host reads details from CPU_EXIT_*. */
export function run(budget: u32): u32 {
  pendingExit = 0;
  let n: u32 = 0;
  let reason: u32 = EXIT_BUDGET;
  while (n < budget) {
    if (load<u32>(cpu + CPU_INTR) != 0 || load<u32>(cpu + CPU_SHADOW) != 0) takeInterrupt();
    if (load<u32>(cpu + CPU_HALTED) != 0) {
      reason = sysFlag(IF) || load<u32>(cpu + CPU_NMI) != 0 ? EXIT_HLT : EXIT_SHUTDOWN;
      break;
    }
    step();
    n++;
    if (pendingExit != 0) { reason = pendingExit - 1; break; }
    if (load<u32>(cpu + CPU_STOP) != 0) { reason = EXIT_STOP; break; }
  }
  store<u64>(cpu + CPU_INSN_COUNT, load<u64>(cpu + CPU_INSN_COUNT) + <u64>n);
  store<u32>(cpu + CPU_EXIT_REASON, reason);
  return reason;
}

