// The TLB: one u32 entry per 4 KiB linear page per vCPU, indexed by the page number (no tag to compare), shared
// by the interpreter and translated code.
//
//  31                    12 11 10  7  6  5  4  3  2  1  0
// +------------------------+--+------+--+--+--+--+--+--+--+
// | host page ^ linear page|L | 0    |X |  |G |UW|UR|W |R |
// +------------------------+--+------+--+--+--+--+--+--+--+
//   R  supervisor read allowed (the entry is valid)     UR user read allowed
//   W  supervisor write allowed (page dirty, no code)   UW user write allowed
//   G  global page (kept across CR3 writes)             X  instruction fetch allowed
//   L  the entry is in the filled list (so a flush visits it)
//
// A hit is one load and one masked compare: (e & need) == need; the host address is then (e & 0xFFFFF000) ^
// the linear address (the page bits hold the host page XOR the linear page, as v86's TLB does: one operation
// fewer in every translated access than masking the page offset in). Entries are never built for MMIO pages, so every MMIO access misses. The table is 4 MiB of
// the wasm memory per vCPU, of which only the pages holding entries of linear pages in use are ever touched.
// (It replaced a 16384-entry direct-mapped table with tags, and the pages translated code remembered in
// locals to skip it: the inline lookup of a translated memory access is now about a third of its wasm.)
import { TLB_BASE, TLB_STRIDE, TLB_FILLED_LIST, TLB_FILLED_MAX, TLB_ENTRIES, CPU_BASE, CPU_STRIDE } from "../layout/memory";
import { journalState, journalFail } from "../wasm/journal";

export const TLB_R: u32 = 1;
export const TLB_W: u32 = 2;
export const TLB_UR: u32 = 4;
export const TLB_UW: u32 = 8;
export const TLB_G: u32 = 16;
export const TLB_X: u32 = 64;
export const TLB_LISTED: u32 = 1 << 11;

/** Base of the running vCPU's TLB block. */
export let tlb: usize = TLB_BASE;
export function selectTlb(cpuBase: usize): void {
  tlb = <usize>TLB_BASE + ((cpuBase - <usize>CPU_BASE) / <usize>CPU_STRIDE) * <usize>TLB_STRIDE;
}

@inline export function tlbSlot(lin: u32): usize { return tlb + (<usize>(lin >>> 12) << 2); }

/** The host address for `lin` if the TLB allows the access `need` (not 0), else 0 (host address 0 is never RAM). */
@inline export function tlbLookup(lin: u32, need: u32): usize {
  const e = load<u32>(tlbSlot(lin));
  if ((e & need) == need) return <usize>((e & 0xffff_f000) ^ lin);
  return 0;
}

export function tlbFill(lin: u32, hostPage: u32, flags: u32): void {
  const slot = tlbSlot(lin);
  const old = load<u32>(slot);
  journalState(slot);
  let listed = (old & TLB_LISTED) != 0;
  if (!listed) {
    const list = tlb + TLB_FILLED_LIST;
    const n = load<u32>(list);
    if (n < <u32>TLB_FILLED_MAX) {
      journalState(list); journalState(list + 4 + (n << 2));
      store<u32>(list + 4 + (n << 2), lin >>> 12);
      store<u32>(list, n + 1);
      listed = true;
    } else {
      // The list is full: the entry is not listed, and a flush clears the whole table (tlbFlush).
      journalState(list);
      store<u32>(list, <u32>TLB_FILLED_MAX + 1);
    }
  }
  store<u32>(slot, ((hostPage ^ lin) & 0xffff_f000) | flags | (listed ? TLB_LISTED : 0));
}

/** Invalidate every entry (keepGlobal: all but global pages). Costs what was filled, not the table size. */
export function tlbFlush(keepGlobal: bool): void {
  journalFail();
  const list = tlb + TLB_FILLED_LIST;
  const n = load<u32>(list);
  if (n > <u32>TLB_FILLED_MAX) {
    // Some entries are not listed: clear everything (global pages too; a TLB may drop any entry).
    memory.fill(tlb, 0, <usize>TLB_ENTRIES << 2);
    store<u32>(list, 0);
    return;
  }
  let kept: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const idx = load<u32>(list + 4 + (i << 2));
    const slot = tlb + (<usize>idx << 2);
    const e = load<u32>(slot);
    if (keepGlobal && (e & TLB_G) != 0) {
      store<u32>(list + 4 + (kept << 2), idx);
      kept++;
    } else {
      store<u32>(slot, 0);
    }
  }
  store<u32>(list, kept);
}

/** INVLPG: drop the entry for one page, global or not. The entry stays listed (a tombstone). */
export function tlbInvalidatePage(lin: u32): void {
  const slot = tlbSlot(lin);
  const e = load<u32>(slot);
  if ((e & ~TLB_LISTED) != 0) { journalState(slot); store<u32>(slot, e & TLB_LISTED); }
}

/** Remove write permission from every entry that maps host page `hostPage` (it now holds translated code). */
export function tlbProtectHostPage(hostPage: u32): void {
  const list = tlb + TLB_FILLED_LIST;
  const n = load<u32>(list);
  if (n > <u32>TLB_FILLED_MAX) { tlbFlush(false); return; } // unlisted entries may map it
  for (let i: u32 = 0; i < n; i++) {
    const idx = load<u32>(list + 4 + (i << 2));
    const slot = tlb + (<usize>idx << 2);
    const e = load<u32>(slot);
    if (((e & 0xffff_f000) ^ (idx << 12)) == hostPage) store<u32>(slot, e & ~(TLB_W | TLB_UW));
  }
}
