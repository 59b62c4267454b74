// Debug registers checked from inside the guest (test/asm/debug.asm), against SDM 17.2-17.3: an instruction
// breakpoint faults before the instruction and RF lets it run once; data breakpoints trap after the access;
// single-step sets DR6.BS; general detect faults with DR6.BD.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';

describe('debug registers, checked from inside the guest', () => {
  it.skipIf(!requireNasm())('raise instruction, data, single-step and general-detect #DB with the DR6 bits and EIPs the SDM gives', () => {
    const src = readFileSync(new URL('../asm/debug.asm', import.meta.url), 'utf8');
    const bin = assemble(src);
    // Label addresses from a listing-free assembly: assemble again with the labels as data at the end.
    const labels = assemble(src + '\ndd target, after_store, after_read, after_nop, gd_mov, counter\n').slice(bin.length);
    const at = (i: number) => new DataView(labels.buffer).getUint32(i * 4, true);
    const [target, afterStore, afterRead, afterNop, gdMov, counter] = [0, 1, 2, 3, 4, 5].map(at);
    const h = new CpuHarness(loadCoreModule());
    h.setRealMode();
    h.writeMem(0x7c00, bin);
    h.setReg('eip', 0x7c00);
    const r = h.step(10_000);
    expect(h.getState().halted, `stopped after ${r.executed}`).toBe(true);
    const w = new DataView(h.readMem(0x9000, 4 + 5 * 12).buffer);
    expect(w.getUint32(0, true)).toBe(5);
    const ev = (i: number) => [w.getUint32(4 + i * 12, true), w.getUint32(8 + i * 12, true), w.getUint32(12 + i * 12, true)];
    expect(ev(0), 'instruction breakpoint: B0, before the instruction, RF clear in the image').toEqual([0xffff0ff1, target!, 0]);
    expect(ev(1), 'write breakpoint: B1, a trap after the store').toEqual([0xffff0ff2, afterStore!, 0]);
    expect(ev(2), 'read/write breakpoint hit by an overlapping read').toEqual([0xffff0ff2, afterRead!, 0]);
    expect(ev(3), 'single step: BS after the instruction that began with TF set').toEqual([0xffff4ff0, afterNop!, 0]);
    expect(ev(4).slice(0, 2), 'general detect: BD, a fault at the MOV from DR0').toEqual([0xffff2ff0, gdMov!]);
    expect(new DataView(h.readMem(counter!, 4).buffer).getUint32(0, true), 'the breakpointed instruction ran once').toBe(1);
  });
});
