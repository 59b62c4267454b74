import { describe, it, expect } from 'vitest';
import { GuestMemory, DmaError } from '../../src/machine/dma';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';

describe('device access to guest memory', () => {
  const h = new CpuHarness(loadCoreModule(), 1 << 20);
  const mem = new GuestMemory(h.core);

  it('reads and writes ranges inside RAM and shares them with the CPU', () => {
    expect(mem.write(0x1000, new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(Array.from(h.readMem(0x1000, 3))).toEqual([1, 2, 3]);
    expect(Array.from(mem.read(0x1001, 2) as Uint8Array)).toEqual([2, 3]);
  });

  it('refuses ranges that leave RAM, without writing any part of them', () => {
    h.writeMem((1 << 20) - 2, [9, 9]);
    const r = mem.write((1 << 20) - 2, new Uint8Array([1, 2, 3, 4]));
    expect(r).toBeInstanceOf(DmaError);
    expect(Array.from(h.readMem((1 << 20) - 2, 2))).toEqual([9, 9]);
    expect(mem.read(-1, 4)).toBeInstanceOf(DmaError);
    expect(mem.read(0x1000, Number.NaN)).toBeInstanceOf(DmaError);
    expect(mem.view(2 ** 32, 1)).toBeInstanceOf(DmaError);
  });

  it('marks every page a write touches dirty, and clearDirty resets the bitmap', () => {
    mem.clearDirty();
    mem.write(0x2ffe, new Uint8Array(4));
    expect([mem.isDirty(0x2000), mem.isDirty(0x3000), mem.isDirty(0x4000)]).toEqual([true, true, false]);
    mem.clearDirty();
    expect(mem.isDirty(0x2000)).toBe(false);
  });

  it('sees CPU writes in the same bitmap, including the first write after the bitmap was cleared', () => {
    h.setFlat32();
    mem.clearDirty();
    // mov [0x5000], eax ; mov [0x5004], eax: the second write hits a TLB entry that now grants writes
    h.writeMem(0x100, [0xa3, 0x00, 0x50, 0x00, 0x00, 0xa3, 0x04, 0x50, 0x00, 0x00]);
    h.setReg('eip', 0x100);
    h.step(1);
    expect(mem.isDirty(0x5000)).toBe(true);
    mem.clearDirty();
    h.step(1);
    expect(mem.isDirty(0x5000)).toBe(true);
  });
});
