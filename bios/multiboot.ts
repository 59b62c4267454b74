// Multiboot 0.6.96 (version 1): find the header, load an ELF32 kernel by its PT_LOAD segments or an image by the
// a.out kludge addresses, build the multiboot information structure and describe the machine state of 3.2.
import { flatEntryState, writeBootGdt, type EntryState } from './cpu-state';
import { E820Type, legacyMemorySizes, type E820Entry } from './e820';
import { DoesNotFitError, MultibootError, hex, sizeText } from './errors';
import { FileReader, GuestMemory, asciiZ } from './guest-memory';
import { CMDLINE, CMDLINE_MAX, FOUR_GIB, HIGH_MEMORY, MULTIBOOT_INFO, MULTIBOOT_INFO_SIZE, PAGE, alignDown, alignUp } from './layout';

// 3.1.1 "The layout of Multiboot header": within the first 8192 bytes, 32-bit aligned.
const HEADER_MAGIC = 0x1bad_b002;
const SEARCH_BYTES = 8192;
const MB_HEADER_FLAGS = 4;
const MB_HEADER_CHECKSUM = 8;
const MB_HEADER_ADDR = 12;
const MB_LOAD_ADDR = 16;
const MB_LOAD_END_ADDR = 20;
const MB_BSS_END_ADDR = 24;
const MB_ENTRY_ADDR = 28;

// 3.1.2 "The magic fields of Multiboot header": bits 0-15 are requirements a loader must refuse if it does not
// understand them, bits 16-31 optional features.
const FLAG_PAGE_ALIGN = 1 << 0; // modules on 4 KiB boundaries: this loader always aligns them
const FLAG_MEMORY_INFO = 1 << 1; // mem_* and mmap_*: always provided
const FLAG_VIDEO_MODE = 1 << 2; // a video mode table: no video here
const FLAG_AOUT_KLUDGE = 1 << 16;
const REQUIRED_MASK = 0xffff;
const SUPPORTED_REQUIRED = FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO;

/** 3.2 "Machine state": "EAX Must contain the magic value 0x2BADB002". */
export const BOOTLOADER_MAGIC = 0x2bad_b002;

// 3.3 "Boot information format": offsets in multiboot_info and the bits of its flags word.
const MBI_FLAGS = 0;
const MBI_MEM_LOWER = 4;
const MBI_MEM_UPPER = 8;
const MBI_CMDLINE = 16;
const MBI_MODS_COUNT = 20;
const MBI_MODS_ADDR = 24;
const MBI_MMAP_LENGTH = 44;
const MBI_MMAP_ADDR = 48;
const MBI_BOOT_LOADER_NAME = 64;
const MBI_SIZE = 116; // through the framebuffer fields of 0.6.96
const INFO_MEMORY = 1 << 0;
const INFO_CMDLINE = 1 << 2;
const INFO_MODS = 1 << 3;
const INFO_MEM_MAP = 1 << 6;
const INFO_BOOT_LOADER_NAME = 1 << 9;
const MMAP_ENTRY_SIZE = 24; // the size field (4) does not count itself: it holds 20
const MODULE_ENTRY_SIZE = 16; // mod_start, mod_end, string, reserved

export const BOOT_LOADER_NAME = 'wasmpc';

// ELF32 (System V ABI, "ELF Header" and "Program Header") fields this loader reads.
const ELF_MAGIC = 0x464c_457f; // "\x7fELF"
const EI_CLASS = 4;
const EI_DATA = 5;
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const E_TYPE = 0x10;
const E_MACHINE = 0x12;
const E_ENTRY = 0x18;
const E_PHOFF = 0x1c;
const E_PHENTSIZE = 0x2a;
const E_PHNUM = 0x2c;
const ET_EXEC = 2;
const EM_386 = 3;
const PT_LOAD = 1;
const PHDR_SIZE = 32;

