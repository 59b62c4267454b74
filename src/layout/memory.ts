// The one memory map of the wasm instance, imported by the AssemblyScript core and by the TypeScript host.
// Every value is a plain number literal so that both compilers read the file unchanged.
//
//   0x0000_0000  null guard (never used: a stray null pointer in the core shows up as a bug, not as state)
//   0x0000_1000  CPU_BASE: one CPU_STRIDE block per vCPU (registers, segment caches, control, x87, MSRs)
//   0x0010_0000  (unused)
//   0x0050_0000  CODE_BITMAP / DIRTY_BITMAP: one bit per 4 KiB physical page below 4 GiB
//   0x0060_0000  PHYS_MAP: one u32 per 4 KiB physical page below 4 GiB (host address | kind)
//   0x00A0_0000  DCACHE_BASE: decoded-instruction cache (DCACHE_ENTRIES x 32 bytes)
//   0x00C0_0000  JIT_BASE: tables of the translator (code cache index, block table)
//   0x0100_0000  AS_DATA_BASE: AssemblyScript static data and its (never freeing) heap
//   0x0200_0000  TLB_BASE: one TLB_STRIDE block per vCPU (an entry per linear page + list of filled entries)
//   0x0700_0000  RAM_BASE: guest RAM, then the ROM images; devices see it as a Uint8Array view
// Only what is touched takes host memory: a TLB block's pages as the guest's linear pages are used.
export const PAGE_SIZE = 4096;
export const WASM_PAGE = 65536;

export const MAX_CPUS = 16;
export const CPU_BASE = 0x0000_1000;
export const CPU_STRIDE = 0x2000;

export const TLB_BASE = 0x0200_0000;
export const TLB_STRIDE = 0x0048_0000;
export const TLB_ENTRIES = 0x0010_0000; // one u32 per 4 KiB linear page of the 4 GiB space
export const TLB_FILLED_LIST = 0x0040_0000; // offset in a TLB block: u32 count, then u32 entry indices
export const TLB_FILLED_MAX = 0x0001_ffff; // entries the list holds; a flush past it clears the whole table

export const CODE_BITMAP = 0x0050_0000;
export const DIRTY_BITMAP = 0x0052_0000;
export const PHYS_MAP = 0x0060_0000;
export const DCACHE_BASE = 0x00a0_0000;
export const DCACHE_ENTRIES = 65536; // direct-mapped by the host address of the instruction's first byte
export const JIT_BASE = 0x00c0_0000;
// The translator's tables inside JIT_BASE .. AS_DATA_BASE (see src/wasm/cache.ts):
export const JIT_MAP = 0x00c0_0000; // JIT_MAP_ENTRIES x 16 bytes, four-way set-associative, hashed host address
export const JIT_MAP_ENTRIES = 65536;
export const JIT_PAGE_GEN = 0x00d0_0000; // u16 per 4 KiB of host memory from RAM_BASE: bumped when the page is written
export const JIT_PAGE_GEN_PAGES = 0x000f_9000; // (4 GiB - RAM_BASE) / 4 KiB
export const JIT_OUT = 0x00ef_c000; // the module being built, read by the host to compile it
export const JIT_OUT_SIZE = 0x0010_3000;
export const JIT_STATS = 0x00ff_f000; // counters (JIT_STAT_*), read by the host for --jit-stats
export const JIT_STAT_COMPILED = 0x00; // u32 blocks translated
export const JIT_STAT_INVALIDATED = 0x04; // u32 writes that made a code page's translations stale
export const JIT_STAT_FLUSHES = 0x08; // u32 times every translation was dropped (tables full, host cap, reset)
export const JIT_PENDING_LIST = 0x100; // u32 count, then the map slot of each block of the module in JIT_OUT (0: none)
export const JIT_PENDING_DELTAS = 0x200; // u32 per block of the pending module: its EIP minus the first block's
export const JIT_STAT_INSNS = 0x10; // u64 guest instructions retired inside translated code
export const JIT_STAT_NATIVE = 0x18; // u64 translated instructions emitted as native wasm (the rest call the interpreter)
export const JIT_STAT_EMITTED = 0x20; // u64 translated instructions emitted in all
export const JIT_STAT_EVICTED = 0x28; // u32 compiled blocks whose map slot other code took over
export const JIT_STAT_ENTRIES = 0x30; // u64 calls from the run loop into translated code
export const JIT_CHECK = 0x400; // check mode (src/wasm/check.ts): its report, at these offsets from JIT_STATS + JIT_CHECK
export const JIT_CHECK_BAD = 0x00; // u32 1: a difference was found (the machine stopped)
export const JIT_CHECK_EIP = 0x04; // u32 EIP where the checked call started
export const JIT_CHECK_RETIRED = 0x08; // u32 instructions the translated code retired
export const JIT_CHECK_WHAT = 0x0c; // u32 what differed: 0..7 a register, 8 EIP, 9 EFLAGS, 10 memory, 11 a segment cache, 12 CR2, 13 halted/shadow, 14 the interpreter faulted, 15 the block faulted, 16 the fault vector, 17 the x87 state
export const JIT_CHECK_JIT = 0x10; // u32 the translated code's value
export const JIT_CHECK_INTERP = 0x14; // u32 the interpreter's value
export const JIT_CHECK_ADDR = 0x18; // u32 host address (memory) or CPU-block offset (segment cache)
export const JIT_CHECK_AT = 0x1c; // u32 interpreter steps done when it was found
export const JIT_CHECK_CHECKED = 0x20; // u64 calls checked
export const JIT_CHECK_UNCHECKED = 0x28; // u64 calls that could not be repeated (I/O, MMIO, time, mode changes)
export const JIT_CHECK_HOST = 0x30; // u32 host address of the code at JIT_CHECK_EIP
export const JIT_CHECK_JIT_EIP = 0x34; // u32 EIP the translated code left
export const JIT_CHECK_TRAIL = 0x40; // u32 x 16: EIPs of the interpreter's last instructions, oldest first
export const JIT_CHECK_TRAIL_LEN = 16;
export const AS_DATA_BASE = 0x0100_0000;
export const RAM_BASE = 0x0700_0000;

