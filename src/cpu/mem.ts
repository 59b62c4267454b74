// Guest memory accesses for instructions: segmentation (limit and type checks) on top of the MMU's linear
// accesses (TLB fast path, page walk on a miss). Every function may fault: callers check `faulted` after it.
import { SEG_LIMIT, SEG_VALID, SEG_BASE } from "../layout/memory";
import { segPtr, SEGV_READ, SEGV_WRITE, SEGV_EXPAND_DOWN, SEGV_BIG, SEG_SS_INDEX } from "./state";
import { raise, EXC_GP, EXC_SS, faulted } from "./exceptions";
import { tlbLookup, TLB_R, TLB_W, TLB_UR, TLB_UW } from "../mmu/tlb";
import { translate, lastPhys, lastPhysHigh, ACC_READ, ACC_WRITE } from "../mmu/paging";
import { physRead, physWrite } from "../mmu/phys";
import { dataWatch, checkDataAccess } from "./debug";
import { journal } from "../wasm/journal";

/** True while data accesses are made at user privilege (CPL 3, not an implicit supervisor access). */
export let accUser: bool = false;
export function setAccessUser(u: bool): void { accUser = u; }

@inline function needR(): u32 { return accUser ? TLB_UR : TLB_R; }
@inline function needW(): u32 { return accUser ? TLB_UW : TLB_W; }

// ---- linear accesses ----
// A page-crossing access translates its second page at the page's first byte, which is the address CR2 gets
// if that page faults (what Bochs and QEMU report; the SDM does not say).
function slowRead(lin: u32, size: u32): u32 {
  if (dataWatch) checkDataAccess(lin, size, false);
  const last = lin + size - 1;
  if (((lin ^ last) & 0xffff_f000) != 0) {
    // Page-crossing: both pages must translate before any byte is read (a fault leaves nothing behind).
    if (!translate(lin, ACC_READ, accUser)) return 0;
    const p0 = lastPhys, h0 = lastPhysHigh;
    if (!translate(last & 0xffff_f000, ACC_READ, accUser)) return 0;
    const p1 = lastPhys, h1 = lastPhysHigh;
    const n0: u32 = 4096 - (lin & 0xfff);
    let v: u32 = 0;
    for (let i: u32 = 0; i < size; i++) {
      let b: u32;
      if (i < n0) b = h0 ? 0xff : physRead(p0 + i, 1);
      else b = h1 ? 0xff : physRead((p1 & 0xffff_f000) + (i - n0), 1);
      v |= b << (i << 3);
    }
    return v;
  }
  if (!translate(lin, ACC_READ, accUser)) return 0;
  // Above 4 GiB nothing is mapped: open bus reads all ones.
  if (lastPhysHigh) return size == 4 ? 0xffff_ffff : (<u32>1 << (size << 3)) - 1;
  return physRead(lastPhys, size);
}

function slowWrite(lin: u32, size: u32, v: u32): void {
  if (dataWatch) checkDataAccess(lin, size, true);
  const last = lin + size - 1;
  if (((lin ^ last) & 0xffff_f000) != 0) {
    if (!translate(lin, ACC_WRITE, accUser)) return;
    const p0 = lastPhys, h0 = lastPhysHigh;
    if (!translate(last & 0xffff_f000, ACC_WRITE, accUser)) return;
    const p1 = lastPhys, h1 = lastPhysHigh;
    const n0: u32 = 4096 - (lin & 0xfff);
    for (let i: u32 = 0; i < size; i++) {
      const b = (v >>> (i << 3)) & 0xff;
      if (i < n0) { if (!h0) physWrite(p0 + i, 1, b); }
      else if (!h1) physWrite((p1 & 0xffff_f000) + (i - n0), 1, b);
    }
    return;
  }
  if (!translate(lin, ACC_WRITE, accUser)) return;
  if (!lastPhysHigh) physWrite(lastPhys, size, v);
}

@inline export function readLin8(lin: u32): u32 {
  const h = tlbLookup(lin, needR());
  if (h != 0) return <u32>load<u8>(h);
  return slowRead(lin, 1);
}
@inline export function readLin16(lin: u32): u32 {
  if ((lin & 0xfff) != 0xfff) {
    const h = tlbLookup(lin, needR());
    if (h != 0) return <u32>load<u16>(h);
  }
  return slowRead(lin, 2);
}
@inline export function readLin32(lin: u32): u32 {
  if ((lin & 0xfff) <= 0xffc) {
    const h = tlbLookup(lin, needR());
    if (h != 0) return load<u32>(h);
  }
  return slowRead(lin, 4);
}
@inline export function writeLin8(lin: u32, v: u32): void {
  const h = tlbLookup(lin, needW());
  if (h != 0) { journal(h, 1); store<u8>(h, <u8>v); return; }
  slowWrite(lin, 1, v);
}
@inline export function writeLin16(lin: u32, v: u32): void {
  if ((lin & 0xfff) != 0xfff) {
    const h = tlbLookup(lin, needW());
    if (h != 0) { journal(h, 2); store<u16>(h, <u16>v); return; }
  }
  slowWrite(lin, 2, v);
}
@inline export function writeLin32(lin: u32, v: u32): void {
  if ((lin & 0xfff) <= 0xffc) {
    const h = tlbLookup(lin, needW());
    if (h != 0) { journal(h, 4); store<u32>(h, v); return; }
  }
  slowWrite(lin, 4, v);
}
@inline export function readLin(lin: u32, size: u32): u32 {
  return size == 4 ? readLin32(lin) : size == 2 ? readLin16(lin) : readLin8(lin);
}
@inline export function writeLin(lin: u32, size: u32, v: u32): void {
  if (size == 4) writeLin32(lin, v); else if (size == 2) writeLin16(lin, v); else writeLin8(lin, v);
}

