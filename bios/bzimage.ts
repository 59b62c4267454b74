// The Linux/x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst): parse the real-mode kernel
// header, place the protected-mode kernel, the command line and the initrd, fill the zero page (struct
// boot_params, Documentation/arch/x86/zero-page.rst) and describe the CPU state the kernel expects.
import { flatEntryState, writeBootGdt, type EntryState } from './cpu-state';
import { E820Type, type E820Entry } from './e820';
import { CmdlineTooLongError, DoesNotFitError, NotBzImageError, ProtocolTooOldError, hex, sizeText } from './errors';
import { FileReader, GuestMemory, asciiZ } from './guest-memory';
import { CMDLINE, CMDLINE_MAX, FOUR_GIB, HIGH_MEMORY, PAGE, ZERO_PAGE, ZERO_PAGE_SIZE, alignDown, alignUp } from './layout';

// ---- The real-mode kernel header (boot.rst "The Real-Mode Kernel Header"): offsets in the file and in boot_params
const HDR_SETUP_SECTS = 0x1f1;
const HDR_SYSSIZE = 0x1f4;
const HDR_BOOT_FLAG = 0x1fe;
const HDR_JUMP = 0x200; // a short jump whose 8-bit displacement at 0x201 marks the end of the header
const HDR_HEADER = 0x202;
const HDR_VERSION = 0x206;
const HDR_TYPE_OF_LOADER = 0x210;
const HDR_LOADFLAGS = 0x211;
const HDR_CODE32_START = 0x214;
const HDR_RAMDISK_IMAGE = 0x218;
const HDR_RAMDISK_SIZE = 0x21c;
const HDR_HEAP_END_PTR = 0x224;
const HDR_CMD_LINE_PTR = 0x228;
const HDR_INITRD_ADDR_MAX = 0x22c;
const HDR_KERNEL_ALIGNMENT = 0x230;
const HDR_RELOCATABLE_KERNEL = 0x234;
const HDR_MIN_ALIGNMENT = 0x235;
const HDR_XLOADFLAGS = 0x236;
const HDR_CMDLINE_SIZE = 0x238;
const HDR_PREF_ADDRESS = 0x258;
const HDR_INIT_SIZE = 0x260;

const HDRS_MAGIC = 0x5372_6448; // "HdrS", little-endian
const BOOT_FLAG_MAGIC = 0xaa55;

// ---- boot_params outside the header (zero-page.rst)
const BP_SCREEN_INFO = 0x000;
const SI_EXT_MEM_K = 0x02;
const SI_ORIG_VIDEO_IS_VGA = 0x0f;
const BP_ACPI_RSDP_ADDR = 0x070;
const BP_EXT_RAMDISK_IMAGE = 0x0c0;
const BP_EXT_RAMDISK_SIZE = 0x0c4;
const BP_EXT_CMD_LINE_PTR = 0x0c8;
const BP_ALT_MEM_K = 0x1e0;
const BP_E820_ENTRIES = 0x1e8;
const BP_HDR_END_LIMIT = 0x290; // edd_mbr_sig_buffer follows the header
const BP_E820_TABLE = 0x2d0;
const E820_MAX_ENTRIES_ZEROPAGE = 128;
const E820_ENTRY_SIZE = 20;

/** loadflags (boot.rst "Details of Header Fields"). */
const LOADED_HIGH = 0b0000_0001;
const CAN_USE_HEAP = 0b1000_0000;

/** boot.rst "type_of_loader": "If your boot loader does not have an assigned ID ... enter 0xFF here." */
const LOADER_TYPE_UNDEFINED = 0xff;
/** boot.rst: heap_end_ptr is "the end of the setup stack/heap, minus 0x0200" (64 KiB real-mode segment). */
const HEAP_END_PTR = 0xfe00;

/** Protocol 2.06 is the oldest with cmdline_size; everything this loader fills exists from there on. */
export const MIN_PROTOCOL = 0x0206;
const PROTOCOL_2_10 = 0x020a; // pref_address, init_size, min_alignment
const PROTOCOL_2_12 = 0x020c; // xloadflags
const PROTOCOL_2_14 = 0x020e; // acpi_rsdp_addr is read by the kernel
/** boot.rst "initrd_addr_max": "For boot protocol 2.02 or earlier ... 0x37FFFFFF". */
const DEFAULT_INITRD_ADDR_MAX = 0x37ff_ffff;

