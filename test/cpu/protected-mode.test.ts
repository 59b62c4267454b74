// A guest program (test/asm/protected-mode.asm) enters protected mode, provokes faults and records what its
// handlers saw. The expected vectors and error codes are the ones the SDM specifies for each case.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';

const RESULTS = 0x9000;

describe('protected-mode system architecture, checked from inside the guest', () => {
  it.skipIf(!requireNasm())('takes each fault with the vector and error code the SDM specifies', () => {
    const bin = assemble(readFileSync(new URL('../asm/protected-mode.asm', import.meta.url), 'utf8'));
    const h = new CpuHarness(loadCoreModule());
    h.setRealMode();
    h.writeMem(0x7c00, bin);
    h.setReg('eip', 0x7c00);
    const r = h.step(200_000);
    const s = h.getState();
    expect(s.halted, `stopped at ${s.eip.toString(16)} after ${r.executed} instructions`).toBe(true);
    const mem = new DataView(h.readMem(RESULTS, 4 + 13 * 12).buffer);
    const count = mem.getUint32(0, true);
    const events: Array<[number, number, number]> = [];
    for (let i = 0; i < count; i++) {
      const v = mem.getUint32(4 + i * 12, true);
      const e = mem.getUint32(8 + i * 12, true);
      const x = mem.getUint32(12 + i * 12, true);
      // The third word is CR2 for #PF and the caller's SS for INT 0x80; elsewhere it means nothing.
      events.push([v, e, v === 14 || v === 0x80 ? x : 0]);
    }
    expect(events).toEqual([
      [0, 0, 0], // DIV by zero: #DE, no error code
      [13, 0x78, 0], // MOV DS with a selector past the GDT limit: #GP(selector)
      [6, 0, 0], // UD2
      [13, 0, 0], // write through a read-only data segment: #GP(0)
      [14, 0b010, 0x300010], // supervisor write, page not present: #PF W=1 P=0
      [14, 0b011, 0x300010], // supervisor write to a read-only page with CR0.WP: #PF W=1 P=1
      [0x80, 0x1b, 0x23], // INT 0x80 from ring 3 through a DPL3 trap gate: caller CS 0x1B, SS 0x23 on the frame
      [13, 0, 0], // CLI at CPL 3 with IOPL 0
      [13, 0, 0], // IN at CPL 3 with IOPL 0 and no I/O bitmap
      [13, 0x81 * 8 + 2, 0], // INT 0x81 through a DPL0 gate from ring 3: #GP(vector*8+2)
      [13, 0, 0], // HLT at CPL 3
      [14, 0b111, 0x300010], // user write to a read-only user page: #PF U=1 W=1 P=1
      [0x80, 0x1b, 0x23],
    ]);
    expect(s.cpl).toBe(0);
  });
});
