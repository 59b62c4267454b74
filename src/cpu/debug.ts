// Debug registers (SDM 17.2-17.3): instruction breakpoints (faults, checked before an instruction runs, with
// EFLAGS.RF suppressing a repeat), data breakpoints (traps, reported after the instruction that touched a
// watched range), single-step status, and general detect. Nothing costs anything while DR7 enables no
// breakpoint: `debugActive` gates every check, and pages holding a data breakpoint are kept out of the TLB so
// only the slow memory path needs to look.
import { CPU_DR } from "../layout/memory";
import { cpu } from "./state";

/** Some breakpoint is enabled in DR7 (L0-L3 or G0-G3). */
export let debugActive: bool = false;
/** Some enabled breakpoint watches data (R/W = 01 or 11). */
export let dataWatch: bool = false;
/** DR6 B0-B3 bits of data breakpoints hit by the current instruction (reported as a trap after it). */
export let pendingDataHits: u32 = 0;

export const DR6_BD: u32 = 1 << 13;
export const DR6_BS: u32 = 1 << 14;
export const DR6_BT: u32 = 1 << 15;
export const DR7_GD: u32 = 1 << 13;

@inline export function dr(n: u32): u32 { return <u32>load<u64>(cpu + CPU_DR + (n << 3)); }
@inline function setDr(n: u32, v: u32): void { store<u64>(cpu + CPU_DR + (n << 3), <u64>v); }

@inline function enabled(dr7: u32, n: u32): bool { return ((dr7 >> (n * 2)) & 3) != 0; }
@inline function rwBits(dr7: u32, n: u32): u32 { return (dr7 >> (16 + n * 4)) & 3; }
/** Breakpoint length in bytes from LENn (00: 1, 01: 2, 11: 4; 10 is undefined on P6, treated as 8). */
@inline function lenBytes(dr7: u32, n: u32): u32 {
  const l = (dr7 >> (18 + n * 4)) & 3;
  return l == 0 ? 1 : l == 1 ? 2 : l == 3 ? 4 : 8;
}

/** Recompute the gates after DR7 (or a DRn) changed. */
export function debugRegistersChanged(): void {
  const dr7 = dr(7);
  debugActive = (dr7 & 0xff) != 0;
  let data = false;
  for (let n: u32 = 0; n < 4; n++) if (enabled(dr7, n) && (rwBits(dr7, n) & 1) != 0) data = true;
  dataWatch = data;
}

/** DR6 bits of the instruction breakpoints that match linear address `lin` (R/W = 00, LEN ignored). */
export function instructionHits(lin: u32): u32 {
  const dr7 = dr(7);
  let hits: u32 = 0;
  for (let n: u32 = 0; n < 4; n++) if (enabled(dr7, n) && rwBits(dr7, n) == 0 && dr(n) == lin) hits |= 1 << n;
  return hits;
}

/** Record data breakpoints that an access of `size` bytes at `lin` hits (`write`: R/W = 01 or 11; reads: 11). */
export function checkDataAccess(lin: u32, size: u32, write: bool): void {
  const dr7 = dr(7);
  for (let n: u32 = 0; n < 4; n++) {
    if (!enabled(dr7, n)) continue;
    const rw = rwBits(dr7, n);
    if (rw == 1 ? !write : rw != 3) continue;
    // The breakpoint covers [DRn & ~(len-1), +len) (SDM 17.2.5: the address is aligned to its length).
    const len = lenBytes(dr7, n);
    const start = dr(n) & ~(len - 1);
    if (lin < start + len && start < lin + size) pendingDataHits |= 1 << n;
  }
}

/** Whether the 4 KiB page at `lin` holds an enabled data breakpoint (its translations stay out of the TLB). */
export function pageWatched(lin: u32): bool {
  if (!dataWatch) return false;
  const dr7 = dr(7);
  for (let n: u32 = 0; n < 4; n++) {
    if (enabled(dr7, n) && (rwBits(dr7, n) & 1) != 0 && ((dr(n) ^ lin) & 0xffff_f000) == 0) return true;
  }
  return false;
}

export function clearPendingData(): void { pendingDataHits = 0; }

/** Set `bits` in DR6 (B0-B3 are replaced by the new hits, BD/BS/BT accumulate, as on P6). */
export function reportDr6(bits: u32): void {
  const old = dr(6);
  setDr(6, (old & ~<u32>0xf) | bits | 0xffff_0ff0);
}
