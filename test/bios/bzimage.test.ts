import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadBzImage, parseSetupHeader } from '../../bios/bzimage';
import { BOOT_CS, BOOT_DS } from '../../bios/cpu-state';
import { E820Type, pcMemoryMap } from '../../bios/e820';
import { CmdlineTooLongError, DoesNotFitError, FirmwareError, NotBzImageError, ProtocolTooOldError } from '../../bios/errors';
import { BOOT_GDT, CMDLINE, ZERO_PAGE } from '../../bios/layout';
import { itWhen } from '../images/host-tools';
import { fakeBzImage } from './fixtures';

const MIB = 1 << 20;
const KERNEL = 'images/debian-i686/vmlinuz';
const INITRD = 'images/debian-i686/initrd.img';
const MISSING_KERNEL = existsSync(KERNEL) ? null : `${KERNEL} is missing (run npm run images)`;

function machine(ramBytes: number): { ram: Uint8Array; e820: ReturnType<typeof pcMemoryMap>['e820']; acpiBase: number } {
  const map = pcMemoryMap({ ramBytes, pciHoleStart: 0xb000_0000 });
  return { ram: new Uint8Array(ramBytes), e820: map.e820, acpiBase: map.acpiBase };
}

const dv = (ram: Uint8Array): DataView => new DataView(ram.buffer);
const cstring = (ram: Uint8Array, at: number): string => {
  let end = at;
  while (ram[end] !== 0) end++;
  return String.fromCharCode(...ram.subarray(at, end));
};

