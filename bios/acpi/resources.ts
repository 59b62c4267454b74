// Resource descriptors for ResourceTemplate() buffers (ACPI 6.5 6.4, "Resource Data Types for ACPI"): the
// small items IO, IRQ and End, and the large items Memory32Fixed, Word/DWord Address Space and Extended
// Interrupt. Each function returns the descriptor bytes; resourceTemplate() wraps them in a Buffer.
import { FirmwareConfigError } from '../errors';
import { buffer, type Aml } from './aml';

// 6.4.2 small resource tags: bit 7 = 0, bits 6..3 item name, bits 2..0 length.
const SMALL_IRQ_NO_FLAGS = 0x22; // IRQ format, 2 bytes: mask only
const SMALL_IRQ = 0x23; // IRQ format, 3 bytes: mask and information
const SMALL_IO = 0x47; // I/O port, 7 bytes
const SMALL_END_TAG = 0x79; // End tag, 1 byte: checksum
// 6.4.3 large resource tags: bit 7 = 1, bits 6..0 item name, then a 16-bit length.
const LARGE_MEMORY32_FIXED = 0x86;
const LARGE_DWORD_ADDRESS_SPACE = 0x87;
const LARGE_WORD_ADDRESS_SPACE = 0x88;
const LARGE_EXTENDED_INTERRUPT = 0x89;

/** 6.4.2.5 I/O port information: bit 0 set = the device decodes 16 address bits. */
const IO_DECODE16 = 0b1;

/** 6.4.3.5 Address Space resource types. */
const ADDRESS_MEMORY = 0;
const ADDRESS_IO = 1;
const ADDRESS_BUS_NUMBER = 2;
/**
 * General flags (Table 6.48): bit 3 _MAF (max fixed), bit 2 _MIF (min fixed), bit 1 _DEC (subtractive), bit 0
 * consumer. A host bridge's windows are fixed, positively decoded and produced for its children.
 */
const GENERAL_PRODUCER_FIXED = 0b1100;
/** I/O type-specific flags: bits 1..0 _RNG = 3, both ISA and non-ISA ranges. */
const IO_ENTIRE_RANGE = 0b11;
/** Memory type-specific flags: bit 0 _RW read-write; bits 2..1 _MEM: 0 non-cacheable, 1 cacheable. */
const MEM_READ_WRITE = 0b1;
const MEM_CACHEABLE = 0b010;

/** IRQ information (6.4.2.1): bit 0 _HE edge, bit 3 _LL active low, bit 4 _SHR shared. */
export interface IrqFlags { edge: boolean; activeLow: boolean; shared: boolean }

function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}

function irqMask(irqs: readonly number[]): number {
  let mask = 0;
  for (const irq of irqs) {
    if (irq < 0 || irq > 15) throw new FirmwareConfigError(`an IRQ descriptor holds ISA IRQs 0-15, not ${irq}`);
    mask |= 1 << irq;
  }
  return mask;
}

/** ASL IO (Decode16, min, max, alignment, length): 6.4.2.5. */
export function io(min: number, max: number, alignment: number, length: number): number[] {
  return [SMALL_IO, IO_DECODE16, ...le(min, 2), ...le(max, 2), alignment, length];
}

/** ASL IRQNoFlags () {irqs}: 6.4.2.1 with the 2-byte form (edge, active high, exclusive). */
export function irqNoFlags(...irqs: number[]): number[] {
  return [SMALL_IRQ_NO_FLAGS, ...le(irqMask(irqs), 2)];
}

/** ASL IRQ (Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) {irqs}: 6.4.2.1 with the information byte. */
export function irq(flags: IrqFlags, ...irqs: number[]): number[] {
  const info = (flags.edge ? 0b1 : 0) | (flags.activeLow ? 0b1000 : 0) | (flags.shared ? 0b1_0000 : 0);
  return [SMALL_IRQ, ...le(irqMask(irqs), 2), info];
}

/** ASL Memory32Fixed (ReadWrite, base, length): 6.4.3.4. */
export function memory32Fixed(base: number, length: number): number[] {
  return [LARGE_MEMORY32_FIXED, ...le(9, 2), MEM_READ_WRITE, ...le(base, 4), ...le(length, 4)];
}

/** Word Address Space (6.4.3.5.3): granularity 0, translation 0, length max - min + 1. */
function wordAddress(type: number, typeFlags: number, min: number, max: number): number[] {
  return [LARGE_WORD_ADDRESS_SPACE, ...le(13, 2), type, GENERAL_PRODUCER_FIXED, typeFlags,
    ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}

/** ASL WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, count). */
export function wordBusNumber(min: number, max: number): number[] { return wordAddress(ADDRESS_BUS_NUMBER, 0, min, max); }

/** ASL WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length). */
export function wordIo(min: number, max: number): number[] { return wordAddress(ADDRESS_IO, IO_ENTIRE_RANGE, min, max); }

/** ASL DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable|NonCacheable, ReadWrite, ...): 6.4.3.5.2. */
export function dwordMemory(min: number, max: number, cacheable: boolean): number[] {
  return [LARGE_DWORD_ADDRESS_SPACE, ...le(23, 2), ADDRESS_MEMORY, GENERAL_PRODUCER_FIXED, MEM_READ_WRITE | (cacheable ? MEM_CACHEABLE : 0),
    ...le(0, 4), ...le(min, 4), ...le(max, 4), ...le(0, 4), ...le(max - min + 1, 4)];
}

/** ASL Interrupt (ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) {gsis}: 6.4.3.6. */
export function interrupt(flags: IrqFlags, ...gsis: number[]): number[] {
  const info = 0b1 | (flags.edge ? 0b10 : 0) | (flags.activeLow ? 0b100 : 0) | (flags.shared ? 0b1000 : 0);
  return [LARGE_EXTENDED_INTERRUPT, ...le(2 + 4 * gsis.length, 2), info, gsis.length, ...gsis.flatMap((g) => le(g, 4))];
}

/**
 * ASL ResourceTemplate () {...}: a Buffer of the descriptors and an End tag (6.4.2.9) whose checksum byte is 0,
 * which "the resource data is treated as if the checksum operation succeeded".
 */
export function resourceTemplate(...descriptors: number[][]): Aml {
  return buffer([...descriptors.flat(), SMALL_END_TAG, 0]);
}
