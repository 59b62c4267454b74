// Virtual-8086 mode, checked from inside the guest (test/asm/vm86.asm): IOPL-sensitive instructions and the
// TSS I/O bitmap fault to the ring-0 monitor with the VM86 interrupt frame of SDM 20.3.1.1 (Figure 20-5).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';

describe('virtual-8086 mode, checked from inside the guest', () => {
  it.skipIf(!requireNasm())('faults IOPL-sensitive and bitmap-denied instructions to the monitor with a VM86 frame', () => {
    const bin = assemble(readFileSync(new URL('../asm/vm86.asm', import.meta.url), 'utf8'));
    const h = new CpuHarness(loadCoreModule());
    h.setRealMode();
    h.writeMem(0x7c00, bin);
    h.setReg('eip', 0x7c00);
    const outs: number[] = [];
    h.io.write = (port) => { outs.push(port); };
    const r = h.step(100_000);
    const s = h.getState();
    expect(s.halted, `stopped at ${s.eip.toString(16)} after ${r.executed} instructions`).toBe(true);
    const w = new DataView(h.readMem(0x9000, 4 + 4 * 24).buffer);
    expect(w.getUint32(0, true)).toBe(4);
    const events = [0, 1, 2, 3].map((i) => [0, 4, 8, 12, 16, 20].map((o) => w.getUint32(4 + i * 24 + o, true)));
    // [error, IP, CS, EFLAGS, DS pushed, DS on entry]. The EFLAGS image of a fault has VM and also RF
    // (SDM 17.3.1.1: RF is pushed as 1 for every fault-class exception but an instruction breakpoint).
    const flags = 0x20002 | 0x10000;
    expect(events).toEqual([
      [0, 3, 0x800, flags, 0x800, 0], // INT 0x21 with IOPL 0
      [0, 7, 0x800, flags, 0x800, 0], // OUT 0x81: the bitmap denies it
      [0, 9, 0x800, flags, 0x800, 0], // CLI with IOPL 0
      [0, 10, 0x800, flags, 0x800, 0], // HLT
    ]);
    expect(outs, 'OUT 0x80 is allowed by the bitmap and reaches the bus').toEqual([0x80]);
  });
});