describe('the Linux boot protocol loader', () => {
  it('reads the setup header, with setup_sects 0 meaning 4', () => {
    const h = parseSetupHeader(fakeBzImage({ setupSects: 0 }));
    expect(h.setupSects).toBe(4);
    expect(h.version).toBe(0x020f);
    expect(h.headerEnd).toBe(0x26c);
    expect(h.relocatable).toBe(true);
  });

  it('loads a relocatable kernel at pref_address when it fits, else at 1 MiB', () => {
    const big = machine(64 * MIB);
    expect(loadBzImage({ kernel: fakeBzImage(), cmdline: '', ...big }).loadAddress).toBe(0x100_0000);
    const fixed = machine(64 * MIB);
    const r = loadBzImage({ kernel: fakeBzImage({ relocatable: false }), cmdline: '', ...fixed });
    expect(r.loadAddress).toBe(0x10_0000);
    expect(r.runtimeStart).toBe(0x100_0000);
    expect(r.entry.eip).toBe(0x10_0000);
    expect(dv(fixed.ram).getUint32(ZERO_PAGE + 0x214, true)).toBe(0x10_0000);
  });

  it('fills the zero page and the 32-bit entry state the protocol requires', () => {
    const m = machine(64 * MIB);
    const kernel = fakeBzImage();
    const initrd = new Uint8Array(0x1234).fill(0x5a);
    const r = loadBzImage({ kernel, initrd, cmdline: 'console=ttyS0 quiet', acpiRsdp: 0xf_0000, ...m });
    const v = dv(m.ram);
    expect(v.getUint32(ZERO_PAGE + 0x202, true)).toBe(0x5372_6448);
    expect(m.ram[ZERO_PAGE + 0x210]).toBe(0xff);
    expect(m.ram[ZERO_PAGE + 0x211]! & 0x81).toBe(0x81);
    expect(cstring(m.ram, v.getUint32(ZERO_PAGE + 0x228, true))).toBe('console=ttyS0 quiet');
    expect(v.getUint32(ZERO_PAGE + 0x218, true)).toBe(r.initrd!.base);
    expect(v.getUint32(ZERO_PAGE + 0x21c, true)).toBe(0x1234);
    expect(r.initrd!.base % 4096).toBe(0);
    expect(r.initrd!.base + 0x1234).toBeLessThanOrEqual(m.acpiBase);
    expect(m.acpiBase - (r.initrd!.base + 0x1234)).toBeLessThan(4096);
    expect(Number(v.getBigUint64(ZERO_PAGE + 0x70, true))).toBe(0xf_0000);
    expect(m.ram[ZERO_PAGE + 0x1e8]).toBe(m.e820.length);
    expect(Number(v.getBigUint64(ZERO_PAGE + 0x2d0 + 20 * 3 + 8, true))).toBe(m.e820[3]!.length);
    expect(v.getUint32(ZERO_PAGE + 0x2d0 + 20 * 4 + 16, true)).toBe(E820Type.Acpi);
    const e = r.entry;
    expect([e.esi, e.ebx, e.ebp, e.edi]).toEqual([ZERO_PAGE, 0, 0, 0]);
    expect(e.eflags & 0x200).toBe(0);
    expect(e.cr0 & 0x8000_0001).toBe(1);
    expect(e.segments.cs).toMatchObject({ selector: BOOT_CS, base: 0, limit: 0xffff_ffff });
    for (const s of [e.segments.ds, e.segments.es, e.segments.ss]) expect(s.selector).toBe(BOOT_DS);
    // The GDT in guest memory has the flat descriptors at 0x10 and 0x18.
    expect(v.getBigUint64(BOOT_GDT + BOOT_CS, true)).toBe(0x00cf_9b00_0000_ffffn);
    expect(v.getBigUint64(BOOT_GDT + BOOT_DS, true)).toBe(0x00cf_9300_0000_ffffn);
    expect(e.gdtr).toEqual({ base: BOOT_GDT, limit: 31 });
  });

  it('keeps the initrd below initrd_addr_max', () => {
    const m = machine(256 * MIB);
    const r = loadBzImage({ kernel: fakeBzImage({ initrdAddrMax: 0x3fff_fff }), initrd: new Uint8Array(5000), cmdline: '', ...m });
    expect(r.initrd!.base + 5000).toBeLessThanOrEqual(0x400_0000);
  });

  it('reports bad kernels, long command lines and lack of memory as typed one-line errors', () => {
    const m = machine(64 * MIB);
    const load = (kernel: Uint8Array, extra: { cmdline?: string; initrd?: Uint8Array } = {}): unknown => loadBzImage({ kernel, cmdline: '', ...m, ...extra });
    expect(() => load(new Uint8Array(8192))).toThrow(NotBzImageError);
    expect(() => load(new Uint8Array(10))).toThrow(NotBzImageError);
    expect(() => load(fakeBzImage().subarray(0, 3000))).toThrow(/truncated/);
    expect(() => load(fakeBzImage({ loadflags: 0 }))).toThrow(/zImage/);
    expect(() => load(fakeBzImage({ version: 0x0204 }))).toThrow(ProtocolTooOldError);
    expect(() => load(fakeBzImage({ version: 0x0204 }))).toThrow('kernel boot protocol 2.04 is too old: wasmpc needs 2.06 or newer (Linux 2.6.22+)');
    expect(() => load(fakeBzImage({ cmdlineSize: 10 }), { cmdline: 'console=ttyS0' })).toThrow(CmdlineTooLongError);
    expect(() => load(fakeBzImage({ initSize: 60 * MIB }))).toThrow(DoesNotFitError);
    expect(() => load(fakeBzImage(), { initrd: new Uint8Array(50 * MIB) })).toThrow(/initrd of 50 MiB does not fit/);
    try { load(fakeBzImage({ version: 0x0200 })); } catch (e) {
      expect(e).toBeInstanceOf(FirmwareError);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});

describe('the Debian i686 kernel through the boot protocol loader', () => {
  itWhen([MISSING_KERNEL], 'loads with its setup header copied and every loader field where boot.rst puts it', () => {
    const kernel = new Uint8Array(readFileSync(KERNEL));
    const initrd = existsSync(INITRD) ? new Uint8Array(readFileSync(INITRD)) : new Uint8Array(4096).fill(1);
    const m = machine(256 * MIB);
    const r = loadBzImage({ kernel, initrd, cmdline: 'console=ttyS0 panic=-1', acpiRsdp: 0xf_0000, ...m });
    const h = r.header;
    expect(h.version).toBeGreaterThanOrEqual(0x020f);
    expect(h.relocatable).toBe(true);
    expect(h.loadflags & 1).toBe(1);
    // A 32-bit kernel is built to run at LOAD_PHYSICAL_ADDR = pref_address (16 MiB in Debian's config).
    expect(r.loadAddress).toBe(h.prefAddress);
    expect(r.runtimeStart + h.initSize).toBeLessThanOrEqual(r.initrd!.base);
    const setupBytes = (h.setupSects + 1) * 512;
    expect(Buffer.from(m.ram.subarray(r.loadAddress, r.loadAddress + 4096)).equals(Buffer.from(kernel.subarray(setupBytes, setupBytes + 4096)))).toBe(true);

    const v = dv(m.ram);
    const written = new Set<number>();
    for (const [at, n] of [[0x210, 2], [0x214, 4], [0x218, 8], [0x224, 2], [0x228, 4]] as const) for (let i = 0; i < n; i++) written.add(at + i);
    for (let at = 0x1f1; at < h.headerEnd; at++) {
      if (!written.has(at)) expect(m.ram[ZERO_PAGE + at], `setup header byte ${at.toString(16)}`).toBe(kernel[at]);
    }
    expect(m.ram[ZERO_PAGE + 0x211]).toBe(kernel[0x211]! | 0x80);
    expect(v.getUint32(ZERO_PAGE + 0x228, true)).toBe(CMDLINE);
    expect(cstring(m.ram, CMDLINE)).toBe('console=ttyS0 panic=-1');
    expect(r.initrd!.base % 4096).toBe(0);
    expect(r.initrd!.base + r.initrd!.size - 1).toBeLessThanOrEqual(h.initrdAddrMax);
    expect(r.initrd!.base + r.initrd!.size).toBeLessThanOrEqual(m.acpiBase);
    expect(Buffer.from(m.ram.subarray(r.initrd!.base, r.initrd!.base + initrd.length)).equals(Buffer.from(initrd))).toBe(true);
    expect(r.entry.eip).toBe(v.getUint32(ZERO_PAGE + 0x214, true));
  });

  itWhen([MISSING_KERNEL], 'refuses a machine too small for the decompressed kernel, naming the fix', () => {
    const kernel = new Uint8Array(readFileSync(KERNEL));
    expect(() => loadBzImage({ kernel, cmdline: '', ...machine(24 * MIB) })).toThrow(/give the machine more memory/);
    expect(() => loadBzImage({ kernel, cmdline: 'x'.repeat(4096), ...machine(64 * MIB) })).toThrow(CmdlineTooLongError);
  });
});
