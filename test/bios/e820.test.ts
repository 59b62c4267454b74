import { describe, expect, it } from 'vitest';
import { E820Type, legacyMemorySizes, pcMemoryMap } from '../../bios/e820';
import { FirmwareConfigError } from '../../bios/errors';

const MIB = 1 << 20;
const GIB = 1024 * MIB;

describe('the e820 map of a PC', () => {
  it('has conventional memory, the reserved EBDA and BIOS areas, RAM from 1 MiB and the ACPI tables on top', () => {
    const m = pcMemoryMap({ ramBytes: 256 * MIB, pciHoleStart: 0xb000_0000 });
    expect(m.e820).toEqual([
      { base: 0, length: 0x9_fc00, type: E820Type.Ram },
      { base: 0x9_fc00, length: 0x400, type: E820Type.Reserved },
      { base: 0xf_0000, length: 0x1_0000, type: E820Type.Reserved },
      { base: 0x10_0000, length: 256 * MIB - 0x10_0000 - 0x1_0000, type: E820Type.Ram },
      { base: 256 * MIB - 0x1_0000, length: 0x1_0000, type: E820Type.Acpi },
    ]);
    expect(m.lowRamEnd).toBe(256 * MIB);
    expect(m.highRamBytes).toBe(0);
    expect(legacyMemorySizes(m.e820)).toEqual({ lowerKiB: 639, upperKiB: (256 * MIB - 0x11_0000) / 1024 });
  });

  it('moves RAM beyond the PCI hole above 4 GiB and lists reserved windows in order', () => {
    const m = pcMemoryMap({ ramBytes: 4 * GIB, pciHoleStart: 0xb000_0000, reserved: [{ base: 0xb000_0000, length: 256 * MIB }] });
    expect(m.lowRamEnd).toBe(0xb000_0000);
    expect(m.highRamBytes).toBe(4 * GIB - 0xb000_0000);
    expect(m.e820.slice(-3)).toEqual([
      { base: 0xb000_0000 - 0x1_0000, length: 0x1_0000, type: E820Type.Acpi },
      { base: 0xb000_0000, length: 256 * MIB, type: E820Type.Reserved },
      { base: 4 * GIB, length: 4 * GIB - 0xb000_0000, type: E820Type.Ram },
    ]);
    const bases = m.e820.map((e) => e.base);
    expect([...bases].sort((a, b) => a - b)).toEqual(bases);
  });

  it('refuses too little RAM and reserved ranges over RAM', () => {
    expect(() => pcMemoryMap({ ramBytes: MIB, pciHoleStart: 0xb000_0000 })).toThrow(FirmwareConfigError);
    expect(() => pcMemoryMap({ ramBytes: 256 * MIB, pciHoleStart: 0xb000_0000, reserved: [{ base: 128 * MIB, length: MIB }] })).toThrow(/overlaps RAM/);
  });
});
