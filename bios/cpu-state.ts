// The CPU state both loaders hand over: 32-bit protected mode, paging off, flat 4 GiB segments from a GDT that
// the firmware writes into guest RAM (boot.rst "32-bit Boot Protocol"; Multiboot 0.6.96 3.2 "Machine state").
import type { GuestMemory } from './guest-memory';
import { BOOT_GDT, INITIAL_ESP } from './layout';

/** A segment register with its descriptor cache, in the shape of the core's harness (src/machine/harness.ts). */
export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** Descriptor bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) in bits 0..15. */
  attr: number;
}

export interface EntryState {
  eip: number;
  eax: number; ebx: number; ecx: number; edx: number;
  esi: number; edi: number; ebp: number; esp: number;
  /** Only the reserved bit 1: IF clear, as both protocols require. */
  eflags: number;
  /** PE and ET: protected mode, paging off. */
  cr0: number;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  segments: { cs: SegmentState; ds: SegmentState; es: SegmentState; ss: SegmentState; fs: SegmentState; gs: SegmentState };
}

/** boot.rst: "__BOOT_CS(0x10) and __BOOT_DS(0x18); both descriptors must be 4G flat segment". */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;

// Descriptor attribute bits 40..55 as the harness stores them:
//   bit 15 G | 14 D/B | 13 L | 12 AVL | 11..8 limit 19..16 (not here) | 7 P | 6..5 DPL | 4 S | 3..0 type
const ATTR_G = 0b1000_0000_0000_0000;
const ATTR_DB = 0b0100_0000_0000_0000;
const ATTR_P = 0b1000_0000;
const ATTR_S = 0b0001_0000;
const TYPE_CODE_READ_ACCESSED = 0b1011;
const TYPE_DATA_WRITE_ACCESSED = 0b0011;
export const ATTR_FLAT_CODE = ATTR_G | ATTR_DB | ATTR_P | ATTR_S | TYPE_CODE_READ_ACCESSED; // 0xC09B
export const ATTR_FLAT_DATA = ATTR_G | ATTR_DB | ATTR_P | ATTR_S | TYPE_DATA_WRITE_ACCESSED; // 0xC093

const EFLAGS_RESERVED = 0b10;
const CR0_PE = 0b1;
const CR0_ET = 0b1_0000;

/**
 * An 8-byte segment descriptor (SDM Vol. 3A 3.4.5) for base 0, limit 0xFFFFF pages:
 *   63..56 base 31..24 | 55..52 G D/B L AVL | 51..48 limit 19..16 | 47..40 P DPL S type | 39..16 base 23..0 | 15..0 limit
 */
function writeFlatDescriptor(mem: GuestMemory, addr: number, attr: number): void {
  mem.u16(addr, 0xffff);
  mem.u16(addr + 2, 0);
  mem.u8(addr + 4, 0);
  mem.u8(addr + 5, attr & 0xff);
  mem.u8(addr + 6, ((attr >> 8) & 0xf0) | 0x0f);
  mem.u8(addr + 7, 0);
}

/** Writes the boot GDT (null, null, code at 0x10, data at 0x18) and returns the GDTR that points at it. */
export function writeBootGdt(mem: GuestMemory): { base: number; limit: number } {
  mem.fill(BOOT_GDT, 16);
  writeFlatDescriptor(mem, BOOT_GDT + BOOT_CS, ATTR_FLAT_CODE);
  writeFlatDescriptor(mem, BOOT_GDT + BOOT_DS, ATTR_FLAT_DATA);
  return { base: BOOT_GDT, limit: 4 * 8 - 1 };
}

/** The flat protected-mode entry state with the given registers; every register not named is zero. */
export function flatEntryState(gdtr: { base: number; limit: number }, regs: { eip: number; eax?: number; ebx?: number; esi?: number }): EntryState {
  const code: SegmentState = { selector: BOOT_CS, base: 0, limit: 0xffff_ffff, attr: ATTR_FLAT_CODE };
  const data = (): SegmentState => ({ selector: BOOT_DS, base: 0, limit: 0xffff_ffff, attr: ATTR_FLAT_DATA });
  return {
    eip: regs.eip >>> 0,
    eax: (regs.eax ?? 0) >>> 0, ebx: (regs.ebx ?? 0) >>> 0, ecx: 0, edx: 0,
    esi: (regs.esi ?? 0) >>> 0, edi: 0, ebp: 0, esp: INITIAL_ESP,
    eflags: EFLAGS_RESERVED,
    cr0: CR0_PE | CR0_ET,
    gdtr,
    idtr: { base: 0, limit: 0 },
    segments: { cs: code, ds: data(), es: data(), ss: data(), fs: data(), gs: data() },
  };
}
