// CPU state accessors. All guest state lives in the vCPU block at `cpu` (see src/layout/memory.ts); nothing
// about the guest is kept in module globals, so switching vCPUs is one assignment.
import {
  CPU_BASE, CPU_GPR, CPU_RIP, CPU_CPL, CPU_MODE, CPU_SEG, SEG_SIZE, SEG_SELECTOR, SEG_ATTR, SEG_LIMIT,
  SEG_VALID, SEG_BASE, CPU_CR0, CPU_CR4, CPU_A20, CPU_FLAGS, MODE_FLAT,
} from "../layout/memory";

/** Base address of the running vCPU's block. */
export let cpu: usize = CPU_BASE;
export function selectCpu(base: usize): void { cpu = base; }

// Register numbers in encoding order.
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

@inline export function reg32(r: u32): u32 { return load<u32>(cpu + CPU_GPR + (r << 3)); }
// SDM 3.4.1.1: in 32-bit modes the upper half of the 64-bit slot is undefined; zeroing it keeps long mode
// (where a 32-bit write zero-extends) and legacy mode on one path.
@inline export function setReg32(r: u32, v: u32): void { store<u64>(cpu + CPU_GPR + (r << 3), <u64>v); }
@inline export function reg16(r: u32): u32 { return <u32>load<u16>(cpu + CPU_GPR + (r << 3)); }
@inline export function setReg16(r: u32, v: u32): void { store<u16>(cpu + CPU_GPR + (r << 3), <u16>v); }
/** Byte registers AL CL DL BL AH CH DH BH (no REX). */
@inline export function reg8(r: u32): u32 {
  return <u32>load<u8>(cpu + CPU_GPR + ((r & 3) << 3) + (r >> 2));
}
@inline export function setReg8(r: u32, v: u32): void {
  store<u8>(cpu + CPU_GPR + ((r & 3) << 3) + (r >> 2), <u8>v);
}

@inline export function eip(): u32 { return load<u32>(cpu + CPU_RIP); }
@inline export function setEip(v: u32): void { store<u64>(cpu + CPU_RIP, <u64>v); }

@inline export function cpl(): u32 { return load<u32>(cpu + CPU_CPL); }
@inline export function mode(): u32 { return load<u32>(cpu + CPU_MODE); }
@inline export function setMode(m: u32): void { store<u32>(cpu + CPU_MODE, m); }
@inline export function cr0(): u32 { return load<u32>(cpu + CPU_CR0); }
@inline export function cr4(): u32 { return load<u32>(cpu + CPU_CR4); }
@inline export function a20(): bool { return load<u32>(cpu + CPU_A20) != 0; }

// Segment register caches.
@inline export function segPtr(s: u32): usize { return cpu + CPU_SEG + s * SEG_SIZE; }
@inline export function segSel(s: u32): u32 { return load<u32>(segPtr(s) + SEG_SELECTOR); }
@inline export function segBase(s: u32): u32 { return <u32>load<u64>(segPtr(s) + SEG_BASE); }
@inline export function segLimit(s: u32): u32 { return load<u32>(segPtr(s) + SEG_LIMIT); }
@inline export function segAttr(s: u32): u32 { return load<u32>(segPtr(s) + SEG_ATTR); }
@inline export function segValid(s: u32): u32 { return load<u32>(segPtr(s) + SEG_VALID); }

// SEG_VALID bits: what the cached descriptor allows, so an access checks one mask instead of decoding types.
export const SEGV_READ: u32 = 0b0001;
export const SEGV_WRITE: u32 = 0b0010;
export const SEGV_EXEC: u32 = 0b0100;
export const SEGV_EXPAND_DOWN: u32 = 0b1000;
export const SEGV_BIG: u32 = 0b1_0000; // D/B: 32-bit code, 32-bit stack, 4 GiB upper bound for expand-down

// Descriptor attribute bits as kept in SEG_ATTR (descriptor bits 40..55 shifted down by 40).
export const ATTR_ACCESSED: u32 = 0x0001;
export const ATTR_TYPE: u32 = 0x000f;
export const ATTR_S: u32 = 0x0010; // code/data (1) or system (0)
export const ATTR_DPL_SHIFT: u32 = 5;
export const ATTR_P: u32 = 0x0080;
export const ATTR_AVL: u32 = 0x1000;
export const ATTR_L: u32 = 0x2000;
export const ATTR_DB: u32 = 0x4000;
export const ATTR_G: u32 = 0x8000;
/** Attributes of a real-mode (and VM86) segment: present, read/write data, accessed (DPL 3 in VM86 is set apart). */
export const ATTR_REAL_DATA: u32 = ATTR_P | ATTR_S | 0b0011;