export interface MultibootOptions {
  kernel: Uint8Array;
  /** Loaded as the one module (3.3 "mods"), page aligned, as high as RAM allows. */
  initrd?: Uint8Array;
  /** The module's string; GRUB passes the module's path and arguments. */
  moduleString?: string;
  cmdline: string;
  ram: Uint8Array;
  e820: readonly E820Entry[];
}

export interface MultibootLoad {
  entry: EntryState;
  /** Header offset in the file and its flags. */
  headerOffset: number;
  flags: number;
  /** The memory the kernel image occupies once loaded: [start, end). */
  kernelRange: { start: number; end: number };
  info: number;
  module?: { start: number; end: number };
}

interface Segment { paddr: number; data: Uint8Array; memsz: number }

/** Finds the multiboot header: the first 32-bit aligned magic whose checksum sums with it and the flags to 0. */
export function findMultibootHeader(kernel: Uint8Array): { offset: number; flags: number } | undefined {
  const view = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const limit = Math.min(kernel.length, SEARCH_BYTES) - 12;
  for (let at = 0; at <= limit; at += 4) {
    if (view.getUint32(at, true) !== HEADER_MAGIC) continue;
    const flags = view.getUint32(at + MB_HEADER_FLAGS, true);
    if (((HEADER_MAGIC + flags + view.getUint32(at + MB_HEADER_CHECKSUM, true)) >>> 0) === 0) return { offset: at, flags };
  }
  return undefined;
}

function aoutKludgeSegments(kernel: Uint8Array, headerOffset: number): { segments: Segment[]; entry: number } {
  const r = new FileReader(kernel, (what) => new MultibootError(`multiboot header is truncated: no ${what}`));
  const headerAddr = r.u32(headerOffset + MB_HEADER_ADDR, 'header_addr');
  const loadAddr = r.u32(headerOffset + MB_LOAD_ADDR, 'load_addr');
  const loadEndAddr = r.u32(headerOffset + MB_LOAD_END_ADDR, 'load_end_addr');
  const bssEndAddr = r.u32(headerOffset + MB_BSS_END_ADDR, 'bss_end_addr');
  const entry = r.u32(headerOffset + MB_ENTRY_ADDR, 'entry_addr');
  // 3.1.3: header_addr is where the header itself lands, so the file offset of load_addr follows from it.
  if (loadAddr > headerAddr || headerAddr - loadAddr > headerOffset) {
    throw new MultibootError(`multiboot a.out kludge: load_addr ${hex(loadAddr)} and header_addr ${hex(headerAddr)} do not match the header's file offset ${hex(headerOffset)}`);
  }
  const fileStart = headerOffset - (headerAddr - loadAddr);
  const loadBytes = loadEndAddr === 0 ? kernel.length - fileStart : loadEndAddr - loadAddr;
  if (loadEndAddr !== 0 && (loadEndAddr < loadAddr || fileStart + loadBytes > kernel.length)) {
    throw new MultibootError(`multiboot a.out kludge: load_end_addr ${hex(loadEndAddr)} lies outside the ${sizeText(kernel.length)} file`);
  }
  const end = loadAddr + loadBytes;
  if (bssEndAddr !== 0 && bssEndAddr < end) throw new MultibootError(`multiboot a.out kludge: bss_end_addr ${hex(bssEndAddr)} is below the loaded image end ${hex(end)}`);
  const memsz = (bssEndAddr || end) - loadAddr;
  return { segments: [{ paddr: loadAddr, data: kernel.subarray(fileStart, fileStart + loadBytes), memsz }], entry };
}

