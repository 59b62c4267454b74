/**
 * The x87 state of a harness's vCPU, read and written through its CPU block (src/layout/memory.ts,
 * CPU_FPU_*), in the FSAVE-like shape of the host-diff vectors: st[i] is ST(i) as 20 hex digits
 * (sign+exponent, then the 64-bit significand), tw the full tag word in physical-register order.
 */
import * as L from '../../src/layout/memory';
import type { CpuHarness } from '../../src/machine/harness';
import type { FpuState } from './vectors';

/** Everything the core keeps about the FPU. */
export interface FpuRegisters extends FpuState {
  fip: number;
  fcs: number;
  fdp: number;
  fds: number;
  fop: number;
  /** FERR# output: 1 while asserted. */
  ferr: number;
  /** IGNNE# input as the host drives it. */
  ignne: number;
}

const TOP_SHIFT = 11;
const regAt = (p: number) => L.CPU_FPU_ST + (p & 7) * L.CPU_FPU_REG_SIZE;

/** ST(i) values as in the vectors: 4 hex digits of sign:exponent, then 16 of significand. */
export function readFpu(h: CpuHarness): FpuRegisters {
  const v = h.core.cpuView();
  const sw = v.getUint32(L.CPU_FPU_SW, true);
  const top = (sw >> TOP_SHIFT) & 7;
  const st: string[] = [];
  for (let i = 0; i < 8; i++) {
    const at = regAt(top + i);
    const se = v.getUint16(at + 8, true);
    const sig = v.getBigUint64(at, true);
    st.push(se.toString(16).padStart(4, '0') + sig.toString(16).padStart(16, '0'));
  }
  return {
    cw: v.getUint32(L.CPU_FPU_CW, true),
    sw,
    tw: v.getUint32(L.CPU_FPU_TW, true),
    st,
    fip: v.getUint32(L.CPU_FPU_FIP, true),
    fcs: v.getUint32(L.CPU_FPU_FCS, true),
    fdp: v.getUint32(L.CPU_FPU_FDP, true),
    fds: v.getUint32(L.CPU_FPU_FDS, true),
    fop: v.getUint32(L.CPU_FPU_FOP, true),
    ferr: v.getUint32(L.CPU_FPU_FERR, true),
    ignne: v.getUint32(L.CPU_FPU_IGNNE, true),
  };
}

/** Load control, status and tag words and ST(0)..ST(7) as an FRSTOR would; pointers and FERR# are cleared. */
export function writeFpu(h: CpuHarness, f: FpuState): void {
  const v = h.core.cpuView();
  v.setUint32(L.CPU_FPU_CW, f.cw, true);
  v.setUint32(L.CPU_FPU_SW, f.sw, true);
  v.setUint32(L.CPU_FPU_TW, f.tw, true);
  const top = (f.sw >> TOP_SHIFT) & 7;
  for (let i = 0; i < 8; i++) {
    const hex = f.st[i] ?? '0'.repeat(20);
    const at = regAt(top + i);
    v.setBigUint64(at, BigInt('0x' + hex.slice(4)), true);
    v.setUint16(at + 8, parseInt(hex.slice(0, 4), 16), true);
  }
  for (const off of [L.CPU_FPU_FIP, L.CPU_FPU_FCS, L.CPU_FPU_FDP, L.CPU_FPU_FDS, L.CPU_FPU_FOP, L.CPU_FPU_FERR, L.CPU_FPU_IGNNE]) {
    v.setUint32(off, 0, true);
  }
}

/** Drive the IGNNE# input (as a chipset does on a write to port F0h while FERR# is asserted). */
export function setIgnne(h: CpuHarness, on: boolean): void {
  h.core.cpuView().setUint32(L.CPU_FPU_IGNNE, on ? 1 : 0, true);
}
