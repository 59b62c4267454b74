// The seam between the core and the host: every import the core makes and every export it offers.
// Imports are synchronous calls into TypeScript for port I/O, MMIO, interrupt acknowledge and time.
// Exports: run() and reset() per vCPU, TLB and fetch-cache invalidation when the host changes what the core
// caches (physical map, A20), and the addresses the host needs to reach shared state.
import { CPU_BASE, CPU_STRIDE, CPU_A20, CPU_CR0, CPU_CR4, CPU_FLAGS, CPU_LF_MASK, CPU_GDTR_LIMIT, CPU_IDTR_LIMIT, CPU_DR, CPU_MSR, CPU_RIP, CPU_GPR } from "../layout/memory";
import { cpu, selectCpu, setSegCache, updateMode, setCpl, ATTR_REAL_DATA, EDX } from "./state";
import { selectTlb } from "../mmu/tlb";
import { fpuReset } from "./x87/ops";
import { flushDecodeCache, invalidateCodePage } from "./dcache";
import { debugRegistersChanged } from "./debug";
import { pageHasCode } from "../mmu/phys";
import { loadPdptes } from "../mmu/paging";
import { run as coreRun, flushTlb, setHalted } from "./exec";
import { clearFault } from "./exceptions";
import { setAccessUser } from "./mem";
import { getFlags, setFlags } from "./flags";
import { cpuSignature, FEATURES_EDX, MSR_SLOT_CPUID_MASK, FEATURES_EXT_EDX, MSR_SLOT_CPUID_EXT_MASK } from "./cpuid";

@external("host", "ioRead") declare function rawIoRead(port: u32, size: u32): u32;
@external("host", "ioWrite") declare function rawIoWrite(port: u32, size: u32, value: u32): void;
@external("host", "mmioRead") declare function rawMmioRead(addr: u32, size: u32): u32;
@external("host", "mmioWrite") declare function rawMmioWrite(addr: u32, size: u32, value: u32): void;
/** INTA: the vector of the highest-priority pending interrupt, or -1 if none is pending any more. */
@external("host", "intrAck") export declare function hostIntrAck(): i32;
@external("host", "nowNs") declare function rawNowNs(): f64;
// Calls with effects outside the CPU and RAM go through JIT check mode's log (src/wasm/journal.ts): recorded
// while translated code runs, answered from the log while the interpreter repeats it.
export function hostIoRead(port: u32, size: u32): u32 {
  return heMode == HE_OFF ? rawIoRead(port, size) : loggedRead(HE_IOR, port, size);
}
export function hostIoWrite(port: u32, size: u32, value: u32): void {
  if (heMode == HE_OFF) rawIoWrite(port, size, value); else loggedWrite(HE_IOW, port, size, value);
}
export function hostMmioRead(addr: u32, size: u32): u32 {
  return heMode == HE_OFF ? rawMmioRead(addr, size) : loggedRead(HE_MMIOR, addr, size);
}
export function hostMmioWrite(addr: u32, size: u32, value: u32): void {
  if (heMode == HE_OFF) rawMmioWrite(addr, size, value); else loggedWrite(HE_MMIOW, addr, size, value);
}
function loggedRead(kind: u8, addr: u32, size: u32): u32 {
  if (heMode == HE_REPLAY) return <u32>heNext(kind, addr, size, 0);
  const v = kind == HE_IOR ? rawIoRead(addr, size) : rawMmioRead(addr, size);
  heLog(kind, addr, size, <f64>v);
  return v;
}
function loggedWrite(kind: u8, addr: u32, size: u32, value: u32): void {
  if (heMode == HE_REPLAY) { heNext(kind, addr, size, <f64>value); return; }
  if (kind == HE_IOW) rawIoWrite(addr, size, value); else rawMmioWrite(addr, size, value);
  heLog(kind, addr, size, <f64>value);
}
/** Monotonic host time in nanoseconds (f64: exact to 2^53 ns, about 104 days). */
export function hostNowNs(): f64 {
  if (heMode == HE_OFF) return rawNowNs();
  if (heMode == HE_REPLAY) return heNext(HE_NOW, 0, 0, 0);
  const v = rawNowNs();
  heLog(HE_NOW, 0, 0, v);
  return v;
}

/** Make vCPU `id` the one that run() executes. */
export function useCpu(id: u32): void {
  const base = CPU_BASE + id * CPU_STRIDE;
  selectCpu(base);
  selectTlb(base);
}