function elfSegments(kernel: Uint8Array): { segments: Segment[]; entry: number } {
  const r = new FileReader(kernel, (what) => new MultibootError(`multiboot kernel is not a valid ELF32 file: it ends inside its ${what}`));
  if (kernel.length < 4 || r.u32(0, 'ELF magic') !== ELF_MAGIC) {
    throw new MultibootError('multiboot kernel is neither ELF nor marked with the a.out kludge (flag bit 16): cannot tell where to load it');
  }
  if (r.u8(EI_CLASS, 'ident') !== ELFCLASS32 || r.u8(EI_DATA, 'ident') !== ELFDATA2LSB) throw new MultibootError('multiboot kernel is not a little-endian ELF32 file (ELF64 kernels need the a.out kludge)');
  if (r.u16(E_TYPE, 'header') !== ET_EXEC || r.u16(E_MACHINE, 'header') !== EM_386) throw new MultibootError('multiboot kernel is not an i386 executable (ELF e_type EXEC, e_machine 386)');
  const phoff = r.u32(E_PHOFF, 'header');
  const phentsize = r.u16(E_PHENTSIZE, 'header');
  const phnum = r.u16(E_PHNUM, 'header');
  if (phentsize < PHDR_SIZE) throw new MultibootError(`multiboot kernel has program headers of ${phentsize} bytes (ELF32 needs ${PHDR_SIZE})`);
  let entry = r.u32(E_ENTRY, 'header');
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (r.u32(ph, 'program headers') !== PT_LOAD) continue;
    const offset = r.u32(ph + 4, 'program headers');
    const vaddr = r.u32(ph + 8, 'program headers');
    const paddr = r.u32(ph + 12, 'program headers');
    const filesz = r.u32(ph + 16, 'program headers');
    const memsz = r.u32(ph + 20, 'program headers');
    if (filesz > memsz) throw new MultibootError(`multiboot kernel segment ${i} has p_filesz ${hex(filesz)} above p_memsz ${hex(memsz)}`);
    segments.push({ paddr, data: r.slice(offset, filesz, `segment ${i} data`), memsz });
    // A higher-half kernel's e_entry is virtual: run it at the physical address of the same byte (as GRUB does).
    if (entry >= vaddr && entry - vaddr < memsz) entry = paddr + (entry - vaddr);
  }
  if (segments.length === 0) throw new MultibootError('multiboot kernel has no PT_LOAD segment');
  return { segments, entry };
}

/** Loads a Multiboot v1 kernel and fills the boot information; EAX = 0x2BADB002, EBX = the info address. */
export function loadMultiboot(options: MultibootOptions): MultibootLoad {
  const { kernel, initrd, cmdline, e820 } = options;
  const header = findMultibootHeader(kernel);
  if (!header) throw new MultibootError('kernel has no multiboot header (magic 0x1BADB002 with a valid checksum in its first 8 KiB)');
  const unsupported = header.flags & REQUIRED_MASK & ~SUPPORTED_REQUIRED;
  if (unsupported) {
    const what = unsupported & FLAG_VIDEO_MODE ? ' (bit 2: a video mode; wasmpc boots without video)' : '';
    throw new MultibootError(`multiboot kernel requires header flags ${hex(unsupported)} that wasmpc does not support${what}`);
  }
  const { segments, entry } = header.flags & FLAG_AOUT_KLUDGE ? aoutKludgeSegments(kernel, header.offset) : elfSegments(kernel);
  if (cmdline.length > CMDLINE_MAX - 1) throw new MultibootError(`kernel command line is ${cmdline.length} bytes; wasmpc passes at most ${CMDLINE_MAX - 1}`);

  const high = e820.find((e) => e.type === E820Type.Ram && e.base <= HIGH_MEMORY && e.base + e.length > HIGH_MEMORY);
  const usableEnd = Math.min(high ? high.base + high.length : HIGH_MEMORY, options.ram.length, FOUR_GIB);
  let start = Infinity;
  let end = 0;
  for (const s of segments) {
    if (s.memsz === 0) continue;
    if (s.paddr < HIGH_MEMORY) throw new MultibootError(`multiboot kernel segment at ${hex(s.paddr)} lies below 1 MiB, where the firmware keeps its tables`);
    if (s.paddr + s.memsz > usableEnd) {
      throw new DoesNotFitError(`multiboot kernel segment ${hex(s.paddr)}-${hex(s.paddr + s.memsz - 1)} does not fit in RAM ending at ${hex(usableEnd)}: give the machine more memory`, 'kernel');
    }
    start = Math.min(start, s.paddr);
    end = Math.max(end, s.paddr + s.memsz);
  }
  if (end === 0) throw new MultibootError('multiboot kernel loads no bytes');

  let module: { start: number; end: number } | undefined;
  if (initrd) {
    const base = alignDown(usableEnd - initrd.length, PAGE);
    if (initrd.length === 0 || base < alignUp(end, PAGE)) {
      throw new DoesNotFitError(initrd.length === 0 ? 'initrd is empty' : `module of ${sizeText(initrd.length)} does not fit between the kernel (ending at ${hex(end)}) and ${hex(usableEnd)}: give the machine more memory`, 'module');
    }
    module = { start: base, end: base + initrd.length };
  }

  const mem = new GuestMemory(options.ram);
  for (const s of segments) {
    mem.bytes(s.paddr, s.data);
    mem.fill(s.paddr + s.data.length, s.memsz - s.data.length);
  }
  if (initrd && module) mem.bytes(module.start, initrd);
  mem.bytes(CMDLINE, asciiZ(cmdline));
  writeInfo(mem, e820, module, options.moduleString ?? 'initrd');

  const gdtr = writeBootGdt(mem);
  return {
    entry: flatEntryState(gdtr, { eip: entry, eax: BOOTLOADER_MAGIC, ebx: MULTIBOOT_INFO }),
    headerOffset: header.offset,
    flags: header.flags,
    kernelRange: { start, end },
    info: MULTIBOOT_INFO,
    ...(module ? { module } : {}),
  };
}

