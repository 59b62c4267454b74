// The decoded-instruction cache: decode() records each instruction it decoded from RAM, keyed by the host
// address of its first byte (that is, by physical address) and the code size. The entry is the decoded
// record itself: the interpreter executes from it in place (decode.ts's `rec` points at it), so a hit costs a
// tag compare, not a copy. A page with cached instructions is marked in CODE_BITMAP; writes to it leave the
// TLB fast path (no write permission is cached for it) and invalidate its entries, so self-modifying code, DMA
// and host writes never run stale decodings. The JIT will key on the same bitmap.
//
// An entry, which is also the layout of the decoded-instruction record (32 bytes):
//   +0  u32 host address of the instruction's first byte (0: empty; unused in the scratch record)
//   +4  u16 opcode: 0x000-0x0FF the one-byte map, 0x100-0x1FF the 0F map
//   +6  u8  prefixes (PFX_* in decode.ts)
//   +7  u8  R_F_CODE32 (the key: decoded as 32-bit code) | R_F_UD (raises #UD: unimplemented, or LOCK misused)
//   +8  u8 operand size (2 or 4)   +9  u8 32-bit addressing   +10 u8 segment of the memory operand
//   +11 u8 ModRM   +12 u8 mod (3: register operand)   +13 u8 reg   +14 u8 rm   +15 u8 length in bytes
//   +16 i8 base register (-1: none)   +17 i8 index register (-1: none)   +18 u8 scale shift   +19 unused
//   +20 u32 displacement   +24 u32 immediate   +28 u32 second immediate
import { DCACHE_BASE, DCACHE_ENTRIES, CODE_BITMAP, RAM_BASE } from "../layout/memory";
import { tlbProtectHostPage } from "../mmu/tlb";
import { jitInvalidatePage, jitFlushAll } from "../wasm/cache";

export const R_TAG: u32 = 0;
export const R_OP: u32 = 4;
export const R_PFX: u32 = 6;
export const R_FLAGS: u32 = 7;
export const R_OSZ: u32 = 8;
export const R_A32: u32 = 9;
export const R_SEG: u32 = 10;
export const R_MODRM: u32 = 11;
export const R_MOD: u32 = 12;
export const R_REG: u32 = 13;
export const R_RM: u32 = 14;
export const R_LEN: u32 = 15;
export const R_BASE: u32 = 16;
export const R_INDEX: u32 = 17;
export const R_SCALE: u32 = 18;
export const R_DISP: u32 = 20;
export const R_IMM: u32 = 24;
export const R_IMM2: u32 = 28;
export const R_SIZE: u32 = 32;

export const R_F_CODE32: u8 = 1;
export const R_F_UD: u8 = 2;

@inline export function dcSlot(host: usize): usize {
  return <usize>DCACHE_BASE + ((host & <usize>(DCACHE_ENTRIES - 1)) << 5);
}

@inline function codeBitAddr(page: u32): usize { return <usize>CODE_BITMAP + <usize>(page >>> 3); }

/** Mark the physical page holding host address `host` as holding cached code (first time only). */
export function markCodePage(host: usize): void {
  const page = <u32>((host - <usize>RAM_BASE) >>> 12);
  const a = codeBitAddr(page);
  const bit = <u8>(<u32>1 << (page & 7));
  if ((load<u8>(a) & bit) != 0) return;
  store<u8>(a, load<u8>(a) | bit);
  // Writes to this page must now leave the fast path so they can invalidate what is cached.
  tlbProtectHostPage(<u32>(host & ~<usize>0xfff));
}

/**
 * Physical page `phys` (RAM) is being written and holds cached code: drop its entries and its mark. The page's
 * 4096 offsets map to 4096 consecutive slots (the index is the host address's low 16 bits).
 */
export function invalidateCodePage(phys: u32): void {
  const page = phys >>> 12;
  const a = codeBitAddr(page);
  store<u8>(a, load<u8>(a) & ~<u8>(<u32>1 << (page & 7)));
  const hostPage = <usize>RAM_BASE + <usize>(phys & 0xffff_f000);
  const first = dcSlot(hostPage);
  for (let i: usize = 0; i < 4096; i++) {
    const slot = first + (i << 5);
    if (<usize>load<u32>(slot + R_TAG) - hostPage < 4096) store<u32>(slot + R_TAG, 0);
  }
  jitInvalidatePage(hostPage);
}

/** Forget everything (machine reset, firmware reload). */
export function flushDecodeCache(): void {
  memory.fill(<usize>DCACHE_BASE, 0, <usize>DCACHE_ENTRIES << 5);
  memory.fill(<usize>CODE_BITMAP, 0, (1 << 20) >>> 3);
  jitFlushAll();
}