/** What the setup header says, decoded. */
export interface SetupHeader {
  version: number;
  /** Sectors of real-mode setup code after the boot sector (0 in the file means 4). */
  setupSects: number;
  /** Size of the protected-mode code in bytes (the header gives 16-byte paragraphs). */
  sysBytes: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  minAlignment: number;
  xloadflags: number;
  cmdlineSize: number;
  prefAddress: number;
  /** Linear memory from the runtime start the kernel needs before it reads the memory map (0 before 2.10). */
  initSize: number;
  /** First byte after the setup header: 0x202 + the jump displacement at 0x201. */
  headerEnd: number;
}

function versionText(v: number): string { return `${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}`; }

/** Parses and validates the setup header of a bzImage; throws NotBzImageError or ProtocolTooOldError. */
export function parseSetupHeader(kernel: Uint8Array): SetupHeader {
  const r = new FileReader(kernel, (what) => new NotBzImageError(`kernel image is not a bzImage: it ends before its ${what} (${sizeText(kernel.length)})`));
  if (kernel.length < HDR_HEADER + 4 || r.u32(HDR_HEADER, 'setup header') !== HDRS_MAGIC) {
    throw new NotBzImageError('kernel image is not a Linux bzImage (no "HdrS" setup header at 0x202); for a multiboot kernel use the multiboot loader');
  }
  const version = r.u16(HDR_VERSION, 'protocol version');
  if (version < MIN_PROTOCOL) {
    throw new ProtocolTooOldError(`kernel boot protocol ${versionText(version)} is too old: wasmpc needs ${versionText(MIN_PROTOCOL)} or newer (Linux 2.6.22+)`, version);
  }
  if (r.u16(HDR_BOOT_FLAG, 'boot flag') !== BOOT_FLAG_MAGIC) throw new NotBzImageError('kernel image has no 0xAA55 boot flag at 0x1FE: not a bzImage');
  const loadflags = r.u8(HDR_LOADFLAGS, 'loadflags');
  if (!(loadflags & LOADED_HIGH)) throw new NotBzImageError('kernel image is a zImage (loaded at 0x10000): only bzImage kernels (LOADED_HIGH) are supported');
  const sects = r.u8(HDR_SETUP_SECTS, 'setup_sects');
  const v210 = version >= PROTOCOL_2_10;
  const header: SetupHeader = {
    version,
    setupSects: sects === 0 ? 4 : sects,
    sysBytes: r.u32(HDR_SYSSIZE, 'syssize') * 16,
    loadflags,
    code32Start: r.u32(HDR_CODE32_START, 'code32_start'),
    initrdAddrMax: r.u32(HDR_INITRD_ADDR_MAX, 'initrd_addr_max') || DEFAULT_INITRD_ADDR_MAX,
    kernelAlignment: r.u32(HDR_KERNEL_ALIGNMENT, 'kernel_alignment'),
    relocatable: r.u8(HDR_RELOCATABLE_KERNEL, 'relocatable_kernel') !== 0,
    minAlignment: v210 ? r.u8(HDR_MIN_ALIGNMENT, 'min_alignment') : 0,
    xloadflags: version >= PROTOCOL_2_12 ? r.u16(HDR_XLOADFLAGS, 'xloadflags') : 0,
    cmdlineSize: r.u32(HDR_CMDLINE_SIZE, 'cmdline_size'),
    prefAddress: v210 ? r.u64(HDR_PREF_ADDRESS, 'pref_address') : HIGH_MEMORY,
    initSize: v210 ? r.u32(HDR_INIT_SIZE, 'init_size') : 0,
    headerEnd: Math.min(HDR_HEADER + r.u8(HDR_JUMP + 1, 'header jump'), BP_HDR_END_LIMIT),
  };
  const setupBytes = (header.setupSects + 1) * 512;
  if (kernel.length <= setupBytes) throw new NotBzImageError(`kernel image is truncated: ${sizeText(kernel.length)} holds no code after its ${setupBytes}-byte setup area`);
  if (setupBytes + header.sysBytes > kernel.length) {
    throw new NotBzImageError(`kernel image is truncated: the header promises ${sizeText(header.sysBytes)} of protected-mode code but the file has ${sizeText(kernel.length - setupBytes)}`);
  }
  if (header.kernelAlignment === 0 || (header.kernelAlignment & (header.kernelAlignment - 1)) !== 0) header.kernelAlignment = HIGH_MEMORY;
  return header;
}