// PHYS_MAP entry: bits 31..12 host address of the page (RAM and ROM), bits 1..0 its kind.
export const PHYS_RAM = 0;
export const PHYS_ROM = 1; // read-only: writes are dropped
export const PHYS_MMIO = 2; // every access goes to the host's MMIO bus
export const PHYS_KIND_MASK = 3;

// ---- The CPU block (offsets from the vCPU's base) ----
// General-purpose registers in 64-bit slots, in encoding order: rAX rCX rDX rBX rSP rBP rSI rDI r8..r15.
export const CPU_GPR = 0x000;
export const CPU_RIP = 0x080;
export const CPU_FLAGS = 0x088; // EFLAGS bits not held lazily (see CPU_LF_MASK)
export const CPU_LF_MASK = 0x08c; // arithmetic flags whose value is computed from the lazy operands
export const CPU_LF_OP = 0x090;
export const CPU_LF_SIZE = 0x094; // 0: 8-bit, 1: 16-bit, 2: 32-bit, 3: 64-bit
export const CPU_LF_RES = 0x098; // u64
export const CPU_LF_SRC1 = 0x0a0; // u64
export const CPU_LF_SRC2 = 0x0a8; // u64
export const CPU_CPL = 0x0b0;
export const CPU_MODE = 0x0b4; // MODE_* bits, derived from CR0, EFLAGS.VM and CS/SS caches
export const CPU_HALTED = 0x0b8;
export const CPU_SHADOW = 0x0bc; // interrupt shadow after STI / MOV SS / POP SS
export const CPU_CR0 = 0x0c0;
export const CPU_CR2 = 0x0c8; // u64
export const CPU_CR3 = 0x0d0; // u64
export const CPU_CR4 = 0x0d8;
export const CPU_EFER = 0x0e0; // u64
export const CPU_CR8 = 0x0e8;
export const CPU_A20 = 0x0ec; // 1: A20 enabled (address bit 20 passes through)

// Segment registers ES CS SS DS FS GS, then LDTR and TR, SEG_SIZE bytes each.
export const CPU_SEG = 0x100;
export const SEG_SIZE = 0x20;
export const SEG_SELECTOR = 0x00; // u32 (low 16 bits)
export const SEG_ATTR = 0x04; // u32: descriptor bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) in bits 0..15
export const SEG_LIMIT = 0x08; // u32: byte-granular effective limit
export const SEG_VALID = 0x0c; // u32: SEGV_* access rights precomputed for the fast path
export const SEG_BASE = 0x10; // u64
export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;
export const SEG_LDTR = 6;
export const SEG_TR = 7;

