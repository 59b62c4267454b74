// The BIOS memory map (ACPI 6.5 15, "System Address Map Interfaces"; INT 15h E820h) of a PC with `ramBytes` of
// RAM, as data. The bzImage loader copies it into boot_params.e820_table and the multiboot loader into its mmap.
//
// Layout, as QEMU with SeaBIOS presents it: conventional memory up to the EBDA, the BIOS area reserved, RAM from
// 1 MiB up to the 32-bit PCI hole with the ACPI tables at its top, and the rest of RAM above 4 GiB.
import { FirmwareConfigError, hex, sizeText } from './errors';
import {
  ACPI_REGION_SIZE, BIOS_AREA, BIOS_AREA_SIZE, EBDA, FOUR_GIB, HIGH_MEMORY, LOW_MEMORY_TOP, alignDown,
} from './layout';

/** Address range types (ACPI 6.5 Table 15.4); the values are what E820h returns in its Type field. */
export const enum E820Type {
  Ram = 1,
  Reserved = 2,
  Acpi = 3,
  Nvs = 4,
  Unusable = 5,
}

export interface E820Entry {
  base: number;
  length: number;
  type: E820Type;
}

export interface PcMemoryOptions {
  ramBytes: number;
  /** The lowest address of the 32-bit MMIO hole (ECAM, PCI windows, APICs): RAM past it moves above 4 GiB. */
  pciHoleStart: number;
  /** Bytes at the top of low RAM for the ACPI tables (type 3, reclaimable once the OS has read them). */
  acpiBytes?: number;
  /** Extra reserved ranges, e.g. the ECAM window so that Linux trusts the MCFG table. */
  reserved?: readonly { base: number; length: number }[];
}

/** Where RAM went: the map, plus the figures the loaders need. */
export interface PcMemoryMap {
  e820: E820Entry[];
  /** End of RAM below 4 GiB (exclusive), ACPI region included. */
  lowRamEnd: number;
  /** Bytes of RAM above 4 GiB. */
  highRamBytes: number;
  /** The ACPI region: [acpiBase, acpiBase + acpiBytes). */
  acpiBase: number;
  acpiBytes: number;
}

/** Smallest RAM this firmware lays out: 1 MiB of low memory, 1 MiB for a kernel, the ACPI region. */
const MIN_RAM = HIGH_MEMORY + (1 << 20) + ACPI_REGION_SIZE;

export function pcMemoryMap(options: PcMemoryOptions): PcMemoryMap {
  const { ramBytes, pciHoleStart } = options;
  const acpiBytes = options.acpiBytes ?? ACPI_REGION_SIZE;
  if (!Number.isSafeInteger(ramBytes) || ramBytes < MIN_RAM) {
    throw new FirmwareConfigError(`${sizeText(ramBytes)} of RAM is too little: the firmware needs at least ${sizeText(MIN_RAM)}`);
  }
  if (pciHoleStart < MIN_RAM || pciHoleStart > FOUR_GIB) {
    throw new FirmwareConfigError(`the PCI hole cannot start at ${hex(pciHoleStart)}: it must lie between ${sizeText(MIN_RAM)} and 4 GiB`);
  }
  // Page-align the end of low RAM so that the ACPI region and the initrd below it stay page aligned.
  const lowRamEnd = alignDown(Math.min(ramBytes, pciHoleStart), 0x1000);
  const highRamBytes = ramBytes - Math.min(ramBytes, pciHoleStart);
  const acpiBase = lowRamEnd - acpiBytes;

  const e820: E820Entry[] = [
    { base: 0, length: EBDA, type: E820Type.Ram },
    { base: EBDA, length: LOW_MEMORY_TOP - EBDA, type: E820Type.Reserved },
    { base: BIOS_AREA, length: BIOS_AREA_SIZE, type: E820Type.Reserved },
    { base: HIGH_MEMORY, length: acpiBase - HIGH_MEMORY, type: E820Type.Ram },
    { base: acpiBase, length: acpiBytes, type: E820Type.Acpi },
  ];
  if (highRamBytes > 0) e820.push({ base: FOUR_GIB, length: highRamBytes, type: E820Type.Ram });
  for (const r of options.reserved ?? []) {
    const clash = e820.find((e) => e.type === E820Type.Ram && r.base < e.base + e.length && e.base < r.base + r.length);
    if (clash) throw new FirmwareConfigError(`reserved range ${hex(r.base)}-${hex(r.base + r.length - 1)} overlaps RAM at ${hex(clash.base)}`);
    e820.push({ base: r.base, length: r.length, type: E820Type.Reserved });
  }
  e820.sort((a, b) => a.base - b.base);
  return { e820, lowRamEnd, highRamBytes, acpiBase, acpiBytes };
}

/** Conventional memory in KiB (multiboot mem_lower) and contiguous RAM from 1 MiB in KiB (mem_upper). */
export function legacyMemorySizes(e820: readonly E820Entry[]): { lowerKiB: number; upperKiB: number } {
  const low = e820.find((e) => e.base === 0 && e.type === E820Type.Ram);
  const high = e820.find((e) => e.base === HIGH_MEMORY && e.type === E820Type.Ram);
  return { lowerKiB: low ? Math.floor(low.length / 1024) : 0, upperKiB: high ? Math.floor(high.length / 1024) : 0 };
}
