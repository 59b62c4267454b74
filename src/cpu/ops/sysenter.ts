// SYSENTER / SYSEXIT (SDM Vol. 2B): fast transitions to CPL 0 and back with flat segments derived from
// IA32_SYSENTER_CS, and RDPMC.
import { CPU_MSR } from "../../layout/memory";
import { dOp, setNextEip } from "../decode";
import { raiseGP } from "../exceptions";
import { setFlags, VM, IF, RF } from "../flags";
import { cpu, cpl, cr4, setCpl, setSegCache, updateMode, reg32, setReg32, ECX, EDX, ESP } from "../state";
import { setAccessUser } from "../mem";
import { protMode } from "../segments";

// Slots of the SYSENTER MSRs in the CPU_MSR area (see ops/system.ts msrSlot()).
const SLOT_CS: u32 = 2, SLOT_ESP: u32 = 3, SLOT_EIP: u32 = 4;
@inline function msr(slot: u32): u32 { return <u32>load<u64>(cpu + CPU_MSR + (slot << 3)); }

// Flat 4 GiB segments as SYSENTER/SYSEXIT load them: G=1, D/B=1, present, accessed.
const FLAT_CODE: u32 = 0xc09b;
const FLAT_DATA: u32 = 0xc093;

/** 0F 34 SYSENTER, 0F 35 SYSEXIT. */
export function opSysenter(): void {
  const cs = msr(SLOT_CS) & 0xffff;
  if (!protMode() || (cs & 0xfffc) == 0) { raiseGP(0); return; }
  if (dOp() == 0x134) {
    setFlags(0, VM | IF | RF);
    setSegCache(1, cs & 0xfffc, 0, 0xffff_ffff, FLAT_CODE);
    setSegCache(2, (cs & 0xfffc) + 8, 0, 0xffff_ffff, FLAT_DATA);
    setCpl(0);
    setAccessUser(false);
    updateMode();
    setReg32(ESP, msr(SLOT_ESP));
    setNextEip(msr(SLOT_EIP));
    return;
  }
  if (cpl() != 0) { raiseGP(0); return; }
  setSegCache(1, ((cs + 16) & 0xfffc) | 3, 0, 0xffff_ffff, FLAT_CODE | (3 << 5));
  setSegCache(2, ((cs + 24) & 0xfffc) | 3, 0, 0xffff_ffff, FLAT_DATA | (3 << 5));
  setCpl(3);
  setAccessUser(true);
  updateMode();
  setReg32(ESP, reg32(ECX));
  setNextEip(reg32(EDX));
}

const CR4_PCE: u32 = 1 << 8;

/** 0F 33 RDPMC: no performance counters exist, so every counter index is invalid: #GP(0) (SDM RDPMC). */
export function opRdpmc(): void {
  if (protMode() && cpl() != 0 && (cr4() & CR4_PCE) == 0) { raiseGP(0); return; }
  raiseGP(0);
}
