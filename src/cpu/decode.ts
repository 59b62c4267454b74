// The decoder: prefixes, opcode, ModRM/SIB/displacement and immediates into the decoded-instruction record
// below. The interpreter executes from the record; the JIT translates from the same record, so both read one
// decoding of every instruction.
import { CPU_MODE, MODE_CODE32 } from "../layout/memory";
import { cpu, segBase, segLimit, SEG_SS_INDEX } from "./state";
import { raise, faulted, EXC_GP } from "./exceptions";
import { tlbLookup, TLB_X, TLB_UR } from "../mmu/tlb";
import { translate, lastPhys, lastPhysHigh, ACC_FETCH } from "../mmu/paging";
import { physRead } from "../mmu/phys";
import { accUser } from "./mem";
import {
  dcSlot, markCodePage, R_TAG, R_OP, R_PFX, R_FLAGS, R_OSZ, R_A32, R_SEG, R_MODRM, R_MOD, R_REG, R_RM, R_LEN, R_BASE,
  R_INDEX, R_SCALE, R_DISP, R_IMM, R_IMM2, R_SIZE, R_F_CODE32, R_F_UD,
} from "./dcache";
import { opInfo, INFO_IMPL, INFO_LOCK, INFO_MODRM, INFO_MODRM_REG, INFO_IMM_MASK, IMM_IB, IMM_IW, IMM_IZ, IMM_AP, IMM_IW_IB, IMM_MOFFS, IMM_GRP3 } from "./optable-info";

// Prefix bits in dPfx.
export const PFX_OPSIZE: u32 = 0b0000_0001; // 66
export const PFX_ADSIZE: u32 = 0b0000_0010; // 67
export const PFX_LOCK: u32 = 0b0000_0100; // F0
export const PFX_REP: u32 = 0b0000_1000; // F3 (REP / REPE)
export const PFX_REPNE: u32 = 0b0001_0000; // F2
export const PFX_SEG: u32 = 0b0010_0000; // a segment override is present (dSeg holds it)

// ---- The decoded-instruction record ----
// Handlers read the record of the instruction being executed through these accessors. `rec` points at a
// decoded-cache entry (layout in dcache.ts) or, for an instruction that could not be cached (it straddles a
// page, or was fetched from MMIO), at a scratch record of the same layout.
const scratch: usize = memory.data(<i32>R_SIZE, 8);
export let rec: usize = scratch;
/** The record was decoded into the scratch record (not cacheable: it straddles a page or came from MMIO). */
export function isScratchRecord(): bool { return rec == scratch; }
/** Execute from record `r` (a translated block's copy) for the instruction at EIP `at`. */
@inline export function useRecord(r: usize, at: u32): void {
  rec = r;
  dStart = at;
  nextEip = at + <u32>load<u8>(r + R_LEN);
}
/** Opcode: 0x000-0x0FF one-byte map, 0x100-0x1FF the 0F map. */
@inline export function dOp(): u32 { return <u32>load<u16>(rec + R_OP); }
@inline export function dPfx(): u32 { return <u32>load<u8>(rec + R_PFX); }
/** Operand size in bytes for v-sized operands: 2 or 4. */
@inline export function dOsz(): u32 { return <u32>load<u8>(rec + R_OSZ); }
/** 32-bit addressing. */
@inline export function dA32(): bool { return load<u8>(rec + R_A32) != 0; }
/** Segment of the memory operand (the default for its base register, or the override). */
@inline export function dSeg(): u32 { return <u32>load<u8>(rec + R_SEG); }
@inline export function dModrm(): u32 { return <u32>load<u8>(rec + R_MODRM); }
@inline export function dMod(): u32 { return <u32>load<u8>(rec + R_MOD); }
@inline export function dReg(): u32 { return <u32>load<u8>(rec + R_REG); }
@inline export function dRm(): u32 { return <u32>load<u8>(rec + R_RM); }
/** Memory operand form: base and index register numbers (-1: none), scale shift, displacement. */
@inline export function dBase(): i32 { return <i32>load<i8>(rec + R_BASE); }
@inline export function dIndex(): i32 { return <i32>load<i8>(rec + R_INDEX); }
@inline export function dScale(): u32 { return <u32>load<u8>(rec + R_SCALE); }
@inline export function dDisp(): u32 { return load<u32>(rec + R_DISP); }
@inline export function dImm(): u32 { return load<u32>(rec + R_IMM); }
@inline export function dImm2(): u32 { return load<u32>(rec + R_IMM2); }
/** The instruction raises #UD (unimplemented, or a LOCK prefix where none is allowed). */
@inline export function dRaisesUD(): bool { return (load<u8>(rec + R_FLAGS) & R_F_UD) != 0; }

