import { describe, expect, it } from 'vitest';
import { byteSum } from '../../bios/acpi/checksum';
import { pciIntxGsi, pciIntxLine } from '../../bios/acpi/platform';
import {
  buildDsdt, buildFacs, buildFadt, buildHpet, buildMadt, buildMcfg, buildRsdp, buildRsdt, buildXsdt, installAcpi,
  type AcpiOptions,
} from '../../bios/acpi/tables';
import { FirmwareConfigError } from '../../bios/errors';
import { GuestMemory } from '../../bios/guest-memory';
import { itWhen } from '../images/host-tools';
import { MISSING_ACPIEXEC, MISSING_IASL, acpiComplaints, acpiexec, compile, compileCounts, disassemble } from './acpica';

const OPTIONS: AcpiOptions = {
  ncpus: 2,
  pciMmio: { base: 0xc000_0000, size: 0x3ec0_0000 },
  ecam: { base: 0xb000_0000, endBus: 255 },
  hpet: true,
};

const u32 = (t: Uint8Array, at: number): number => new DataView(t.buffer, t.byteOffset).getUint32(at, true);
const sig = (t: Uint8Array, at = 0, n = 4): string => String.fromCharCode(...t.subarray(at, at + n));

/** Every table this firmware builds, with its signature. */
function allTables(): [string, Uint8Array][] {
  return [
    ['DSDT', buildDsdt(OPTIONS)],
    ['FACP', buildFadt(0x7ff_0000, 0x7ff_0040)],
    ['APIC', buildMadt(OPTIONS.ncpus, OPTIONS.ncpus)],
    ['MCFG', buildMcfg(0xb000_0000, 255)],
    ['HPET', buildHpet()],
    ['RSDT', buildRsdt([0x7ff_1000, 0x7ff_2000])],
    ['XSDT', buildXsdt([0x7ff_1000, 0x7ff_2000])],
  ];
}

