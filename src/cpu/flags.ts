// EFLAGS with lazily computed arithmetic flags.
//
// An arithmetic instruction stores its operands and result (CPU_LF_*) and marks the flags it defines as lazy
// (CPU_LF_MASK); each flag is computed only when something reads it. Flags outside the lazy mask are held in
// CPU_FLAGS as plain bits. Reading EFLAGS merges both.
import { CPU_FLAGS, CPU_LF_MASK, CPU_LF_OP, CPU_LF_SIZE, CPU_LF_RES, CPU_LF_SRC1, CPU_LF_SRC2 } from "../layout/memory";
import { cpu } from "./state";

export const CF: u32 = 1 << 0;
export const FLAG_1: u32 = 1 << 1; // reads as 1
export const PF: u32 = 1 << 2;
export const AF: u32 = 1 << 4;
export const ZF: u32 = 1 << 6;
export const SF: u32 = 1 << 7;
export const TF: u32 = 1 << 8;
export const IF: u32 = 1 << 9;
export const DF: u32 = 1 << 10;
export const OF: u32 = 1 << 11;
export const IOPL: u32 = 3 << 12;
export const NT: u32 = 1 << 14;
export const RF: u32 = 1 << 16;
export const VM: u32 = 1 << 17;
export const AC: u32 = 1 << 18;
export const VIF: u32 = 1 << 19;
export const VIP: u32 = 1 << 20;
export const ID: u32 = 1 << 21;
export const ARITH: u32 = CF | PF | AF | ZF | SF | OF;

// Lazy operations: how CF, AF and OF follow from (src1, src2, res). ZF, SF and PF always follow from res.
export const LF_ADD: u32 = 0; // res = src1 + src2
export const LF_ADC: u32 = 1; // res = src1 + src2 + 1 (an ADC that had CF set)
export const LF_SUB: u32 = 2; // res = src1 - src2 (also CMP, NEG with src1 = 0)
export const LF_SBB: u32 = 3; // res = src1 - src2 - 1
export const LF_LOGIC: u32 = 4; // CF = OF = 0, AF = 0
export const LF_RES: u32 = 5; // only ZF SF PF are lazy; the others were stored eagerly

// Operand sizes as stored in CPU_LF_SIZE.
export const SZ8: u32 = 0;
export const SZ16: u32 = 1;
export const SZ32: u32 = 2;

@inline function signBit(size: u32): u32 { return 1 << ((8 << size) - 1); }
@inline function sizeMask(size: u32): u32 { return size == SZ32 ? 0xffff_ffff : (1 << (8 << size)) - 1; }

/** Record an arithmetic result whose six flags are all lazy. */
@inline export function setLazy(op: u32, size: u32, src1: u32, src2: u32, res: u32): void {
  store<u32>(cpu + CPU_LF_OP, op);
  store<u32>(cpu + CPU_LF_SIZE, size);
  store<u64>(cpu + CPU_LF_SRC1, <u64>src1);
  store<u64>(cpu + CPU_LF_SRC2, <u64>src2);
  store<u64>(cpu + CPU_LF_RES, <u64>res);
  store<u32>(cpu + CPU_LF_MASK, ARITH);
}

/** Record a result whose CF/OF/AF the caller sets eagerly (shifts, INC/DEC, MUL ...); ZF SF PF stay lazy. */
@inline export function setLazyResult(size: u32, res: u32, eager: u32, eagerMask: u32): void {
  const f = load<u32>(cpu + CPU_FLAGS);
  store<u32>(cpu + CPU_FLAGS, (f & ~eagerMask) | (eager & eagerMask));
  store<u32>(cpu + CPU_LF_OP, LF_RES);
  store<u32>(cpu + CPU_LF_SIZE, size);
  store<u64>(cpu + CPU_LF_RES, <u64>res);
  store<u32>(cpu + CPU_LF_MASK, ZF | SF | PF);
}