/**
 * Load a segment the real-mode way: base = selector << 4. The limit is kept (so "unreal mode" limits survive),
 * and the attributes become a present read/write data segment, keeping G and D/B: real mode performs no type
 * checks (SDM 20.1.1), so every segment must allow reads and writes.
 */
export function loadSegReal(s: u32, sel: u32): void {
  const p = segPtr(s);
  const attr = (load<u32>(p + SEG_ATTR) & (ATTR_G | ATTR_DB)) | ATTR_REAL_DATA;
  store<u32>(p + SEG_SELECTOR, sel & 0xffff);
  store<u64>(p + SEG_BASE, <u64>((sel & 0xffff) << 4));
  store<u32>(p + SEG_ATTR, attr);
  store<u32>(p + SEG_VALID, accessBits(attr));
  updateMode();
}

/** Fill a segment cache from raw parts and precompute its access bits. */
export function setSegCache(s: u32, sel: u32, base: u32, limit: u32, attr: u32): void {
  const p = segPtr(s);
  store<u32>(p + SEG_SELECTOR, sel & 0xffff);
  store<u64>(p + SEG_BASE, <u64>base);
  store<u32>(p + SEG_LIMIT, limit);
  store<u32>(p + SEG_ATTR, attr);
  store<u32>(p + SEG_VALID, accessBits(attr));
  updateMode();
}

export function accessBits(attr: u32): u32 {
  if ((attr & ATTR_P) == 0 || (attr & ATTR_S) == 0) return 0;
  let v: u32 = (attr & ATTR_DB) != 0 ? SEGV_BIG : 0;
  if ((attr & 0b1000) != 0) {
    // code: execute, readable when type bit 1 is set; never writable (SDM 3.4.5.1)
    v |= SEGV_EXEC;
    if ((attr & 0b0010) != 0) v |= SEGV_READ;
  } else {
    v |= SEGV_READ;
    if ((attr & 0b0010) != 0) v |= SEGV_WRITE;
    if ((attr & 0b0100) != 0) v |= SEGV_EXPAND_DOWN;
  }
  return v;
}

/** The segments as MODE_FLAT defines it: CS's limit 4 GiB; ES, SS and DS flat. */
function flatSegments(): bool {
  if (load<u32>(segPtr(1) + SEG_LIMIT) != 0xffff_ffff) return false;
  for (let s: u32 = 0; s < 4; s++) {
    if (s == 1) continue;
    const p = segPtr(s);
    if (load<u64>(p + SEG_BASE) != 0 || load<u32>(p + SEG_LIMIT) != 0xffff_ffff
      || (load<u32>(p + SEG_VALID) & (SEGV_READ | SEGV_WRITE | SEGV_EXPAND_DOWN)) != (SEGV_READ | SEGV_WRITE)) return false;
  }
  return true;
}

/** Recompute the MODE bits after CR0, EFLAGS.VM or a segment cache changed. */
export function updateMode(): void {
  // EFLAGS.VM is never held lazily, so the raw flags word has it.
  const vm86 = (load<u32>(cpu + CPU_FLAGS) & (1 << 17)) != 0 && (cr0() & 1) != 0;
  let m: u32 = 0;
  const c0 = cr0();
  if ((c0 & 1) != 0) m |= 1; // MODE_PROT
  if ((c0 & 0x8000_0000) != 0) m |= 16; // MODE_PAGING
  if (vm86) m |= 8;
  if ((segAttr(1) & ATTR_DB) != 0 && !vm86 && (c0 & 1) != 0) m |= 2; // CODE32
  if ((segAttr(2) & ATTR_DB) != 0 && !vm86 && (c0 & 1) != 0) m |= 4; // STACK32
  if ((c0 & 1) != 0 && !vm86 && flatSegments()) m |= MODE_FLAT;
  store<u32>(cpu + CPU_MODE, m);
}

export const SEG_SS_INDEX: u32 = 2;
@inline export function setCpl(v: u32): void { store<u32>(cpu + CPU_CPL, v); }