// The decoder's working copy of the record, written into the cache entry or the scratch record at the end.
let xOp: u32 = 0;
let xPfx: u32 = 0;
let xOsz: u32 = 2;
let xA32: bool = false;
let xSeg: u32 = 3;
let xModrm: u32 = 0;
let xMod: u32 = 0;
let xReg: u32 = 0;
let xRm: u32 = 0;
let xBase: i32 = -1;
let xIndex: i32 = -1;
let xScale: u32 = 0;
let xDisp: u32 = 0;
let xImm: u32 = 0;
let xImm2: u32 = 0;
/** EIP of the instruction's first byte and of the byte after it. */
export let dStart: u32 = 0;
export let nextEip: u32 = 0;

// Instruction fetch. The host address of the current code page is cached; decode() opens a window of host
// bytes that are certainly fetchable for this instruction (same page, within the CS limit, at most 15 bytes),
// so most bytes cost one compare and one load. Bytes outside the window take fetchSlow8(), which does the
// checks (#GP past the limit or the 15-byte maximum, #PF) one byte at a time.
let fetchLinPage: u32 = 1; // never page-aligned: forces a lookup on first use
let fetchHost: usize = 0;
let fetchUser: bool = false;
// The window: fastBase is the host address of the instruction's first byte (0 when there is no window);
// fastPtr - fastBase counts the bytes consumed so far, whichever path fetched them.
let fastBase: usize = 0;
let fastPtr: usize = 0;
let fastEnd: usize = 0;

export function invalidateFetch(): void { fetchLinPage = 1; }

function fetchPage(lin: u32): u32 {
  const need = accUser ? TLB_UR | TLB_X : TLB_X;
  let h = tlbLookup(lin, need);
  if (h == 0) {
    if (!translate(lin, ACC_FETCH, accUser)) return 0;
    h = tlbLookup(lin, need);
    if (h == 0) return lastPhysHigh ? 0xff : physRead(lastPhys, 1); // MMIO (or nothing): no caching
  }
  fetchLinPage = lin & 0xffff_f000;
  fetchHost = h - (lin & 0xfff);
  fetchUser = accUser;
  return <u32>load<u8>(h);
}

function fetchSlow8(): u32 {
  const e = dStart + <u32>(fastPtr - fastBase);
  // SDM 6.15: fetching beyond the CS limit, or more than 15 bytes, is #GP(0).
  if (e > segLimit(1) || e - dStart >= 15) { raise(EXC_GP, 0, true); return 0; }
  fastPtr++;
  const lin = segBase(1) + e;
  if ((lin & 0xffff_f000) == fetchLinPage && fetchUser == accUser) return <u32>load<u8>(fetchHost + (lin & 0xfff));
  return fetchPage(lin);
}

@inline function fetch8(): u32 {
  const p = fastPtr;
  if (p < fastEnd) {
    fastPtr = p + 1;
    return <u32>load<u8>(p);
  }
  return fetchSlow8();
}

/**
 * Make the page of `lin` the current code page if the TLB maps it for fetching (no page walk: a miss is left to
 * fetchSlow8, which raises the #PF in order).
 */
function primeFetchPage(lin: u32): void {
  const h = tlbLookup(lin, accUser ? TLB_UR | TLB_X : TLB_X);
  if (h == 0) return;
  fetchLinPage = lin & 0xffff_f000;
  fetchHost = h - (lin & 0xfff);
  fetchUser = accUser;
}

/** Open the fast-fetch window for an instruction at EIP `at`. */
@inline function openWindow(at: u32): void {
  const lin = segBase(1) + at;
  const limit = segLimit(1);
  // An instruction on another page than the last one decoded: without a window its record could not be
  // cached (and the translator, which copies cached records, would give up on its block).
  if (((lin & 0xffff_f000) != fetchLinPage || fetchUser != accUser) && at <= limit) primeFetchPage(lin);
  if ((lin & 0xffff_f000) == fetchLinPage && fetchUser == accUser && at <= limit) {
    const off = lin & 0xfff;
    let avail: u32 = 4096 - off;
    if (avail > 15) avail = 15;
    if (limit - at < avail - 1) avail = limit - at + 1;
    fastBase = fetchHost + off;
    fastEnd = fastBase + avail;
  } else {
    fastBase = 0;
    fastEnd = 0;
  }
  fastPtr = fastBase;
}
@inline function fetch16(): u32 { const lo = fetch8(); return lo | (fetch8() << 8); }
@inline function fetch32(): u32 { const lo = fetch16(); return lo | (fetch16() << 16); }
@inline function fetchZ(): u32 { return xOsz == 4 ? fetch32() : fetch16(); }

