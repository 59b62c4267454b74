// The firmware of a wasmpc machine, host-neutral: given guest RAM and the boot files, it writes the e820 map,
// the ACPI tables and the kernel (a Linux bzImage or a Multiboot v1 kernel) into RAM and returns the CPU state
// to start from. No BIOS code runs in the guest: this is what a direct-boot loader does (QEMU -kernel, bhyveload).
import { writeBiosDataArea } from './bda';
import { loadBzImage, type BzImageLoad } from './bzimage';
import type { EntryState } from './cpu-state';
import { pcMemoryMap, type E820Entry } from './e820';
import { FirmwareConfigError, NotBzImageError, hex } from './errors';
import { GuestMemory } from './guest-memory';
import { RSDP_ADDRESS } from './layout';
import { findMultibootHeader, loadMultiboot, type MultibootLoad } from './multiboot';
import { COM_PORTS, HPET_BASE, IOAPIC_BASE, LAPIC_BASE } from './acpi/platform';
import { installAcpi } from './acpi/tables';

export * from './errors';
export type { EntryState, SegmentState } from './cpu-state';
export type { E820Entry } from './e820';
export { E820Type } from './e820';

export interface FirmwareOptions {
  /** Guest RAM indexed by guest-physical address; it must cover RAM below the PCI hole. */
  ram: Uint8Array;
  ramBytes: number;
  ncpus: number;
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  /** ECAM (PCI Express enhanced configuration) base: 1 MiB per bus from bus 0 to ecamEndBus. */
  ecamBase: number;
  /** Last bus number the ECAM window covers (default 255: 256 MiB). */
  ecamEndBus?: number;
  /** The 32-bit window for PCI BARs that the host bridge forwards. */
  pciMmioBase: number;
  pciMmioSize: number;
  /** The machine has an HPET at 0xFED00000 (adds the HPET table). */
  hpet?: boolean;
  /** How many of COM1-COM4 exist (default 4). */
  comPorts?: number;
}

export interface Firmware {
  entry: EntryState;
  e820: E820Entry[];
  /** The e820 ACPI (type 3) range the tables occupy. */
  acpiRange: { base: number; length: number };
  rsdp: number;
  /** Guest-physical address of each ACPI table by signature. */
  acpiTables: Record<string, number>;
  boot: { kind: 'bzimage'; load: BzImageLoad } | { kind: 'multiboot'; load: MultibootLoad };
}

const MIB = 0x10_0000;
/** The fixed MMIO ranges of the platform that neither ECAM nor the PCI window may cover. */
const FIXED_MMIO: readonly { name: string; base: number; length: number }[] = [
  { name: 'the I/O APIC', base: IOAPIC_BASE, length: 0x1000 },
  { name: 'the HPET', base: HPET_BASE, length: 0x400 },
  { name: 'the local APIC', base: LAPIC_BASE, length: 0x1000 },
];

function overlaps(a: { base: number; length: number }, b: { base: number; length: number }): boolean {
  return a.base < b.base + b.length && b.base < a.base + a.length;
}

function checkWindows(options: FirmwareOptions, ecamEndBus: number): void {
  const ecam = { name: 'the ECAM window', base: options.ecamBase, length: (ecamEndBus + 1) * MIB };
  const pci = { name: 'the PCI MMIO window', base: options.pciMmioBase, length: options.pciMmioSize };
  if (!Number.isInteger(ecamEndBus) || ecamEndBus < 0 || ecamEndBus > 255) throw new FirmwareConfigError(`ECAM end bus ${ecamEndBus} is not a bus number (0-255)`);
  if (ecam.base % MIB !== 0 || ecam.base + ecam.length > 0x1_0000_0000) throw new FirmwareConfigError(`ECAM base ${hex(ecam.base)} must be 1 MiB aligned with its ${ecamEndBus + 1} buses below 4 GiB`);
  if (overlaps(ecam, pci)) throw new FirmwareConfigError(`the ECAM window ${hex(ecam.base)} overlaps the PCI MMIO window ${hex(pci.base)}`);
  for (const w of [ecam, pci]) {
    const clash = FIXED_MMIO.find((f) => overlaps(w, f));
    if (clash) throw new FirmwareConfigError(`${w.name} at ${hex(w.base)}-${hex(w.base + w.length - 1)} covers ${clash.name} at ${hex(clash.base)}`);
  }
}

/** Writes e820 + ACPI + the kernel into `options.ram` and returns where the CPU starts. */
export function buildFirmware(options: FirmwareOptions): Firmware {
  const ecamEndBus = options.ecamEndBus ?? 255;
  checkWindows(options, ecamEndBus);
  const ecamBytes = (ecamEndBus + 1) * MIB;
  const memory = pcMemoryMap({
    ramBytes: options.ramBytes,
    pciHoleStart: Math.min(options.ecamBase, options.pciMmioBase),
    reserved: [{ base: options.ecamBase, length: ecamBytes }],
  });
  if (options.ram.length < memory.lowRamEnd) {
    throw new FirmwareConfigError(`the RAM array holds ${hex(options.ram.length)} bytes but RAM below the PCI hole ends at ${hex(memory.lowRamEnd)}`);
  }
  const mem = new GuestMemory(options.ram);
  writeBiosDataArea(mem, options.comPorts ?? COM_PORTS.length);
  const acpi = installAcpi(mem, { base: memory.acpiBase, bytes: memory.acpiBytes }, RSDP_ADDRESS, {
    ncpus: options.ncpus,
    pciMmio: { base: options.pciMmioBase, size: options.pciMmioSize },
    ecam: { base: options.ecamBase, endBus: ecamEndBus },
    ...(options.hpet !== undefined ? { hpet: options.hpet } : {}),
    ...(options.comPorts !== undefined ? { comPorts: options.comPorts } : {}),
  });
  const common = { kernel: options.kernel, cmdline: options.cmdline, ram: options.ram, e820: memory.e820, ...(options.initrd ? { initrd: options.initrd } : {}) };
  let boot: Firmware['boot'];
  if (isBzImage(options.kernel)) {
    boot = { kind: 'bzimage', load: loadBzImage({ ...common, acpiRsdp: acpi.rsdp }) };
  } else if (findMultibootHeader(options.kernel)) {
    boot = { kind: 'multiboot', load: loadMultiboot(common) };
  } else {
    throw new NotBzImageError('kernel image is neither a Linux bzImage ("HdrS" at 0x202) nor a Multiboot kernel (0x1BADB002 in its first 8 KiB)');
  }
  return {
    entry: boot.load.entry,
    e820: memory.e820,
    acpiRange: { base: memory.acpiBase, length: memory.acpiBytes },
    rsdp: acpi.rsdp,
    acpiTables: acpi.tables,
    boot,
  };
}

/** "HdrS" at 0x202 (boot.rst "The Real-Mode Kernel Header"). */
function isBzImage(kernel: Uint8Array): boolean {
  return kernel.length >= 0x206 && kernel[0x202] === 0x48 && kernel[0x203] === 0x64 && kernel[0x204] === 0x72 && kernel[0x205] === 0x53;
}
