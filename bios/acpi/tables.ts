// The ACPI tables of this machine (ACPI 6.5 5.2), built in memory and installed into guest RAM: RSDP, RSDT,
// XSDT, FADT, FACS, DSDT, MADT, MCFG (PCI Firmware 3.0 4.1.2) and optionally HPET (IA-PC HPET 1.0a 3.2.4).
import { FirmwareConfigError, hex, sizeText } from '../errors';
import type { GuestMemory } from '../guest-memory';
import { alignUp } from '../layout';
import { fixChecksum } from './checksum';
import { dsdtBody, type DsdtOptions } from './dsdt';
import {
  GPE0_BLK, GPE0_BLK_LEN, HPET_BASE, HPET_BLOCK_ID, IOAPIC_BASE, LAPIC_BASE, PM1A_CNT_BLK, PM1A_EVT_BLK, PM1_CNT_LEN, PM1_EVT_LEN,
  PM_TMR_BLK, PM_TMR_LEN, RESET_PORT, RESET_VALUE, RTC_CENTURY_INDEX, SCI_IRQ,
} from './platform';

export const OEM_ID = 'WASMPC';
export const OEM_TABLE_ID = 'WASMPC';
const CREATOR_ID = 'WPC ';
const HEADER_SIZE = 36;

export interface AcpiOptions extends DsdtOptions {
  /** I/O APIC ID (default: ncpus, the first ID after the CPUs' local APIC IDs 0..ncpus-1). */
  ioapicId?: number;
  /** Adds an HPET table for the HPET at 0xFED00000. */
  hpet?: boolean;
}

