// The few BIOS data area words an OS reads even when no BIOS ran: the EBDA segment (0x40E) and the base memory
// size in KiB (0x413). Linux's reserve_bios_regions() (arch/x86/kernel/ebda.c) reserves from the lower of the
// two up to 1 MiB, so they must agree with the e820 map's conventional memory; the serial port table (0x400)
// lets DOS-era software find COM1-COM4.
import { COM_PORTS } from './acpi/platform';
import type { GuestMemory } from './guest-memory';
import { EBDA } from './layout';

const BDA_COM_PORTS = 0x400;
const BDA_EBDA_SEGMENT = 0x40e;
const BDA_BASE_MEMORY_KIB = 0x413;

export function writeBiosDataArea(mem: GuestMemory, comPorts: number): void {
  COM_PORTS.forEach((port, i) => mem.u16(BDA_COM_PORTS + 2 * i, i < comPorts ? port.base : 0));
  mem.u16(BDA_EBDA_SEGMENT, EBDA >> 4);
  mem.u16(BDA_BASE_MEMORY_KIB, EBDA >> 10);
}