/**
 * Decode the instruction at EIP `at`. Returns false after raising a fault (fetch #PF/#GP). The decoded-cache hit
 * is inlined into the caller; everything else is decodeSlow().
 */
@inline export function decode(at: u32): bool {
  dStart = at;
  const key: u32 = (load<u32>(cpu + CPU_MODE) & MODE_CODE32) != 0 ? <u32>R_F_CODE32 : 0;
  const lin = segBase(1) + at;
  if ((lin & 0xffff_f000) == fetchLinPage && fetchUser == accUser) {
    const host = fetchHost + (lin & 0xfff);
    const slot = dcSlot(host);
    if (load<u32>(slot + R_TAG) == <u32>host && (<u32>load<u8>(slot + R_FLAGS) & R_F_CODE32) == key) {
      // The bytes must still be fetchable as one window: within the page and the CS limit (which may have
      // shrunk since); otherwise decode again, which raises the #GP.
      const len = <u32>load<u8>(slot + R_LEN);
      const limit = segLimit(1);
      if ((lin & 0xfff) + len <= 4096 && at <= limit && len - 1 <= limit - at) {
        rec = slot;
        nextEip = at + len;
        return true;
      }
    }
  }
  return decodeSlow(at, key);
}

function decodeSlow(at: u32, key: u32): bool {
  const code32 = key != 0;
  openWindow(at);
  let pfx: u32 = 0;
  let seg: i32 = -1;
  let b = fetch8();
  // Legacy prefixes, any order, any number (the 15-byte limit bounds them).
  while (true) {
    if (faulted) return false;
    if (b == 0x66) pfx |= PFX_OPSIZE;
    else if (b == 0x67) pfx |= PFX_ADSIZE;
    else if (b == 0xf0) pfx |= PFX_LOCK;
    else if (b == 0xf3) pfx = (pfx & ~PFX_REPNE) | PFX_REP;
    else if (b == 0xf2) pfx = (pfx & ~PFX_REP) | PFX_REPNE;
    else if (b == 0x26) seg = 0;
    else if (b == 0x2e) seg = 1;
    else if (b == 0x36) seg = 2;
    else if (b == 0x3e) seg = 3;
    else if (b == 0x64) seg = 4;
    else if (b == 0x65) seg = 5;
    else break;
    b = fetch8();
  }
  let op = b;
  if (b == 0x0f) {
    op = 0x100 | fetch8();
    if (faulted) return false;
  }
  xOp = op;
  xPfx = pfx | (seg >= 0 ? PFX_SEG : 0);
  xOsz = (code32 != ((pfx & PFX_OPSIZE) != 0)) ? 4 : 2;
  xA32 = code32 != ((pfx & PFX_ADSIZE) != 0);
  xSeg = seg >= 0 ? <u32>seg : 3;
  xBase = -1;
  xIndex = -1;
  xScale = 0;
  xDisp = 0;
  xModrm = 0;
  xMod = 0;
  xReg = 0;
  xRm = 0;
  xImm = 0;
  xImm2 = 0;
  const info = <u32>opInfo(op);
  if ((info & INFO_MODRM) != 0) {
    const m = fetch8();
    if (faulted) return false;
    xModrm = m;
    xMod = m >> 6;
    xReg = (m >> 3) & 7;
    xRm = m & 7;
    if ((info & INFO_MODRM_REG) != 0) xMod = 3;
    if (xMod != 3) {
      if (xA32) decodeEa32(seg); else decodeEa16(seg);
      if (faulted) return false;
    }
  }
  const imm = info & INFO_IMM_MASK;
  if (imm != 0) {
    switch (imm) {
      case IMM_IB: xImm = fetch8(); break;
      case IMM_IW: xImm = fetch16(); break;
      case IMM_IZ: xImm = fetchZ(); break;
      case IMM_AP: xImm = fetchZ(); xImm2 = fetch16(); break;
      case IMM_IW_IB: xImm = fetch16(); xImm2 = fetch8(); break;
      case IMM_MOFFS: xImm = xA32 ? fetch32() : fetch16(); break;
      case IMM_GRP3: {
        // F6/F7: only TEST (/0 and its alias /1) carries an immediate.
        if (xReg < 2) xImm = (op & 1) != 0 ? fetchZ() : fetch8();
        break;
      }
      default: break;
    }
    if (faulted) return false;
  }
  const len = <u32>(fastPtr - fastBase);
  nextEip = at + len;
  let flags = key;
  if ((info & INFO_IMPL) == 0 || ((xPfx & PFX_LOCK) != 0 && ((info & INFO_LOCK) == 0 || xMod == 3))) flags |= R_F_UD;
  // Cache what was decoded entirely from the window (one RAM page, no slow-path bytes).
  if (fastBase != 0 && fastPtr <= fastEnd) {
    const slot = dcSlot(fastBase);
    writeRecord(slot, flags, len);
    store<u32>(slot + R_TAG, <u32>fastBase);
    markCodePage(fastBase);
    rec = slot;
  } else {
    writeRecord(scratch, flags, len);
    rec = scratch;
  }
  return true;
}

