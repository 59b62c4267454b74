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
import { dcSlot, markCodePage, DC_TAG, DC_KEY, DC_W0, DC_W1, DC_DISP, DC_IMM, DC_IMM2 } from "./dcache";
import { opInfo, INFO_MODRM, INFO_MODRM_REG, INFO_IMM_MASK, IMM_IB, IMM_IW, IMM_IZ, IMM_AP, IMM_IW_IB, IMM_MOFFS, IMM_GRP3 } from "./optable-info";

// Prefix bits in dPfx.
export const PFX_OPSIZE: u32 = 0b0000_0001; // 66
export const PFX_ADSIZE: u32 = 0b0000_0010; // 67
export const PFX_LOCK: u32 = 0b0000_0100; // F0
export const PFX_REP: u32 = 0b0000_1000; // F3 (REP / REPE)
export const PFX_REPNE: u32 = 0b0001_0000; // F2
export const PFX_SEG: u32 = 0b0010_0000; // a segment override is present (dSeg holds it)

// ---- The decoded-instruction record ----
/** Opcode: 0x000-0x0FF one-byte map, 0x100-0x1FF the 0F map. */
export let dOp: u32 = 0;
export let dPfx: u32 = 0;
/** Operand size in bytes for v-sized operands: 2 or 4. */
export let dOsz: u32 = 2;
/** 32-bit addressing. */
export let dA32: bool = false;
/** Segment of the memory operand (the default for its base register, or the override). */
export let dSeg: u32 = 3;
export let dModrm: u32 = 0;
export let dMod: u32 = 0;
export let dReg: u32 = 0;
export let dRm: u32 = 0;
/** Memory operand form: base and index register numbers (-1: none), scale shift, displacement. */
export let dBase: i32 = -1;
export let dIndex: i32 = -1;
export let dScale: u32 = 0;
export let dDisp: u32 = 0;
export let dImm: u32 = 0;
export let dImm2: u32 = 0;
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