/** Bytes with little-endian field writers, for building one table. */
class TableBytes {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(at: number, v: number): void { this.view.setUint8(at, v); }
  u16(at: number, v: number): void { this.view.setUint16(at, v, true); }
  u32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  u64(at: number, v: number): void { this.u32(at, v >>> 0); this.u32(at + 4, Math.floor(v / 0x1_0000_0000)); }
  ascii(at: number, text: string, width: number): void {
    for (let i = 0; i < width; i++) this.bytes[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
  }
  /** 5.2.3.2 Generic Address Structure: space, bit width, bit offset, access size, 64-bit address. */
  gas(at: number, space: number, bitWidth: number, accessSize: number, address: number): void {
    this.u8(at, space);
    this.u8(at + 1, bitWidth);
    this.u8(at + 2, 0);
    this.u8(at + 3, accessSize);
    this.u64(at + 4, address);
  }
}

const GAS_SYSTEM_MEMORY = 0;
const GAS_SYSTEM_IO = 1;
const ACCESS_BYTE = 1;
const ACCESS_WORD = 2;
const ACCESS_DWORD = 3;

/** 5.2.6 System Description Table Header around `body`, checksummed. */
export function sdt(signature: string, revision: number, body: ArrayLike<number>): Uint8Array {
  const t = new TableBytes(HEADER_SIZE + body.length);
  t.ascii(0, signature, 4);
  t.u32(4, t.bytes.length);
  t.u8(8, revision);
  t.ascii(10, OEM_ID, 6);
  t.ascii(16, `${OEM_TABLE_ID}${signature}`.slice(0, 8), 8);
  t.u32(24, 1);
  t.ascii(28, CREATOR_ID, 4);
  t.u32(32, 1);
  t.bytes.set(body, HEADER_SIZE);
  fixChecksum(t.bytes, 9);
  return t.bytes;
}

/** The DSDT, revision 2 so that integers are 64 bits wide (5.2.11.1). */
export function buildDsdt(options: DsdtOptions): Uint8Array { return sdt('DSDT', 2, dsdtBody(options)); }

/** 5.2.10 FACS: 64 bytes, 64-byte aligned, no checksum; the OS keeps the global lock and waking vector here. */
export function buildFacs(): Uint8Array {
  const t = new TableBytes(64);
  t.ascii(0, 'FACS', 4);
  t.u32(4, 64);
  t.u8(32, 2); // Version
  return t.bytes;
}

// FADT Flags (Table 5.10) and IA-PC boot architecture flags (Table 5.11).
const FADT_WBINVD = 1 << 0;
const FADT_PROC_C1 = 1 << 2;
const FADT_SLP_BUTTON = 1 << 5; // no fixed-feature sleep button
const FADT_RTC_S4 = 1 << 7;
const FADT_RESET_REG_SUP = 1 << 10;
const BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
const BOOT_ARCH_8042 = 1 << 1;
/** P_LVL2_LAT above 100 and P_LVL3_LAT above 1000 mean "C2/C3 not supported" (5.2.9). */
const NO_C2_LATENCY = 0x0fff;
const NO_C3_LATENCY = 0x0fff;
const FADT_REVISION = 6;
const FADT_MINOR_REVISION = 5;
const FADT_LENGTH = 276;

/**
 * 5.2.9 FADT (Table 5.9), revision 6: the PM block at 0x600, SCI on IRQ 9, RESET_REG 0xCF9 = 6. SMI_CMD is 0:
 * "This field is reserved and must be zero on system that does not support System Management mode", which
 * OSPM reads as a machine that is always in ACPI mode, so ACPI_ENABLE/ACPI_DISABLE stay 0.
 */
export function buildFadt(facs: number, dsdt: number): Uint8Array {
  const t = new TableBytes(FADT_LENGTH - HEADER_SIZE);
  const at = (offset: number): number => offset - HEADER_SIZE;
  t.u32(at(36), facs); // FIRMWARE_CTRL
  t.u32(at(40), dsdt); // DSDT
  t.u16(at(46), SCI_IRQ); // SCI_INT
  t.u32(at(48), 0); // SMI_CMD
  t.u32(at(56), PM1A_EVT_BLK);
  t.u32(at(64), PM1A_CNT_BLK);
  t.u32(at(76), PM_TMR_BLK);
  t.u32(at(80), GPE0_BLK);
  t.u8(at(88), PM1_EVT_LEN);
  t.u8(at(89), PM1_CNT_LEN);
  t.u8(at(91), PM_TMR_LEN);
  t.u8(at(92), GPE0_BLK_LEN);
  t.u16(at(96), NO_C2_LATENCY);
  t.u16(at(98), NO_C3_LATENCY);
  t.u8(at(108), RTC_CENTURY_INDEX);
  t.u16(at(109), BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
  t.u32(at(112), FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RTC_S4 | FADT_RESET_REG_SUP);
  t.gas(at(116), GAS_SYSTEM_IO, 8, ACCESS_BYTE, RESET_PORT); // RESET_REG
  t.u8(at(128), RESET_VALUE);
  t.u8(at(131), FADT_MINOR_REVISION);
  t.u64(at(132), facs); // X_FIRMWARE_CTRL (equal to FIRMWARE_CTRL, so OSPM sees no conflict)
  t.u64(at(140), dsdt); // X_DSDT
  t.gas(at(148), GAS_SYSTEM_IO, PM1_EVT_LEN * 8, ACCESS_WORD, PM1A_EVT_BLK);
  t.gas(at(172), GAS_SYSTEM_IO, PM1_CNT_LEN * 8, ACCESS_WORD, PM1A_CNT_BLK);
  t.gas(at(208), GAS_SYSTEM_IO, PM_TMR_LEN * 8, ACCESS_DWORD, PM_TMR_BLK);
  t.gas(at(220), GAS_SYSTEM_IO, GPE0_BLK_LEN * 8, ACCESS_BYTE, GPE0_BLK);
  return sdt('FACP', FADT_REVISION, t.bytes);
}

// 5.2.12 MADT: structure types and flags.
const MADT_PCAT_COMPAT = 1 << 0;
const MADT_LOCAL_APIC = 0;
const MADT_IO_APIC = 1;
const MADT_INTERRUPT_OVERRIDE = 2;
const MADT_LOCAL_APIC_NMI = 4;
const LAPIC_ENABLED = 1 << 0;
/** MPS INTI flags (Table 5.26): polarity bits 1..0 (1 = active high), trigger mode bits 3..2 (3 = level). */
const INTI_CONFORMS = 0;
const INTI_ACTIVE_HIGH_LEVEL = 0b1101;
const ALL_PROCESSORS = 0xff;
const MAX_XAPIC_ID = 0xfe;

/**
 * 5.2.12 MADT, revision 5: one Processor Local APIC per CPU (UID = APIC ID = index), the I/O APIC with GSI base
 * 0, ISA overrides IRQ0 -> GSI2 and the SCI (IRQ9, level, active high), and LINT1 as NMI on every CPU.
 */
export function buildMadt(ncpus: number, ioapicId: number): Uint8Array {
  const body: number[] = [];
  const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  body.push(...u32(LAPIC_BASE), ...u32(MADT_PCAT_COMPAT));
  for (let i = 0; i < ncpus; i++) body.push(MADT_LOCAL_APIC, 8, i, i, ...u32(LAPIC_ENABLED));
  body.push(MADT_IO_APIC, 12, ioapicId, 0, ...u32(IOAPIC_BASE), ...u32(0));
  body.push(MADT_INTERRUPT_OVERRIDE, 10, 0, 0, ...u32(2), ...u16(INTI_CONFORMS));
  body.push(MADT_INTERRUPT_OVERRIDE, 10, 0, SCI_IRQ, ...u32(SCI_IRQ), ...u16(INTI_ACTIVE_HIGH_LEVEL));
  body.push(MADT_LOCAL_APIC_NMI, 6, ALL_PROCESSORS, ...u16(INTI_CONFORMS), 1);
  return sdt('APIC', 5, body);
}

/** PCI Firmware 3.0 4.1.2 MCFG: 8 reserved bytes, then one allocation (base, segment 0, start and end bus). */
export function buildMcfg(ecamBase: number, endBus: number): Uint8Array {
  const t = new TableBytes(8 + 16);
  t.u64(8, ecamBase);
  t.u16(16, 0);
  t.u8(18, 0);
  t.u8(19, endBus);
  return sdt('MCFG', 1, t.bytes);
}

/**
 * IA-PC HPET 1.0a 3.2.4: the event timer block ID mirrors the capabilities register (HPET_BLOCK_ID), base in
 * system memory, min tick 0x80.
 */
export function buildHpet(): Uint8Array {
  const t = new TableBytes(20);
  t.u32(0, HPET_BLOCK_ID);
  t.gas(4, GAS_SYSTEM_MEMORY, 64, 0, HPET_BASE);
  t.u8(16, 0);
  t.u16(17, 0x80);
  t.u8(19, 0);
  return sdt('HPET', 1, t.bytes);
}

/** 5.2.7 RSDT (32-bit pointers) and 5.2.8 XSDT (64-bit pointers) to every table but the FACS and the DSDT. */
export function buildRsdt(tables: readonly number[]): Uint8Array {
  const t = new TableBytes(4 * tables.length);
  tables.forEach((a, i) => t.u32(4 * i, a));
  return sdt('RSDT', 1, t.bytes);
}

export function buildXsdt(tables: readonly number[]): Uint8Array {
  const t = new TableBytes(8 * tables.length);
  tables.forEach((a, i) => t.u64(8 * i, a));
  return sdt('XSDT', 1, t.bytes);
}

export const RSDP_LENGTH = 36;

/** 5.2.5.3 RSDP, revision 2: checksum over the first 20 bytes, extended checksum over all 36. */
export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const t = new TableBytes(RSDP_LENGTH);
  t.ascii(0, 'RSD PTR ', 8);
  t.ascii(9, OEM_ID, 6);
  t.u8(15, 2);
  t.u32(16, rsdt);
  t.u32(20, RSDP_LENGTH);
  t.u64(24, xsdt);
  fixChecksum(t.bytes, 8, 0, 20);
  fixChecksum(t.bytes, 32);
  return t.bytes;
}

export interface InstalledAcpi {
  rsdp: number;
  /** Guest-physical address of each table by signature (FACS and DSDT included). */
  tables: Record<string, number>;
  /** Bytes of the ACPI region used. */
  used: number;
}

/**
 * Builds every table and writes them into [regionBase, regionBase + regionBytes) in guest RAM (the e820 ACPI
 * range) and the RSDP at `rsdpAddress` (16-byte aligned, in 0xE0000-0xFFFFF where OSPM scans, 5.2.5.1).
 */
export function installAcpi(mem: GuestMemory, region: { base: number; bytes: number }, rsdpAddress: number, options: AcpiOptions): InstalledAcpi {
  const { ncpus } = options;
  const ioapicId = options.ioapicId ?? ncpus;
  if (!Number.isInteger(ncpus) || ncpus < 1 || ncpus > MAX_XAPIC_ID) throw new FirmwareConfigError(`the machine can have 1-${MAX_XAPIC_ID} CPUs, not ${ncpus}`);
  if (ioapicId < ncpus || ioapicId > MAX_XAPIC_ID) throw new FirmwareConfigError(`I/O APIC ID ${ioapicId} clashes with a CPU's local APIC ID or exceeds ${MAX_XAPIC_ID}`);
  if (rsdpAddress % 16 !== 0 || rsdpAddress < 0xe_0000 || rsdpAddress + RSDP_LENGTH > 0x10_0000) {
    throw new FirmwareConfigError(`RSDP address ${hex(rsdpAddress)} must be 16-byte aligned inside 0xE0000-0xFFFFF`);
  }
  const tables: Record<string, number> = {};
  let next = region.base;
  const place = (signature: string, bytes: Uint8Array, align: number): number => {
    const at = alignUp(next, align);
    if (at + bytes.length > region.base + region.bytes) {
      throw new FirmwareConfigError(`ACPI tables need more than the ${sizeText(region.bytes)} reserved for them (at ${signature})`);
    }
    mem.bytes(at, bytes);
    tables[signature] = at;
    next = at + bytes.length;
    return at;
  };
  mem.fill(region.base, region.bytes);
  const facs = place('FACS', buildFacs(), 64);
  const dsdt = place('DSDT', buildDsdt(options), 16);
  const pointed = [
    place('FACP', buildFadt(facs, dsdt), 16),
    place('APIC', buildMadt(ncpus, ioapicId), 16),
    place('MCFG', buildMcfg(options.ecam.base, options.ecam.endBus), 16),
    ...(options.hpet ? [place('HPET', buildHpet(), 16)] : []),
  ];
  const rsdt = place('RSDT', buildRsdt(pointed), 16);
  const xsdt = place('XSDT', buildXsdt(pointed), 16);
  mem.bytes(rsdpAddress, buildRsdp(rsdt, xsdt));
  return { rsdp: rsdpAddress, tables, used: next - region.base };
}
