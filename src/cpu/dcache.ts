// The decoded-instruction cache: decode() records each instruction it decoded from RAM, keyed by the host
// address of its first byte (that is, by physical address) and the code size, so executing it again restores
// the decoded record instead of decoding. A page with cached instructions is marked in CODE_BITMAP; writes to
// it leave the TLB fast path (no write permission is cached for it) and invalidate its entries, so
// self-modifying code, DMA and host writes never run stale decodings. The JIT will key on the same bitmap.
//
// An entry (32 bytes):
//   +0  u32 host address of the instruction (0: empty)
//   +4  u32 key: 1 | (code32 << 1)
//   +8  u32 dOp[8:0] dPfx[14:9] osz4[15] a32[16] dSeg[19:17] dReg[22:20] dRm[25:23] dMod[27:26] len[31:28]
//   +12 u32 (dBase+1)[4:0] (dIndex+1)[9:5] dScale[11:10] dModrm[23:16]
//   +16 u32 dDisp, +20 u32 dImm, +24 u32 dImm2
import { DCACHE_BASE, DCACHE_ENTRIES, CODE_BITMAP, RAM_BASE } from "../layout/memory";
import { tlbProtectHostPage } from "../mmu/tlb";

export const DC_TAG: u32 = 0;
export const DC_KEY: u32 = 4;
export const DC_W0: u32 = 8;
export const DC_W1: u32 = 12;
export const DC_DISP: u32 = 16;
export const DC_IMM: u32 = 20;
export const DC_IMM2: u32 = 24;

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
    if (<usize>load<u32>(slot + DC_TAG) - hostPage < 4096) store<u32>(slot + DC_TAG, 0);
  }
}

/** Forget everything (machine reset, firmware reload). */
export function flushDecodeCache(): void {
  memory.fill(<usize>DCACHE_BASE, 0, <usize>DCACHE_ENTRIES << 5);
  memory.fill(<usize>CODE_BITMAP, 0, (1 << 20) >>> 3);
}
