import { describe, expect, it } from 'vitest';
import { byteSum } from '../../bios/acpi/checksum';
import { E820Type, FirmwareConfigError, NotBzImageError, buildFirmware, type FirmwareOptions } from '../../bios/index';
import { ZERO_PAGE } from '../../bios/layout';
import { fakeBzImage } from './fixtures';

const MIB = 1 << 20;

function options(extra: Partial<FirmwareOptions> = {}): FirmwareOptions {
  return {
    ram: new Uint8Array(128 * MIB), ramBytes: 128 * MIB, ncpus: 2, kernel: fakeBzImage(), cmdline: 'console=ttyS0',
    ecamBase: 0xb000_0000, pciMmioBase: 0xc000_0000, pciMmioSize: 0x3ec0_0000, ...extra,
  };
}

/** Linux's search for the RSDP (drivers/acpi/acpica/tbxfroot.c): 16-byte steps over 0xE0000-0xFFFFF. */
function scanForRsdp(ram: Uint8Array): number | undefined {
  for (let at = 0xe_0000; at < 0x10_0000; at += 16) {
    if (String.fromCharCode(...ram.subarray(at, at + 8)) === 'RSD PTR ' && byteSum(ram, at, at + 20) === 0 && byteSum(ram, at, at + 36) === 0) return at;
  }
  return undefined;
}

describe('buildFirmware', () => {
  it('writes the map, the ACPI tables and a bzImage, and returns the entry state', () => {
    const o = options({ initrd: new Uint8Array(3 * MIB), hpet: true });
    const fw = buildFirmware(o);
    expect(fw.boot.kind).toBe('bzimage');
    expect(fw.entry.esi).toBe(ZERO_PAGE);
    expect(scanForRsdp(o.ram)).toBe(fw.rsdp);
    const acpi = fw.e820.find((e) => e.type === E820Type.Acpi)!;
    expect(acpi).toEqual({ base: fw.acpiRange.base, length: fw.acpiRange.length, type: E820Type.Acpi });
    for (const at of Object.values(fw.acpiTables)) expect(at >= acpi.base && at < acpi.base + acpi.length).toBe(true);
    expect(fw.acpiTables.HPET).toBeDefined();
    expect(fw.e820).toContainEqual({ base: 0xb000_0000, length: 256 * MIB, type: E820Type.Reserved });
    const load = fw.boot.kind === 'bzimage' ? fw.boot.load : undefined;
    expect(load!.initrd!.base + load!.initrd!.size).toBeLessThanOrEqual(acpi.base);
    // The BIOS data area agrees with the map: EBDA segment 0x9FC0, 639 KiB of base memory, COM1 at 0x3F8.
    const v = new DataView(o.ram.buffer);
    expect([v.getUint16(0x40e, true), v.getUint16(0x413, true), v.getUint16(0x400, true)]).toEqual([0x9fc0, 639, 0x3f8]);
  });

  it('boots a multiboot kernel when the file is not a bzImage', () => {
    const kernel = new Uint8Array(0x2000);
    const v = new DataView(kernel.buffer);
    v.setUint32(0, 0x1bad_b002, true);
    v.setUint32(4, 0x1_0000, true);
    v.setUint32(8, (-(0x1bad_b002 + 0x1_0000)) >>> 0, true);
    v.setUint32(12, 0x10_0000, true);
    v.setUint32(16, 0x10_0000, true);
    v.setUint32(28, 0x10_0020, true);
    const fw = buildFirmware(options({ kernel }));
    expect(fw.boot.kind).toBe('multiboot');
    expect(fw.entry.eax).toBe(0x2bad_b002);
    expect(fw.entry.eip).toBe(0x10_0020);
  });

  it('says what a kernel file is not', () => {
    expect(() => buildFirmware(options({ kernel: new Uint8Array(65536) }))).toThrow(NotBzImageError);
    expect(() => buildFirmware(options({ kernel: new Uint8Array(65536) }))).toThrow(/neither a Linux bzImage .* nor a Multiboot kernel/);
  });

  it('refuses windows that overlap each other or the APICs, and a RAM array smaller than RAM', () => {
    expect(() => buildFirmware(options({ pciMmioBase: 0xb800_0000 }))).toThrow(/ECAM window 0xb0000000 overlaps the PCI MMIO window/);
    expect(() => buildFirmware(options({ pciMmioSize: 0x4000_0000 }))).toThrow(/covers the I\/O APIC/);
    expect(() => buildFirmware(options({ ecamBase: 0xb000_1000 }))).toThrow(FirmwareConfigError);
    expect(() => buildFirmware(options({ ram: new Uint8Array(64 * MIB) }))).toThrow(/RAM array holds/);
  });

  it('moves RAM past the PCI hole above 4 GiB without touching it', () => {
    const ram = new Uint8Array(128 * MIB);
    const fw = buildFirmware(options({ ram, ramBytes: 256 * MIB, ecamBase: 0x0800_0000, ecamEndBus: 0, pciMmioBase: 0x0900_0000, pciMmioSize: 0x100_0000 }));
    expect(fw.e820.at(-1)).toEqual({ base: 0x1_0000_0000, length: 128 * MIB, type: E820Type.Ram });
    expect(fw.acpiRange.base + fw.acpiRange.length).toBe(0x0800_0000);
  });
});