describe('ACPI tables', () => {
  it('all sum to zero, and carry their signature and length', () => {
    for (const [signature, table] of allTables()) {
      expect(byteSum(table), signature).toBe(0);
      expect(sig(table)).toBe(signature);
      expect(u32(table, 4)).toBe(table.length);
    }
  });

  it('the RSDP has a valid checksum over its first 20 bytes and an extended one over 36', () => {
    const rsdp = buildRsdp(0x7ff_1000, 0x7ff_2000);
    expect(sig(rsdp, 0, 8)).toBe('RSD PTR ');
    expect(byteSum(rsdp, 0, 20)).toBe(0);
    expect(byteSum(rsdp)).toBe(0);
    expect(rsdp[15]).toBe(2);
    expect(u32(rsdp, 16)).toBe(0x7ff_1000);
    expect(u32(rsdp, 24)).toBe(0x7ff_2000);
  });

  it('the FACS is 64 bytes with its signature and version 2', () => {
    const facs = buildFacs();
    expect(facs.length).toBe(64);
    expect(sig(facs)).toBe('FACS');
    expect(facs[32]).toBe(2);
  });

  it('routes PCI INTx with the i440FX swizzle (slot + pin - 1) mod 4 onto GSIs 16-19', () => {
    expect(pciIntxGsi(1, 0)).toBe(16);
    expect(pciIntxGsi(0, 0)).toBe(19);
    expect(pciIntxGsi(3, 1)).toBe(19);
    expect(pciIntxGsi(3, 2)).toBe(16);
    expect(pciIntxLine(31, 3)).toBe(1);
  });

  it('installs the tables in the ACPI region and points RSDP -> XSDT/RSDT -> FADT -> DSDT/FACS', () => {
    const ram = new Uint8Array(128 << 20);
    const mem = new GuestMemory(ram);
    const region = { base: (128 << 20) - 0x1_0000, bytes: 0x1_0000 };
    const acpi = installAcpi(mem, region, 0xf_0000, OPTIONS);
    const t = acpi.tables;
    expect(Object.keys(t).sort()).toEqual(['APIC', 'DSDT', 'FACP', 'FACS', 'HPET', 'MCFG', 'RSDT', 'XSDT']);
    for (const at of Object.values(t)) expect(at >= region.base && at < region.base + acpi.used).toBe(true);
    expect(t.FACS! % 64).toBe(0);
    const view = new DataView(ram.buffer);
    expect(view.getUint32(0xf_0000 + 16, true)).toBe(t.RSDT);
    expect(Number(view.getBigUint64(0xf_0000 + 24, true))).toBe(t.XSDT);
    const xsdtEntries = (view.getUint32(t.XSDT! + 4, true) - 36) / 8;
    const pointed = Array.from({ length: xsdtEntries }, (_, i) => Number(view.getBigUint64(t.XSDT! + 36 + 8 * i, true)));
    expect(pointed).toEqual([t.FACP, t.APIC, t.MCFG, t.HPET]);
    expect(view.getUint32(t.FACP! + 36, true)).toBe(t.FACS);
    expect(view.getUint32(t.FACP! + 40, true)).toBe(t.DSDT);
    expect(Number(view.getBigUint64(t.FACP! + 140, true))).toBe(t.DSDT);
    for (const s of ['RSDT', 'XSDT', 'FACP', 'DSDT', 'APIC', 'MCFG', 'HPET']) {
      const at = t[s]!;
      expect(byteSum(ram, at, at + view.getUint32(at + 4, true)), s).toBe(0);
    }
  });

  it('leaves the HPET out unless the machine has one', () => {
    const acpi = installAcpi(new GuestMemory(new Uint8Array(64 << 20)), { base: (64 << 20) - 0x1_0000, bytes: 0x1_0000 }, 0xf_0000, { ...OPTIONS, hpet: false });
    expect(acpi.tables.HPET).toBeUndefined();
  });

  it('refuses CPU counts, APIC IDs and RSDP addresses it cannot describe', () => {
    const mem = new GuestMemory(new Uint8Array(64 << 20));
    const region = { base: (64 << 20) - 0x1_0000, bytes: 0x1_0000 };
    expect(() => installAcpi(mem, region, 0xf_0000, { ...OPTIONS, ncpus: 0 })).toThrow(FirmwareConfigError);
    expect(() => installAcpi(mem, region, 0xf_0000, { ...OPTIONS, ncpus: 4, ioapicId: 2 })).toThrow(/clashes/);
    expect(() => installAcpi(mem, region, 0xf_0008, OPTIONS)).toThrow(/16-byte aligned/);
    expect(() => installAcpi(mem, { base: region.base, bytes: 0x800 }, 0xf_0000, OPTIONS)).toThrow(/more than/);
  });
});