/** 3.3: the info structure, then the memory map, the module list and the strings in the same area. */
function writeInfo(mem: GuestMemory, e820: readonly E820Entry[], module: { start: number; end: number } | undefined, moduleString: string): void {
  const info = MULTIBOOT_INFO;
  mem.fill(info, MULTIBOOT_INFO_SIZE);
  let next = info + MBI_SIZE;
  const place = (bytes: number): number => { const at = alignUp(next, 8); next = at + bytes; return at; };

  const mmap = place(e820.length * MMAP_ENTRY_SIZE);
  e820.forEach((e, i) => {
    const at = mmap + i * MMAP_ENTRY_SIZE;
    mem.u32(at, MMAP_ENTRY_SIZE - 4);
    mem.u64(at + 4, e.base);
    mem.u64(at + 12, e.length);
    mem.u32(at + 20, e.type);
  });
  const name = asciiZ(BOOT_LOADER_NAME);
  const nameAt = place(name.length);
  mem.bytes(nameAt, name);

  let flags = INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MEM_MAP | INFO_BOOT_LOADER_NAME;
  const sizes = legacyMemorySizes(e820);
  mem.u32(info + MBI_MEM_LOWER, sizes.lowerKiB);
  mem.u32(info + MBI_MEM_UPPER, sizes.upperKiB);
  mem.u32(info + MBI_CMDLINE, CMDLINE);
  mem.u32(info + MBI_MMAP_LENGTH, e820.length * MMAP_ENTRY_SIZE);
  mem.u32(info + MBI_MMAP_ADDR, mmap);
  mem.u32(info + MBI_BOOT_LOADER_NAME, nameAt);
  if (module) {
    const text = asciiZ(moduleString);
    const textAt = place(text.length);
    mem.bytes(textAt, text);
    const list = place(MODULE_ENTRY_SIZE);
    mem.u32(list, module.start);
    mem.u32(list + 4, module.end);
    mem.u32(list + 8, textAt);
    mem.u32(info + MBI_MODS_COUNT, 1);
    mem.u32(info + MBI_MODS_ADDR, list);
  } else {
    flags &= ~INFO_MODS;
  }
  if (next > info + MULTIBOOT_INFO_SIZE) throw new DoesNotFitError(`multiboot information needs ${next - info} bytes, more than the ${MULTIBOOT_INFO_SIZE} reserved for it`, 'firmware');
  mem.u32(info + MBI_FLAGS, flags);
}