function writeRecord(r: usize, flags: u32, len: u32): void {
  store<u16>(r + R_OP, <u16>xOp);
  store<u8>(r + R_PFX, <u8>xPfx);
  store<u8>(r + R_FLAGS, <u8>flags);
  store<u8>(r + R_OSZ, <u8>xOsz);
  store<u8>(r + R_A32, xA32 ? 1 : 0);
  store<u8>(r + R_SEG, <u8>xSeg);
  store<u8>(r + R_MODRM, <u8>xModrm);
  store<u8>(r + R_MOD, <u8>xMod);
  store<u8>(r + R_REG, <u8>xReg);
  store<u8>(r + R_RM, <u8>xRm);
  store<u8>(r + R_LEN, <u8>len);
  store<i8>(r + R_BASE, <i8>xBase);
  store<i8>(r + R_INDEX, <i8>xIndex);
  store<u8>(r + R_SCALE, <u8>xScale);
  store<u32>(r + R_DISP, xDisp);
  store<u32>(r + R_IMM, xImm);
  store<u32>(r + R_IMM2, xImm2);
}

// 16-bit ModRM (SDM Table 2-1): rm selects BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod=0), BX.
function decodeEa16(seg: i32): void {
  const rm = xRm;
  let defSeg: u32 = 3;
  switch (rm) {
    case 0: xBase = 3; xIndex = 6; break;
    case 1: xBase = 3; xIndex = 7; break;
    case 2: xBase = 5; xIndex = 6; defSeg = SEG_SS_INDEX; break;
    case 3: xBase = 5; xIndex = 7; defSeg = SEG_SS_INDEX; break;
    case 4: xBase = 6; break;
    case 5: xBase = 7; break;
    case 6: if (xMod != 0) { xBase = 5; defSeg = SEG_SS_INDEX; } break;
    default: xBase = 3; break;
  }
  if (xMod == 0) {
    if (rm == 6) xDisp = fetch16();
  } else if (xMod == 1) {
    xDisp = <u32>(<i32><i8>fetch8()) & 0xffff;
  } else {
    xDisp = fetch16();
  }
  xSeg = seg >= 0 ? <u32>seg : defSeg;
}

// 32-bit ModRM and SIB (SDM Tables 2-2 and 2-3).
function decodeEa32(seg: i32): void {
  let defSeg: u32 = 3;
  if (xRm == 4) {
    const sib = fetch8();
    const base = sib & 7;
    const index = (sib >> 3) & 7;
    xScale = sib >> 6;
    if (index != 4) xIndex = index;
    if (base == 5 && xMod == 0) {
      xDisp = fetch32();
    } else {
      xBase = base;
      if (base == 4 || base == 5) defSeg = SEG_SS_INDEX;
    }
  } else if (xRm == 5 && xMod == 0) {
    xDisp = fetch32();
  } else {
    xBase = xRm;
    if (xRm == 5) defSeg = SEG_SS_INDEX;
  }
  if (xMod == 1) xDisp = <u32>(<i32><i8>fetch8());
  else if (xMod == 2) xDisp = fetch32();
  xSeg = seg >= 0 ? <u32>seg : defSeg;
}

/** Set the EIP the instruction continues at (jumps, calls, returns). */
export function setNextEip(v: u32): void { nextEip = v; }
