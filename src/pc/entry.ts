// Loading the firmware's entry state (bios/cpu-state.ts) into the core's CPU block.
import * as L from '../layout/memory';
import type { Core } from '../machine/core';
import type { EntryState } from '../../bios';

const SEG_ORDER = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
const GPR_ORDER = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

export function applyEntryState(core: Core, e: EntryState): void {
  const v = core.cpuView();
  GPR_ORDER.forEach((r, i) => v.setBigUint64(L.CPU_GPR + i * 8, BigInt(e[r] >>> 0), true));
  v.setBigUint64(L.CPU_RIP, BigInt(e.eip >>> 0), true);
  v.setUint32(L.CPU_CR0, e.cr0 >>> 0, true);
  v.setBigUint64(L.CPU_GDTR_BASE, BigInt(e.gdtr.base >>> 0), true);
  v.setUint32(L.CPU_GDTR_LIMIT, e.gdtr.limit, true);
  v.setBigUint64(L.CPU_IDTR_BASE, BigInt(e.idtr.base >>> 0), true);
  v.setUint32(L.CPU_IDTR_LIMIT, e.idtr.limit, true);
  v.setUint32(L.CPU_CPL, 0, true);
  SEG_ORDER.forEach((name, i) => {
    const s = e.segments[name];
    core.writeSegment(i, s.selector, s.base, s.limit, s.attr);
  });
  core.writeEflags(e.eflags);
  core.stateChanged();
}
