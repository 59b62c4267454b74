// Shifts and rotates (group 2: C0 C1 D0-D3) and SHLD/SHRD, with the flags ov the SDM's reference pages.
// The count is masked to 5 bits; a zero count changes nothing, not even flags. AF after a shift and OF after a
// multi-bit shift are undefined: we leave AF clear and compute OF as for a 1-bit shift, as P6 processors do.
import { dOp, dReg, dImm, dOsz } from "../decode";
import { faulted } from "../exceptions";
import { flag, setLazyResult, setFlags, CF, OF, AF } from "../flags";
import { readEForWrite, writeBackE, getReg, readG } from "../operand";
import { ECX } from "../state";
import { mask, szIndex } from "./alu";

const ROL: u32 = 0, ROR: u32 = 1, RCL: u32 = 2, RCR: u32 = 3, SHL: u32 = 4, SHR: u32 = 5, SAL: u32 = 6;

/** Rotate or shift `a` (size bytes) by `count` (already masked to 5 bits, non-zero); sets flags. */
export function shiftOp(kind: u32, size: u32, a: u32, count: u32): u32 {
  const bits = size << 3;
  const m = mask(size);
  const sb: u32 = 1 << (bits - 1);
  let r: u32 = 0, cf: u32 = 0, ov: u32 = 0;
  switch (kind) {
    case ROL: {
      const c = count & (bits - 1);
      r = c == 0 ? a : ((a << c) | (a >>> (bits - c))) & m;
      cf = r & 1;
      ov = ((r & sb) != 0 ? 1 : 0) ^ cf;
      setFlags((cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF);
      return r;
    }
    case ROR: {
      const c = count & (bits - 1);
      r = c == 0 ? a : ((a >>> c) | (a << (bits - c))) & m;
      cf = (r & sb) != 0 ? 1 : 0;
      ov = cf ^ ((r & (sb >> 1)) != 0 ? 1 : 0);
      setFlags((cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF);
      return r;
    }
    case RCL: {
      // Rotate through carry over bits+1 positions (SDM RCL: the count is taken modulo 9/17 for 8/16 bits).
      const c = size == 4 ? count : count % (bits + 1);
      if (c == 0) return a;
      let v: u64 = (<u64>a) | ((flag(CF) ? <u64>1 : 0) << bits);
      const w = bits + 1;
      v = ((v << c) | (v >> (w - c))) & ((<u64>1 << w) - 1);
      r = <u32>v & m;
      cf = <u32>(v >> bits) & 1;
      ov = ((r & sb) != 0 ? 1 : 0) ^ cf;
      setFlags((cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF);
      return r;
    }
    case RCR: {
      const c = size == 4 ? count : count % (bits + 1);
      if (c == 0) return a;
      const cin: u32 = flag(CF) ? 1 : 0;
      // OF is defined for 1-bit rotates as MSB(dest) XOR CF before the rotate.
      ov = ((a & sb) != 0 ? 1 : 0) ^ cin;
      let v: u64 = (<u64>a) | (<u64>cin << bits);
      const w = bits + 1;
      v = ((v >> c) | (v << (w - c))) & ((<u64>1 << w) - 1);
      r = <u32>v & m;
      cf = <u32>(v >> bits) & 1;
      if (c != 1) ov = ((r & sb) != 0 ? 1 : 0) ^ ((r & (sb >> 1)) != 0 ? 1 : 0);
      setFlags((cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF);
      return r;
    }
    case SHL:
    case SAL: {
      r = count >= 32 ? 0 : (a << count) & m;
      cf = count > bits ? 0 : (count == 0 ? 0 : ((<u64>a << (count - 1)) & <u64>sb) != 0 ? 1 : 0);
      ov = ((r & sb) != 0 ? 1 : 0) ^ cf;
      break;
    }
    case SHR: {
      r = count >= 32 ? 0 : a >>> count;
      cf = count > bits ? 0 : (a >>> (count - 1)) & 1;
      ov = count == 1 ? ((a & sb) != 0 ? 1 : 0) : 0;
      break;
    }
    default: { // SAR
      const s = size == 1 ? <i32><i8>a : size == 2 ? <i32><i16>a : <i32>a;
      const c = count >= bits ? bits - 1 : count;
      r = <u32>(s >> c) & m;
      cf = <u32>(s >> (count >= bits ? bits - 1 : count - 1)) & 1;
      ov = 0;
      break;
    }
  }
  setLazyResult(szIndex(size), r, (cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF | AF);
  return r;
}

/** C0/C1 (imm8), D0/D1 (1), D2/D3 (CL). */
export function opGrp2(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  let count: u32;
  if (dOp() <= 0xc1) count = dImm(); else if (dOp() <= 0xd1) count = 1; else count = getReg(ECX, 1);
  count &= 31;
  const a = readEForWrite(size);
  if (faulted) return;
  if (count == 0) return;
  writeBackE(size, shiftOp(dReg(), size, a, count));
}

/** 0F A4/A5 SHLD, 0F AC/AD SHRD Ev,Gv,Ib/CL. */
export function opShld(): void {
  const size = dOsz();
  const count = ((dOp() & 1) == 0 ? dImm() : getReg(ECX, 1)) & 31;
  const a = readEForWrite(size);
  if (faulted) return;
  if (count == 0) return;
  const b = readG(size);
  const bits = size << 3;
  const sb: u32 = 1 << (bits - 1);
  const left = dOp() < 0x1a8;
  let r: u32, cf: u32;
  // Shift the concatenation dest:src (left) or src:dest (right) as one 2*bits value. A count above the operand
  // size (16-bit forms only, as the count is masked to 5 bits) leaves result and flags undefined (SDM SHLD).
  if (left) {
    const v: u64 = (<u64>a << (64 - bits)) | (<u64>b << (64 - 2 * bits));
    r = <u32>((v << count) >> (64 - bits)) & mask(size);
    cf = <u32>((v << (count - 1)) >> 63);
  } else {
    const v: u64 = (<u64>b << bits) | <u64>a;
    r = <u32>(v >> count) & mask(size);
    cf = <u32>(v >> (count - 1)) & 1;
  }
  const ov: u32 = ((r ^ a) & sb) != 0 ? 1 : 0;
  setLazyResult(szIndex(size), r, (cf != 0 ? CF : 0) | (ov != 0 ? OF : 0), CF | OF | AF);
  writeBackE(size, r);

}
