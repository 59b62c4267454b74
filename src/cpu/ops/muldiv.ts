// MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV. For MUL/IMUL, SF ZF AF PF are undefined (we
// compute SF ZF PF from the low half as P6 does and clear AF); all six flags are undefined after DIV/IDIV and
// are left unchanged.
import { dOp, dOsz, dImm } from "../decode";
import { faulted, raise, EXC_DE } from "../exceptions";
import { setLazyResult, CF, OF, AF } from "../flags";
import { readE, readG, writeG, getReg } from "../operand";
import { EAX, EDX, setReg16, reg16, reg32, setReg32 } from "../state";
import { mask, szIndex } from "./alu";

@inline function sext(v: u32, size: u32): i64 {
  return size == 1 ? <i64><i8>v : size == 2 ? <i64><i16>v : <i64><i32>v;
}

function mulFlags(size: u32, lo: u32, overflow: bool): void {
  const f: u32 = overflow ? CF | OF : 0;
  setLazyResult(szIndex(size), lo, f, CF | OF | AF);
}

/** F6/F7 /4 MUL, /5 IMUL (accumulator forms). */
export function mulAcc(size: u32, signed: bool): void {
  const b = readE(size);
  if (faulted) return;
  const a = getReg(EAX, size);
  if (size == 1) {
    const r: u32 = signed ? <u32>(<i32><i8>a * <i32><i8>b) & 0xffff : a * b;
    setReg16(EAX, r);
    mulFlags(1, r & 0xff, signed ? (<i32><i16>r) != (<i32><i8>r) : (r >> 8) != 0);
  } else if (size == 2) {
    const r: u32 = signed ? <u32>(<i32><i16>a * <i32><i16>b) : a * b;
    setReg16(EAX, r & 0xffff);
    setReg16(EDX, r >>> 16);
    mulFlags(2, r & 0xffff, signed ? <i32>r != <i32><i16>r : (r >>> 16) != 0);
  } else {
    const r: u64 = signed ? <u64>(<i64><i32>a * <i64><i32>b) : <u64>a * <u64>b;
    setReg32(EAX, <u32>r);
    setReg32(EDX, <u32>(r >> 32));
    mulFlags(4, <u32>r, signed ? <i64>r != <i64><i32><u32>r : (r >> 32) != 0);
  }
}

/** 0F AF IMUL Gv,Ev; 69 IMUL Gv,Ev,Iz; 6B IMUL Gv,Ev,Ib. */
export function opImul(): void {
  const size = dOsz();
  const a = readE(size);
  if (faulted) return;
  let b: u32;
  if (dOp() == 0x1af) b = readG(size);
  else if (dOp() == 0x6b) b = <u32>(<i32><i8>dImm());
  else b = dImm();
  const r: i64 = sext(a, size) * sext(b, size);
  const lo = <u32>r & mask(size);
  writeG(size, lo);
  mulFlags(size, lo, r != sext(lo, size));
}

/** F6/F7 /6 DIV, /7 IDIV. #DE on a zero divisor or a quotient that does not fit (SDM DIV/IDIV). */
export function divAcc(size: u32, signed: bool): void {
  const d = readE(size);
  if (faulted) return;
  if (d == 0) { raise(EXC_DE, 0, false); return; }
  if (size == 1) {
    const n = reg16(EAX);
    if (signed) {
      const q = <i32><i16>n / <i32><i8>d;
      const r = <i32><i16>n % <i32><i8>d;
      if (q > 127 || q < -128) { raise(EXC_DE, 0, false); return; }
      setReg16(EAX, ((<u32>r & 0xff) << 8) | (<u32>q & 0xff));
    } else {
      const q = n / d;
      if (q > 0xff) { raise(EXC_DE, 0, false); return; }
      setReg16(EAX, ((n % d) << 8) | q);
    }
  } else if (size == 2) {
    const n = (reg16(EDX) << 16) | reg16(EAX);
    if (signed) {
      const q = <i64><i32>n / <i64><i16>d;
      const r = <i64><i32>n % <i64><i16>d;
      if (q > 32767 || q < -32768) { raise(EXC_DE, 0, false); return; }
      setReg16(EAX, <u32>q & 0xffff);
      setReg16(EDX, <u32>r & 0xffff);
    } else {
      const q = n / d;
      if (q > 0xffff) { raise(EXC_DE, 0, false); return; }
      setReg16(EAX, q);
      setReg16(EDX, n % d);
    }
  } else {
    const n: u64 = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
    if (signed) {
      const sn = <i64>n, sd = <i64><i32>d;
      // i64 MIN / -1 would trap in wasm; its quotient does not fit 32 bits anyway.
      if (sn == i64.MIN_VALUE && sd == -1) { raise(EXC_DE, 0, false); return; }
      const q = sn / sd;
      const r = sn % sd;
      if (q > 0x7fff_ffff || q < -0x8000_0000) { raise(EXC_DE, 0, false); return; }
      setReg32(EAX, <u32>q);
      setReg32(EDX, <u32>r);
    } else {
      const q = n / <u64>d;
      if (q > 0xffff_ffff) { raise(EXC_DE, 0, false); return; }
      setReg32(EAX, <u32>q);
      setReg32(EDX, <u32>(n % <u64>d));
    }
  }

}
