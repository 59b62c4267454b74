// Guest RAM of any size up to 3.5 GiB: the largest machine maps RAM up to the PCI hole and the CPU reaches
// its last byte.
import { describe, it, expect } from 'vitest';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { MAX_RAM } from '../../src/pc/pc';

describe('guest RAM size', () => {
  it('allows 3.5 GiB, reaching the last byte below the PCI hole from the CPU', () => {
    expect(MAX_RAM).toBe(3.5 * 2 ** 30);
    const h = new CpuHarness(loadCoreModule(), MAX_RAM);
    h.setFlat32();
    const last = MAX_RAM - 4;
    // mov eax, [last] ; mov [last - 4], eax
    const a = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
    h.writeMem(0x1000, [0xa1, ...a(last), 0xa3, ...a(last - 4)]);
    h.writeMem(last, [0x78, 0x56, 0x34, 0x12]);
    h.setReg('eip', 0x1000);
    h.step(2);
    expect(h.getReg('eax')).toBe(0x12345678);
    expect(Array.from(h.readMem(last - 4, 4))).toEqual([0x78, 0x56, 0x34, 0x12]);
  });

  it('refuses more RAM than fits below 4 GiB with a clear error', () => {
    expect(() => new CpuHarness(loadCoreModule(), 4 * 2 ** 30)).toThrow(/exceeds the 3.5 GiB/);
  });
});