/** The host address of `lin` when the TLB already allows a read (or a write) there at this privilege, else 0. */
export function tlbHost(lin: u32, write: bool): usize { return tlbLookup(lin, write ? needW() : needR()); }

/** Check that a later write of `size` bytes at `lin` cannot fault (read-modify-write instructions). */
export function probeWrite(lin: u32, size: u32): void {
  const last = lin + size - 1;
  if (tlbLookup(lin, needW()) == 0 && !translate(lin, ACC_WRITE, accUser)) return;
  if (((lin ^ last) & 0xffff_f000) != 0 && tlbLookup(last, needW()) == 0) translate(last & 0xffff_f000, ACC_WRITE, accUser);
}

// ---- segmented accesses ----

/**
 * The linear address of seg:off for an access of `size` bytes needing `need` (SEGV_READ or SEGV_WRITE), after
 * the type and limit checks of SDM 5.3 and 5.4. Raises #GP(0), or #SS(0) for the stack segment.
 */
@inline export function segAddr(s: u32, off: u32, size: u32, need: u32): u32 {
  const p = segPtr(s);
  const valid = load<u32>(p + SEG_VALID);
  const limit = load<u32>(p + SEG_LIMIT);
  if ((valid & (need | SEGV_EXPAND_DOWN)) == need && off <= limit && size - 1 <= limit - off) {
    return <u32>load<u64>(p + SEG_BASE) + off;
  }
  return segAddrSlow(s, off, size, need);
}

/**
 * The linear address of seg:off for `len` bytes (len >= 1) if an expand-up segment passes the checks of
 * segAddr for all of them, else -1. Raises nothing: a caller that gets -1 goes the element-by-element way,
 * which raises the fault at the element that has it.
 */
export function segRange(s: u32, off: u32, len: u32, need: u32): i64 {
  const p = segPtr(s);
  const valid = load<u32>(p + SEG_VALID);
  const limit = load<u32>(p + SEG_LIMIT);
  if ((valid & (need | SEGV_EXPAND_DOWN)) == need && off <= limit && len - 1 <= limit - off) {
    return <i64>(<u32>load<u64>(p + SEG_BASE) + off);
  }
  return -1;
}

function segAddrSlow(s: u32, off: u32, size: u32, need: u32): u32 {
  const p = segPtr(s);
  const valid = load<u32>(p + SEG_VALID);
  const limit = load<u32>(p + SEG_LIMIT);
  let ok = (valid & need) == need;
  if (ok) {
    if ((valid & SEGV_EXPAND_DOWN) != 0) {
      // Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (SDM 3.4.5.1).
      const upper: u32 = (valid & SEGV_BIG) != 0 ? 0xffff_ffff : 0xffff;
      ok = off > limit && off <= upper && size - 1 <= upper - off;
    } else {
      ok = off <= limit && size - 1 <= limit - off;
    }
  }
  if (!ok) {
    raise(s == SEG_SS_INDEX ? EXC_SS : EXC_GP, 0, true);
    return 0;
  }
  return <u32>load<u64>(p + SEG_BASE) + off;
}

export function read8(s: u32, off: u32): u32 {
  const lin = segAddr(s, off, 1, SEGV_READ);
  if (faulted) return 0;
  return readLin8(lin);
}
export function read16(s: u32, off: u32): u32 {
  const lin = segAddr(s, off, 2, SEGV_READ);
  if (faulted) return 0;
  return readLin16(lin);
}
export function read32(s: u32, off: u32): u32 {
  const lin = segAddr(s, off, 4, SEGV_READ);
  if (faulted) return 0;
  return readLin32(lin);
}
export function write8(s: u32, off: u32, v: u32): void {
  const lin = segAddr(s, off, 1, SEGV_WRITE);
  if (faulted) return;
  writeLin8(lin, v);
}
export function write16(s: u32, off: u32, v: u32): void {
  const lin = segAddr(s, off, 2, SEGV_WRITE);
  if (faulted) return;
  writeLin16(lin, v);
}
export function write32(s: u32, off: u32, v: u32): void {
  const lin = segAddr(s, off, 4, SEGV_WRITE);
  if (faulted) return;
  writeLin32(lin, v);
}
@inline export function readSz(s: u32, off: u32, size: u32): u32 {
  const lin = segAddr(s, off, size, SEGV_READ);
  if (faulted) return 0;
  return readLin(lin, size);
}
@inline export function writeSz(s: u32, off: u32, size: u32, v: u32): void {
  const lin = segAddr(s, off, size, SEGV_WRITE);
  if (faulted) return;
  writeLin(lin, size, v);
}