@inline function parity(v: u32): u32 {
  // PF is set when the low byte has an even number of ones (SDM 3.4.3.1).
  return (popcnt<u32>(v & 0xff) & 1) == 0 ? PF : 0;
}

/** Compute the lazy flags named in `which` (a subset of ARITH). */
export function computeLazy(which: u32): u32 {
  const op = load<u32>(cpu + CPU_LF_OP);
  const size = load<u32>(cpu + CPU_LF_SIZE);
  const res = <u32>load<u64>(cpu + CPU_LF_RES) & sizeMask(size);
  const sb = signBit(size);
  let f: u32 = 0;
  if ((which & ZF) != 0 && res == 0) f |= ZF;
  if ((which & SF) != 0 && (res & sb) != 0) f |= SF;
  if ((which & PF) != 0) f |= parity(res);
  if ((which & (CF | AF | OF)) != 0 && op != LF_RES) {
    const a = <u32>load<u64>(cpu + CPU_LF_SRC1) & sizeMask(size);
    const b = <u32>load<u64>(cpu + CPU_LF_SRC2) & sizeMask(size);
    switch (op) {
      case LF_ADD:
      case LF_ADC: {
        if (op == LF_ADD ? res < a : res <= a) f |= CF;
        if ((((a ^ res) & (b ^ res)) & sb) != 0) f |= OF;
        if (((a ^ b ^ res) & 0x10) != 0) f |= AF;
        break;
      }
      case LF_SUB:
      case LF_SBB: {
        if (op == LF_SUB ? a < b : a <= b) f |= CF;
        if ((((a ^ b) & (a ^ res)) & sb) != 0) f |= OF;
        if (((a ^ b ^ res) & 0x10) != 0) f |= AF;
        break;
      }
      default: break; // LF_LOGIC: CF = OF = AF = 0
    }
  }
  return f & which;
}

/** The full EFLAGS value. */
export function getFlags(): u32 {
  const lazy = load<u32>(cpu + CPU_LF_MASK);
  const f = load<u32>(cpu + CPU_FLAGS);
  if (lazy == 0) return f | FLAG_1;
  return (f & ~lazy) | computeLazy(lazy) | FLAG_1;
}

/** Replace EFLAGS bits under `mask` with `value`; the written bits stop being lazy. */
export function setFlags(value: u32, mask: u32): void {
  const lazy = load<u32>(cpu + CPU_LF_MASK);
  let f = load<u32>(cpu + CPU_FLAGS);
  if ((lazy & ~mask) != 0) {
    // Some lazy flags survive this write: materialise them first so they keep their values.
    f = (f & ~lazy) | computeLazy(lazy);
  }
  store<u32>(cpu + CPU_LF_MASK, 0);
  store<u32>(cpu + CPU_FLAGS, (f & ~mask) | (value & mask));
}

/** One arithmetic flag, computed only if it is lazy. */
@inline export function flag(bit: u32): bool {
  if ((load<u32>(cpu + CPU_LF_MASK) & bit) != 0) return computeLazy(bit) != 0;
  return (load<u32>(cpu + CPU_FLAGS) & bit) != 0;
}

/** A non-arithmetic flag (IF, DF, TF, VM, ...): never lazy. */
@inline export function sysFlag(bit: u32): bool { return (load<u32>(cpu + CPU_FLAGS) & bit) != 0; }

/** Condition codes 0..15 as encoded in Jcc/SETcc/CMOVcc (SDM Appendix B.1.4.7). */
export function condition(cc: u32): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = flag(OF); break; // O
    case 1: r = flag(CF); break; // B
    case 2: r = flag(ZF); break; // Z
    case 3: r = flag(CF) || flag(ZF); break; // BE
    case 4: r = flag(SF); break; // S
    case 5: r = flag(PF); break; // P
    case 6: r = flag(SF) != flag(OF); break; // L
    default: r = flag(ZF) || (flag(SF) != flag(OF)); break; // LE
  }
  return (cc & 1) != 0 ? !r : r;
}
