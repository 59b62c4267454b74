// The TLB: a direct-mapped table of u64 entries per vCPU, shared by the interpreter and translated code.
//
//  63                 32 31                   12 11 10  7  6  5  4  3  2  1  0
// +---------------------+-----------------------+--+------+--+--+--+--+--+--+--+
// | tag: vpn >> TLB_BITS | host address of page  |L | 0    |X |  |G |UW|UR|W |R |
// +---------------------+-----------------------+--+------+--+--+--+--+--+--+--+
//   R  supervisor read allowed (the entry is valid)     UR user read allowed
//   W  supervisor write allowed (page dirty, no code)   UW user write allowed
//   G  global page (kept across CR3 writes)             X  instruction fetch allowed
//   L  the slot is in the filled list (so a flush visits it)
//
// A hit is one load and one masked compare: (e & (TAG | need)) == (tag | need); the host address is then
// (e & 0xFFFFF000) + page offset. Entries are never built for MMIO pages, so every MMIO access misses.
import { TLB_BASE, TLB_STRIDE, TLB_BITS, TLB_ENTRIES, TLB_FILLED_LIST, CPU_BASE, CPU_STRIDE } from "../layout/memory";
import { journalState, journalFail } from "../wasm/journal";

export const TLB_R: u32 = 1;
export const TLB_W: u32 = 2;
export const TLB_UR: u32 = 4;
export const TLB_UW: u32 = 8;
export const TLB_G: u32 = 16;
export const TLB_X: u32 = 64;
export const TLB_LISTED: u32 = 1 << 11;
export const TLB_TAG_MASK: u64 = 0xffff_ffff_0000_0000;

/** Base of the running vCPU's TLB block. */
export let tlb: usize = TLB_BASE;
export function selectTlb(cpuBase: usize): void {
  tlb = <usize>TLB_BASE + ((cpuBase - <usize>CPU_BASE) / <usize>CPU_STRIDE) * <usize>TLB_STRIDE;
}

@inline export function tlbSlot(lin: u64): usize { return tlb + ((<usize>(lin >> 12) & (TLB_ENTRIES - 1)) << 3); }
@inline export function tlbTag(lin: u64): u64 { return (lin >> (12 + TLB_BITS)) << 32; }

/** The host address for `lin` if the TLB allows the access `need`, else 0 (host address 0 is never RAM). */
@inline export function tlbLookup(lin: u32, need: u32): usize {
  const e = load<u64>(tlbSlot(lin));
  if ((e & (TLB_TAG_MASK | <u64>need)) == (tlbTag(lin) | <u64>need)) {
    return ((<usize>e) & 0xffff_f000) + (lin & 0xfff);
  }
  return 0;
}

export function tlbFill(lin: u32, hostPage: u32, flags: u32): void {
  const slot = tlbSlot(lin);
  const old = load<u64>(slot);
  journalState(slot); journalState(slot + 4);
  if ((<u32>old & TLB_LISTED) == 0) {
    const list = tlb + TLB_FILLED_LIST;
    const n = load<u32>(list);
    journalState(list); journalState(list + 4 + (n << 2));
    store<u32>(list + 4 + (n << 2), <u32>((slot - tlb) >> 3));
    store<u32>(list, n + 1);
  }
  store<u64>(slot, tlbTag(lin) | <u64>(hostPage & 0xffff_f000) | <u64>(flags | TLB_LISTED));
}

/** Invalidate every entry (keepGlobal: all but global pages). Costs what was filled, not the table size. */
export function tlbFlush(keepGlobal: bool): void {
  journalFail();
  const list = tlb + TLB_FILLED_LIST;
  const n = load<u32>(list);
  let kept: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const idx = load<u32>(list + 4 + (i << 2));
    const slot = tlb + (<usize>idx << 3);
    const e = load<u64>(slot);
    if (keepGlobal && (<u32>e & TLB_G) != 0) {
      store<u32>(list + 4 + (kept << 2), idx);
      kept++;
    } else {
      store<u64>(slot, 0);
    }
  }
  store<u32>(list, kept);
}

/** INVLPG: drop the entry for one page, global or not. The slot stays listed (a tombstone). */
export function tlbInvalidatePage(lin: u32): void {
  const slot = tlbSlot(lin);
  const e = load<u64>(slot);
  if ((e & TLB_TAG_MASK) == tlbTag(lin)) { journalState(slot); journalState(slot + 4); store<u64>(slot, <u64>TLB_LISTED); }
}

/** Remove write permission from every entry that maps host page `hostPage` (it now holds translated code). */
export function tlbProtectHostPage(hostPage: u32): void {
  const list = tlb + TLB_FILLED_LIST;
  const n = load<u32>(list);
  for (let i: u32 = 0; i < n; i++) {
    const slot = tlb + (<usize>load<u32>(list + 4 + (i << 2)) << 3);
    const e = load<u64>(slot);
    if (((<u32>e) & 0xffff_f000) == hostPage) store<u64>(slot, e & ~<u64>(TLB_W | TLB_UW));
  }
}