/** Open the fast-fetch window for an instruction at EIP `at`. */
@inline function openWindow(at: u32): void {
  const lin = segBase(1) + at;
  const limit = segLimit(1);
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
@inline function fetchZ(): u32 { return dOsz == 4 ? fetch32() : fetch16(); }

/** Decode the instruction at EIP `at`. Returns false after raising a fault (fetch #PF/#GP). */
export function decode(at: u32): bool {
  dStart = at;
  openWindow(at);
  const code32 = (load<u32>(cpu + CPU_MODE) & MODE_CODE32) != 0;
  const key: u32 = code32 ? 3 : 1;
  if (fastBase != 0) {
    const slot = dcSlot(fastBase);
    if (load<u32>(slot + DC_TAG) == <u32>fastBase && load<u32>(slot + DC_KEY) == key) {
      const w0 = load<u32>(slot + DC_W0);
      const len = w0 >>> 28;
      // The window already bounds the bytes by the page, the CS limit and 15: a cached instruction longer
      // than the window (the limit shrank) is decoded again, which raises the #GP.
      if (<usize>len <= fastEnd - fastBase) {
        restore(slot, w0);
        nextEip = at + len;
        return true;
      }
    }
  }
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
  dOp = op;
  dPfx = pfx | (seg >= 0 ? PFX_SEG : 0);
  dOsz = (code32 != ((pfx & PFX_OPSIZE) != 0)) ? 4 : 2;
  dA32 = code32 != ((pfx & PFX_ADSIZE) != 0);
  dSeg = seg >= 0 ? <u32>seg : 3;
  dBase = -1;
  dIndex = -1;
  dScale = 0;
  dDisp = 0;
  const info = <u32>opInfo(op);
  if ((info & INFO_MODRM) != 0) {
    const m = fetch8();
    if (faulted) return false;
    dModrm = m;
    dMod = m >> 6;
    dReg = (m >> 3) & 7;
    dRm = m & 7;
    if ((info & INFO_MODRM_REG) != 0) dMod = 3;
    if (dMod != 3) {
      if (dA32) decodeEa32(seg); else decodeEa16(seg);
      if (faulted) return false;
    }
  }
  const imm = info & INFO_IMM_MASK;
  if (imm != 0) {
    switch (imm) {
      case IMM_IB: dImm = fetch8(); break;
      case IMM_IW: dImm = fetch16(); break;
      case IMM_IZ: dImm = fetchZ(); break;
      case IMM_AP: dImm = fetchZ(); dImm2 = fetch16(); break;
      case IMM_IW_IB: dImm = fetch16(); dImm2 = fetch8(); break;
      case IMM_MOFFS: dImm = dA32 ? fetch32() : fetch16(); break;
      case IMM_GRP3: {
        // F6/F7: only TEST (/0 and its alias /1) carries an immediate.
        if (dReg < 2) dImm = (op & 1) != 0 ? fetchZ() : fetch8();
        break;
      }
      default: break;
    }
    if (faulted) return false;
  }
  const len = <u32>(fastPtr - fastBase);
  nextEip = at + len;
  // Cache what was decoded entirely from the window (one RAM page, no slow-path bytes).
  if (fastBase != 0 && fastPtr <= fastEnd) save(dcSlot(fastBase), key, len);
  return true;
}

function save(slot: usize, key: u32, len: u32): void {
  store<u32>(slot + DC_TAG, <u32>fastBase);
  store<u32>(slot + DC_KEY, key);
  store<u32>(slot + DC_W0, dOp | (dPfx << 9) | (dOsz == 4 ? 1 << 15 : 0) | (dA32 ? 1 << 16 : 0) |
    (dSeg << 17) | (dReg << 20) | (dRm << 23) | (dMod << 26) | (len << 28));
  store<u32>(slot + DC_W1, <u32>(dBase + 1) | (<u32>(dIndex + 1) << 5) | (dScale << 10) | (dModrm << 16));
  store<u32>(slot + DC_DISP, dDisp);
  store<u32>(slot + DC_IMM, dImm);
  store<u32>(slot + DC_IMM2, dImm2);
  markCodePage(fastBase);
}

@inline function restore(slot: usize, w0: u32): void {
  dOp = w0 & 0x1ff;
  dPfx = (w0 >>> 9) & 0x3f;
  dOsz = (w0 & (1 << 15)) != 0 ? 4 : 2;
  dA32 = (w0 & (1 << 16)) != 0;
  dSeg = (w0 >>> 17) & 7;
  dReg = (w0 >>> 20) & 7;
  dRm = (w0 >>> 23) & 7;
  dMod = (w0 >>> 26) & 3;
  const w1 = load<u32>(slot + DC_W1);
  dBase = <i32>(w1 & 0x1f) - 1;
  dIndex = <i32>((w1 >>> 5) & 0x1f) - 1;
  dScale = (w1 >>> 10) & 3;
  dModrm = (w1 >>> 16) & 0xff;
  dDisp = load<u32>(slot + DC_DISP);
  dImm = load<u32>(slot + DC_IMM);
  dImm2 = load<u32>(slot + DC_IMM2);
}

// 16-bit ModRM (SDM Table 2-1): rm selects BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod=0), BX.
function decodeEa16(seg: i32): void {
  const rm = dRm;
  let defSeg: u32 = 3;
  switch (rm) {
    case 0: dBase = 3; dIndex = 6; break;
    case 1: dBase = 3; dIndex = 7; break;
    case 2: dBase = 5; dIndex = 6; defSeg = SEG_SS_INDEX; break;
    case 3: dBase = 5; dIndex = 7; defSeg = SEG_SS_INDEX; break;
    case 4: dBase = 6; break;
    case 5: dBase = 7; break;
    case 6: if (dMod != 0) { dBase = 5; defSeg = SEG_SS_INDEX; } break;
    default: dBase = 3; break;
  }
  if (dMod == 0) {
    if (rm == 6) dDisp = fetch16();
  } else if (dMod == 1) {
    dDisp = <u32>(<i32><i8>fetch8()) & 0xffff;
  } else {
    dDisp = fetch16();
  }
  dSeg = seg >= 0 ? <u32>seg : defSeg;
}

// 32-bit ModRM and SIB (SDM Tables 2-2 and 2-3).
function decodeEa32(seg: i32): void {
  let defSeg: u32 = 3;
  if (dRm == 4) {
    const sib = fetch8();
    const base = sib & 7;
    const index = (sib >> 3) & 7;
    dScale = sib >> 6;
    if (index != 4) dIndex = index;
    if (base == 5 && dMod == 0) {
      dDisp = fetch32();
    } else {
      dBase = base;
      if (base == 4 || base == 5) defSeg = SEG_SS_INDEX;
    }
  } else if (dRm == 5 && dMod == 0) {
    dDisp = fetch32();
  } else {
    dBase = dRm;
    if (dRm == 5) defSeg = SEG_SS_INDEX;
  }
  if (dMod == 1) dDisp = <u32>(<i32><i8>fetch8());
  else if (dMod == 2) dDisp = fetch32();
  dSeg = seg >= 0 ? <u32>seg : defSeg;
}

/** Set the EIP the instruction continues at (jumps, calls, returns). */
export function setNextEip(v: u32): void { nextEip = v; }