export interface BzImageOptions {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  /** Guest RAM, indexed by guest-physical address (at least up to the end of low RAM). */
  ram: Uint8Array;
  e820: readonly E820Entry[];
  /** The ACPI root pointer, handed over in boot_params.acpi_rsdp_addr (protocol 2.14+); absent: the kernel scans. */
  acpiRsdp?: number;
}

export interface BzImageLoad {
  entry: EntryState;
  header: SetupHeader;
  /** Where the protected-mode image was copied (also code32_start and EIP). */
  loadAddress: number;
  /** Where the kernel will decompress itself to and run: [runtimeStart, runtimeStart + initSize). */
  runtimeStart: number;
  zeroPage: number;
  cmdline: number;
  initrd?: { base: number; size: number };
}

/** The usable RAM range that starts at 1 MiB: where the kernel, its decompression footprint and the initrd go. */
function highRamRange(e820: readonly E820Entry[]): { base: number; end: number } {
  const high = e820.find((e) => e.type === E820Type.Ram && e.base <= HIGH_MEMORY && e.base + e.length > HIGH_MEMORY);
  return high ? { base: HIGH_MEMORY, end: Math.min(high.base + high.length, FOUR_GIB) } : { base: HIGH_MEMORY, end: HIGH_MEMORY };
}

/**
 * Loads a bzImage for the 32-bit boot protocol (boot.rst "32-bit Boot Protocol"): "the CPU must be in 32-bit
 * protected mode with paging disabled; a GDT must be loaded with the descriptors for selectors __BOOT_CS(0x10)
 * and __BOOT_DS(0x18) ... %esi must hold the base address of the struct boot_params; %ebp, %edi and %ebx must
 * be zero." The entry point is code32_start, the address the protected-mode image was loaded at.
 */
export function loadBzImage(options: BzImageOptions): BzImageLoad {
  const { kernel, initrd, cmdline, e820 } = options;
  const header = parseSetupHeader(kernel);
  const image = kernel.subarray((header.setupSects + 1) * 512);

  // boot.rst "cmdline_size": "The maximum size of the command line without the terminating zero."
  const cmdlineLimit = Math.min(header.cmdlineSize || 255, CMDLINE_MAX - 1);
  if (cmdline.length > cmdlineLimit) {
    throw new CmdlineTooLongError(`kernel command line is ${cmdline.length} bytes but this kernel accepts at most ${cmdlineLimit}`, cmdlineLimit);
  }

  const ram = highRamRange(e820);
  const usableEnd = Math.min(ram.end, options.ram.length);
  // boot.rst "init_size": runtime_start = relocatable ? align_up(load, kernel_alignment) : pref_address, and the
  // decompressor never runs below LOAD_PHYSICAL_ADDR (= pref_address), arch/x86/boot/compressed/head_32.S.
  const runtimeFor = (load: number): number =>
    Math.max(header.relocatable ? alignUp(load, header.kernelAlignment) : 0, header.prefAddress);
  const footprintEnd = (load: number): number => Math.max(load + image.length, runtimeFor(load) + Math.max(header.initSize, image.length));
  // boot.rst "pref_address": a relocating loader "should attempt to load at this address if possible"; loading
  // there spares the decompressor a copy. Otherwise the classic 0x100000.
  const prefFits = header.relocatable && header.prefAddress >= HIGH_MEMORY && header.prefAddress % PAGE === 0 && footprintEnd(header.prefAddress) <= usableEnd;
  const loadAddress = prefFits ? header.prefAddress : HIGH_MEMORY;
  const kernelEnd = footprintEnd(loadAddress);
  if (kernelEnd > usableEnd) {
    throw new DoesNotFitError(`kernel needs RAM up to ${hex(kernelEnd)} (image ${sizeText(image.length)}, init_size ${sizeText(header.initSize)} from ${hex(runtimeFor(loadAddress))}) but usable RAM ends at ${hex(usableEnd)}: give the machine more memory`, 'kernel');
  }

  // boot.rst "Loading the Rest of the Kernel": the initrd goes as high as initrd_addr_max and RAM allow, page
  // aligned, here below the ACPI tables (which end the usable range) and above the kernel's footprint.
  let initrdPlace: { base: number; size: number } | undefined;
  if (initrd) {
    const ceiling = Math.min(usableEnd, header.initrdAddrMax + 1);
    const base = alignDown(ceiling - initrd.length, PAGE);
    if (initrd.length === 0 || base < alignUp(kernelEnd, PAGE)) {
      throw new DoesNotFitError(initrd.length === 0 ? 'initrd is empty' : `initrd of ${sizeText(initrd.length)} does not fit between the kernel (ending at ${hex(kernelEnd)}) and ${hex(ceiling)}: give the machine more memory`, 'initrd');
    }
    initrdPlace = { base, size: initrd.length };
  }

  const mem = new GuestMemory(options.ram);
  mem.bytes(loadAddress, image);
  if (initrd && initrdPlace) mem.bytes(initrdPlace.base, initrd);
  mem.bytes(CMDLINE, asciiZ(cmdline));
  writeZeroPage(mem, kernel, header, { loadAddress, initrd: initrdPlace, e820, acpiRsdp: options.acpiRsdp, highRamKiB: (usableEnd - HIGH_MEMORY) >>> 10 });

  const gdtr = writeBootGdt(mem);
  return {
    entry: flatEntryState(gdtr, { eip: loadAddress, esi: ZERO_PAGE }),
    header,
    loadAddress,
    runtimeStart: runtimeFor(loadAddress),
    zeroPage: ZERO_PAGE,
    cmdline: CMDLINE,
    ...(initrdPlace ? { initrd: initrdPlace } : {}),
  };
}