describe('ACPI tables through Debian\'s ACPICA (iasl, acpiexec)', () => {
  itWhen([MISSING_IASL], 'iasl -d disassembles every table without a complaint', () => {
    for (const [signature, table] of allTables()) {
      const r = disassemble(table);
      expect(r.status, `${signature}: ${r.output}`).toBe(0);
      expect(r.output, signature).not.toMatch(/error|warning|invalid|mismatch/i);
      expect(r.dsl, signature).toMatch(new RegExp(`Signature\\s+:?\\s*"${signature}"`));
    }
  });

  itWhen([MISSING_IASL], 'the DSDT disassembly has the expected objects, and recompiles cleanly to the same AML', () => {
    const dsdt = buildDsdt(OPTIONS);
    const { dsl } = disassemble(dsdt);
    for (const object of ['Scope (_SB)', 'Device (PCI0)', 'EisaId ("PNP0A03")', 'Name (_BBN, Zero)', 'Method (_PRT, 0',
      'Name (_S5, Package (0x04)', 'Name (_S0, Package (0x04)', 'Method (_PIC, 1', 'Device (ISA)', 'Name (_ADR, 0x00010000)',
      'Device (COM1)', 'Device (COM4)', 'EisaId ("PNP0501")', 'EisaId ("PNP0B00")', 'EisaId ("PNP0000")', 'EisaId ("PNP0100")',
      'EisaId ("PNP0303")', 'Device (LNKA)', 'Device (LNKD)', 'EisaId ("PNP0C0F")', 'Device (C000)', 'Device (C001)',
      '"ACPI0007"', 'EisaId ("PNP0C02")', '0xFEBFFFFF', '0x0CF7', '0x000BFFFF']) {
      expect(dsl).toContain(object);
    }
    const again = compile(dsl);
    expect(compileCounts(again.output), again.output).toEqual({ errors: 0, warnings: 0, remarks: 0 });
    expect(Buffer.from(again.aml.subarray(36)).equals(Buffer.from(dsdt.subarray(36)))).toBe(true);
  });

  itWhen([MISSING_IASL], 'the data tables survive a disassemble/compile round trip through iasl unchanged', () => {
    for (const [signature, table] of allTables().filter(([s]) => s !== 'DSDT')) {
      const again = compile(disassemble(table).dsl);
      expect(compileCounts(again.output), `${signature}: ${again.output}`).toMatchObject({ errors: 0, warnings: 0 });
      // iasl stamps its own compiler ID and revision (28..35) and so a new checksum (9).
      const mask = (t: Uint8Array): string => Buffer.from(t.map((b, i) => (i === 9 || (i >= 28 && i < 36) ? 0 : b))).toString('hex');
      expect(mask(again.aml), signature).toBe(mask(table));
    }
  });

  itWhen([MISSING_IASL, MISSING_ACPIEXEC], 'ACPICA loads the namespace and evaluates _S5, _PRT in both modes and every _CRS', () => {
    // A probe SSDT returns one _PRT entry (the debugger's 16 KiB result buffer cannot hold PIC mode's 128 at once).
    const probe = compile(`DefinitionBlock ("", "SSDT", 2, "WASMPC", "PROBE", 1)
{
    External (\\_SB.PCI0._PRT, MethodObj)
    Method (TPRT, 1, NotSerialized) { Return (DerefOf (Index (\\_SB.PCI0._PRT (), Arg0))) }
}`);
    expect(compileCounts(probe.output), probe.output).toEqual({ errors: 0, warnings: 0, remarks: 0 });
    const tables = [buildDsdt(OPTIONS), buildFadt(0, 0), buildMadt(2, 2), probe.aml];
    const devices = ['\\_SB.PCI0', '\\_SB.LNKA', '\\_SB.RES0', '\\_SB.PCI0.ISA.COM1', '\\_SB.PCI0.ISA.RTC', '\\_SB.PCI0.ISA.PIC',
      '\\_SB.PCI0.ISA.PIT', '\\_SB.PCI0.ISA.KBD', '\\_SB.PCI0.ISA.MOU'];
    // Slot 1 pin INTB (entry 5): line (1 + 1 - 1) mod 4 = 1, LNKB in PIC mode and GSI 17 after _PIC(1).
    const r = acpiexec(tables, ['evaluate \\_S5', 'evaluate \\TPRT 5', 'evaluate \\_PIC 1', 'evaluate \\TPRT 5',
      ...devices.map((d) => `resources ${d}`)].join(';'));
    expect(acpiComplaints(r.output), r.output.slice(0, 4000)).toEqual([]);
    expect(r.output).toMatch(/Evaluation of \\_S5 returned object[^\n]*\n\s*\[Package\] Contains 4 Elements/);
    const entries = r.output.split('Evaluation of \\TPRT returned').slice(1);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/= 000000000001FFFF\s+\[Integer\] = 0000000000000001\s+\[Object Reference\][^\n]*Name LNKB Device\s+\[Integer\] = 0000000000000000/);
    expect(entries[1]).toMatch(/= 000000000001FFFF\s+\[Integer\] = 0000000000000001\s+\[Integer\] = 0000000000000000\s+\[Integer\] = 0000000000000011/);
    // The routing table as the OS reads it (AcpiGetIrqRoutingTable), in APIC mode: 32 slots x 4 pins.
    const prt = r.output.split('Evaluating _PRT')[1] ?? '';
    expect((prt.match(/PCI IRQ Routing Table Package/g) ?? []).length).toBe(128);
    expect(r.output).toMatch(/Interrupt List : A/);
  });
});