export const CPU_GDTR_BASE = 0x200; // u64
export const CPU_GDTR_LIMIT = 0x208;
export const CPU_IDTR_BASE = 0x210; // u64
export const CPU_IDTR_LIMIT = 0x218;
export const CPU_DR = 0x220; // DR0..DR7, u64 each
export const CPU_TSC_OFFSET = 0x260; // i64: TSC = host ticks + offset
export const CPU_INSN_COUNT = 0x268; // u64: instructions retired since reset
export const CPU_MSR = 0x280; // MSR_* slots, u64 each (see msrSlot() in src/cpu/ops/system.ts)
/** The host's CPUID masks (leaf 1 EDX, leaf 0x80000001 EDX) in the MSR area; they survive a reset. */
export const CPU_CPUID_MASK = 0x280;
export const CPU_CPUID_EXT_MASK = 0x3a0;
export const CPUID_EDX_APIC = 0x200;
export const CPU_PDPTE = 0x3c0; // PAE: the four PDPTEs loaded with CR3 (SDM 4.4.1), u64 each

export const CPU_FPU = 0x400; // x87 state (see src/cpu/x87)
export const CPU_EXIT = 0x700; // run() exit details
export const CPU_EXIT_REASON = 0x700;
export const CPU_EXIT_INFO = 0x704;
export const CPU_INTR = 0x708; // 1 while the interrupt controller holds INTR high
export const CPU_NMI = 0x70c; // 1: an NMI is pending
export const CPU_STOP = 0x710; // the host sets it to end run() at the next instruction boundary
export const CPU_UD_COUNT = 0x800; // u32 per opcode of the one-byte and 0F maps: #UD raised for it
export const CPU_UD_COUNT_LEN = 528; // 512 opcodes, then 16 system-descriptor types (far transfers via gates)

// MODE bits
export const MODE_PROT = 1; // CR0.PE
export const MODE_CODE32 = 2; // CS.D
export const MODE_STACK32 = 4; // SS.B
export const MODE_VM86 = 8; // EFLAGS.VM
export const MODE_PAGING = 16; // CR0.PG
/**
 * ES, SS and DS are flat: base 0, limit 4 GiB, readable and writable, not expand-down; and CS's limit is 4 GiB
 * (protected mode, not VM86). Translated code keyed by it uses data offsets as linear addresses and branches
 * without checking the target against the CS limit (no 32-bit target exceeds it).
 */
export const MODE_FLAT = 0x40;

// Why run() returned.
export const EXIT_BUDGET = 0; // the instruction budget was spent
export const EXIT_HLT = 1; // the CPU halted with interrupts enabled: sleep until an interrupt
export const EXIT_STOP = 2; // the host asked (CPU_STOP), e.g. after a device requested power off
export const EXIT_RESET = 3; // triple fault or a reset request: the machine must reset
export const EXIT_SHUTDOWN = 4; // HLT with interrupts disabled: nothing can wake the CPU but NMI or reset
export const EXIT_BREAK = 5; // single-step harness: the requested number of instructions ran
export const EXIT_COMPILE = 6; // a block was translated into JIT_OUT: the host compiles and installs it, then runs on

// ---- x87 FPU state inside CPU_FPU (see src/cpu/x87/state.ts) ----
export const CPU_FPU_ST = 0x400; // physical registers R0..R7, CPU_FPU_REG_SIZE bytes each: u64 significand, u16 sign+exponent
export const CPU_FPU_REG_SIZE = 0x10;
export const CPU_FPU_CW = 0x480; // u32: control word
export const CPU_FPU_SW = 0x484; // u32: status word, TOP in bits 13..11
export const CPU_FPU_TW = 0x488; // u32: full tag word (2 bits per physical register)
export const CPU_FPU_FOP = 0x48c; // u32: last opcode (11 bits)
export const CPU_FPU_FIP = 0x490; // u32: last instruction pointer (offset; linear after a real-mode FLDENV)
export const CPU_FPU_FCS = 0x494; // u32: its CS selector
export const CPU_FPU_FDP = 0x498; // u32: last data pointer (offset)
export const CPU_FPU_FDS = 0x49c; // u32: its segment selector
export const CPU_FPU_FERR = 0x4a0; // u32: 1 while FERR# is asserted (CR0.NE = 0 and an unmasked exception is pending)
export const CPU_FPU_IGNNE = 0x4a4; // u32: the host sets it to 1 to assert IGNNE# (port F0h); cleared with FERR#
