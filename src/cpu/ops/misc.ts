// HLT, NOP and PAUSE, CPUID, RDTSC, INT n / INT3 / INTO / INT1, BOUND, WAIT, and the x87 escapes while the
// FPU is not wired in.
import { CPU_TSC_OFFSET } from "../../layout/memory";
import { dOp, dImm, dMod, dOsz, dSeg, dA32, nextEip, setNextEip } from "../decode";
import { faulted, raise, raiseGP, raiseUD, EXC_BP, EXC_OF, EXC_BR, EXC_DB } from "../exceptions";
import { flag, getFlags, OF, IOPL } from "../flags";
import { cpu, cpl, cr4, EAX, EBX, ECX, EDX, reg32, setReg32 } from "../state";
import { readG, ea } from "../operand";
import { readSz } from "../mem";
import { protMode, vm86 } from "../segments";
import { deliverInterrupt, handlerEip } from "../interrupt";
import { setHalted } from "../exec";
import { hostNowNs } from "../seam";
import { cpuidLeaf, cpuidA, cpuidB, cpuidC, cpuidD } from "../cpuid";

/** F4 HLT: privileged in protected and virtual-8086 mode (SDM HLT). */
export function opHlt(): void {
  if ((protMode() && cpl() != 0) || vm86()) { raiseGP(0); return; }
  setHalted(true);
}

/** 90 NOP (also F3 90 PAUSE); 0F 1F /0 NOP Ev and the hint-NOP space 0F 19-1F: decoded, no effect. */
export function opNop(): void {}

/** 0F A2 CPUID. */
export function opCpuid(): void {
  cpuidLeaf(reg32(EAX));
  setReg32(EAX, cpuidA);
  setReg32(EBX, cpuidB);
  setReg32(ECX, cpuidC);
  setReg32(EDX, cpuidD);
}

/** The time-stamp counter: nanoseconds of host time (a 1 GHz TSC, as CPUID's brand string says) + offset. */
export function readTsc(): u64 {
  return <u64>hostNowNs() + load<u64>(cpu + CPU_TSC_OFFSET);
}

const CR4_TSD: u32 = 1 << 2;

/** 0F 31 RDTSC: #GP at CPL > 0 when CR4.TSD is set (SDM RDTSC). */
export function opRdtsc(): void {
  if ((cr4() & CR4_TSD) != 0 && (protMode() || vm86()) && cpl() != 0) { raiseGP(0); return; }
  const t = readTsc();
  setReg32(EAX, <u32>t);
  setReg32(EDX, <u32>(t >> 32));
}

/** Software interrupt: deliver with EIP of the next instruction as the return address. */
function softInt(vector: u32): void {
  deliverInterrupt(vector, nextEip, true, false, 0);
  if (faulted) return;
  setNextEip(handlerEip);
}

/** CD INT imm8; CC INT3; CE INTO; F1 INT1 (ICEBP, delivered like a hardware #DB: no DPL check). */
export function opInt(): void {
  // In virtual-8086 mode without VME, INT n/INT3/INTO are IOPL-sensitive (SDM 20.3.3).
  if (vm86() && dOp() != 0xf1 && ((getFlags() & IOPL) >> 12) < 3) { raiseGP(0); return; }
  if (dOp() == 0xcd) softInt(dImm() & 0xff);
  else if (dOp() == 0xcc) softInt(EXC_BP);
  else if (dOp() == 0xce) { if (flag(OF)) softInt(EXC_OF); }
  else {
    deliverInterrupt(EXC_DB, nextEip, false, false, 0);
    if (!faulted) setNextEip(handlerEip);
  }
}

/** 62 BOUND Gv,Ma: #BR when the index is outside [lower, upper] (signed). */
export function opBound(): void {
  if (dMod() == 3) { raiseUD(); return; }
  const off = ea();
  const lo = readSz(dSeg(), off, dOsz());
  if (faulted) return;
  const hi = readSz(dSeg(), (off + dOsz()) & (dA32() ? 0xffff_ffff : 0xffff), dOsz());
  if (faulted) return;
  const i = readG(dOsz());
  const si = dOsz() == 2 ? <i32><i16>i : <i32>i;
  const sl = dOsz() == 2 ? <i32><i16>lo : <i32>lo;
  const sh = dOsz() == 2 ? <i32><i16>hi : <i32>hi;
  if (si < sl || si > sh) raise(EXC_BR, 0, false);
}