/** Power-on / RESET state (SDM 9.1.1, Table 9-1). */
export function reset(): void {
  // The CPUID masks belong to the host (what the machine presents); they survive a reset.
  const mask = load<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_MASK * 8);
  const extMask = load<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_EXT_MASK * 8);
  const fresh = mask == 0 && extMask == 0;
  memory.fill(cpu, 0, CPU_STRIDE);
  clearFault();
  setHalted(false);
  store<u32>(cpu + CPU_FLAGS, 0x2);
  store<u32>(cpu + CPU_LF_MASK, 0);
  store<u32>(cpu + CPU_CR0, 0x6000_0010); // CD NW ET
  store<u32>(cpu + CPU_A20, 1);
  store<u64>(cpu + CPU_GPR + (EDX << 3), <u64>cpuSignature());
  store<u64>(cpu + CPU_RIP, 0xfff0);
  // SDM Table 9-1: CS F000 with base FFFF0000; every segment present, read/write, accessed, 64 KiB.
  setSegCache(1, 0xf000, 0xffff_0000, 0xffff, ATTR_REAL_DATA);
  for (let s: u32 = 0; s < 6; s++) if (s != 1) setSegCache(s, 0, 0, 0xffff, ATTR_REAL_DATA);
  setSegCache(6, 0, 0, 0xffff, 0x82); // LDTR: present LDT type
  setSegCache(7, 0, 0, 0xffff, 0x8b); // TR: present busy 32-bit TSS type
  store<u32>(cpu + CPU_GDTR_LIMIT, 0xffff);
  store<u32>(cpu + CPU_IDTR_LIMIT, 0xffff);
  store<u64>(cpu + CPU_DR + 6 * 8, 0xffff_0ff0);
  store<u64>(cpu + CPU_DR + 7 * 8, 0x400);
  store<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_MASK * 8, fresh ? <u64>FEATURES_EDX : mask);
  store<u64>(cpu + CPU_MSR + MSR_SLOT_CPUID_EXT_MASK * 8, fresh ? <u64>FEATURES_EXT_EDX : extMask);
  fpuReset();
  debugRegistersChanged();
  setCpl(0);
  setAccessUser(false);
  updateMode();
  flushTlb(false);
}

/** Execute up to `budget` instructions on the current vCPU; returns an EXIT_* reason. */
export function run(budget: u32): u32 { return coreRun(budget); }

/** The host changed the physical map or the A20 gate: drop every cached translation. */
export function invalidateTranslations(): void { flushTlb(false); leaveTranslatedCode(); }

/** The host (a device's DMA, a loader) wrote guest RAM [phys, phys + length): drop code cached from it. */
export function codeWritten(phys: u32, length: u32): void {
  if (length == 0) return;
  const last = phys + length - 1;
  for (let p = phys & 0xffff_f000; ; p += 4096) {
    if (pageHasCode(p)) invalidateCodePage(p);
    if (p >= (last & 0xffff_f000)) break;
  }
}

/** Drop the whole decoded-instruction cache (the host rewrote RAM wholesale: reset, firmware load). */
export function flushCode(): void { flushDecodeCache(); }

/** Recompute derived state after the host wrote registers directly (test harness, snapshots). */
export function stateChanged(): void {
  updateMode();
  debugRegistersChanged();
  // The host may have enabled PAE paging directly: load the PDPTEs as MOV CR3 would.
  if ((load<u32>(cpu + CPU_CR0) & 0x8000_0000) != 0 && (load<u32>(cpu + CPU_CR4) & (1 << 5)) != 0) {
    loadPdptes();
    clearFault();
  }
  setAccessUser(load<u32>(cpu + 0x0b0) == 3);
  flushTlb(false);
}

/** EFLAGS of the current vCPU, with the lazily held arithmetic flags computed. */
export function readEflags(): u32 { return getFlags(); }

/** Replace EFLAGS (bit 1 always reads as 1) and recompute the mode it implies. */
export function writeEflags(v: u32): void {
  setFlags(v | 2, 0xffff_ffff);
  stateChanged();
}

/** Load segment register `s` (ES CS SS DS FS GS LDTR TR) from raw cache parts. */
export function writeSegment(s: u32, selector: u32, base: u32, limit: u32, attr: u32): void {
  setSegCache(s, selector, base, limit, attr);
  stateChanged();
}

// ---- the JIT (src/wasm): the host compiles what the translator wrote to JIT_OUT and installs it ----
export { jitStep } from "./exec";
export { read8, read16, read32, write8, write16, write32 } from "./mem";
export { faulted } from "./exceptions";
export { codeDirty } from "../wasm/cache";
import { condition } from "./flags";
/** The destination of a read-modify-write for translated code: as readEForWrite() (write checks first). */
export { readForWrite as jitRmwRead } from "./operand";
/** A condition code (0..15) from the flags, for translated code. */
export function jitCond(cc: u32): u32 { return condition(cc) ? 1 : 0; }
export { jitInstall, jitFlushAll, jitDropCold, jitSlotReferenced, jitNewPeriod, jitHotModule, setJitHotInsns, setJitThreshold } from "../wasm/cache";
export { outLength as jitOutLength } from "../wasm/encoder";
import { setJitEnabled, leaveTranslatedCode } from "../wasm/cache";
import { setJitCheck, jitJournal, heMode, heLog, heNext, HE_OFF, HE_REPLAY, HE_IOR, HE_IOW, HE_MMIOR, HE_MMIOW, HE_NOW } from "../wasm/journal";
/** Turn translated code on or off (--no-jit). Off drops nothing; on starts counting hotness. */
export function jitEnable(on: bool): void { setJitEnabled(on); }
/** JIT check mode: 0 off, 1 every call into translated code, 2 the same with one block per call. */
export function jitCheckEnable(level: u32): void { setJitCheck(level); }
export { jitJournal };
export { jitCheckInject } from "../wasm/check";