interface ZeroPageInputs {
  loadAddress: number;
  initrd: { base: number; size: number } | undefined;
  e820: readonly E820Entry[];
  acpiRsdp: number | undefined;
  highRamKiB: number;
}

/** zero-page.rst and boot.rst "Details of Header Fields" (the fields marked "write" for the boot loader). */
function writeZeroPage(mem: GuestMemory, kernel: Uint8Array, header: SetupHeader, z: ZeroPageInputs): void {
  const bp = ZERO_PAGE;
  mem.fill(bp, ZERO_PAGE_SIZE);
  // boot.rst "32-bit Boot Protocol": "the setup header should be loaded into struct boot_params" from offset
  // 0x01f1 of the kernel image, up to 0x0202 + the byte at 0x0201.
  mem.bytes(bp + HDR_SETUP_SECTS, kernel.subarray(HDR_SETUP_SECTS, header.headerEnd));

  // screen_info: no video (orig_video_lines/cols 0 make vgacon stand down); the console is a serial port.
  mem.u8(bp + BP_SCREEN_INFO + SI_ORIG_VIDEO_IS_VGA, 0);
  mem.u16(bp + BP_SCREEN_INFO + SI_EXT_MEM_K, Math.min(z.highRamKiB, 0xffff));
  mem.u32(bp + BP_ALT_MEM_K, z.highRamKiB);

  mem.u8(bp + HDR_TYPE_OF_LOADER, LOADER_TYPE_UNDEFINED);
  mem.u8(bp + HDR_LOADFLAGS, header.loadflags | CAN_USE_HEAP);
  mem.u16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
  mem.u32(bp + HDR_CODE32_START, z.loadAddress);
  mem.u32(bp + HDR_CMD_LINE_PTR, CMDLINE);
  mem.u32(bp + HDR_RAMDISK_IMAGE, z.initrd?.base ?? 0);
  mem.u32(bp + HDR_RAMDISK_SIZE, z.initrd?.size ?? 0);
  // Everything sits below 4 GiB: the high halves stay zero.
  mem.u32(bp + BP_EXT_RAMDISK_IMAGE, 0);
  mem.u32(bp + BP_EXT_RAMDISK_SIZE, 0);
  mem.u32(bp + BP_EXT_CMD_LINE_PTR, 0);
  if (z.acpiRsdp !== undefined && header.version >= PROTOCOL_2_14) mem.u64(bp + BP_ACPI_RSDP_ADDR, z.acpiRsdp);

  const entries = z.e820.slice(0, E820_MAX_ENTRIES_ZEROPAGE);
  mem.u8(bp + BP_E820_ENTRIES, entries.length);
  entries.forEach((e, i) => {
    const at = bp + BP_E820_TABLE + i * E820_ENTRY_SIZE;
    mem.u64(at, e.base);
    mem.u64(at + 8, e.length);
    mem.u32(at + 16, e.type);
  });
}
