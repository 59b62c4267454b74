// REP MOVS and REP STOS a page at a time. A run is split where an element would cross a page of the source
// or the destination, where the index register wraps, and where MOVS's source and destination lie so close
// that elements read what earlier elements of the run wrote. Each piece whose pages the TLB already maps
// for the access (RAM only; never MMIO, pages holding translated code, pages not yet dirty, pages with a
// data breakpoint) moves with one memory.copy or memory.fill; anything else returns 0 and the caller takes
// one element the exact way, which faults where it must and fills the TLB for the next piece. The state
// after each piece is the state after its last element, so an interrupt or a fault between pieces sees the
// ECX/ESI/EDI of SDM 7.3.9.1.
import { dA32, dSeg } from "../decode";
import { sysFlag, DF } from "../flags";
import { ECX, ESI, EDI, EAX, reg32, reg16, setReg32, setReg16 } from "../state";
import { getReg } from "../operand";
import { segRange, tlbHost } from "../mem";
import { SEGV_READ, SEGV_WRITE } from "../state";
import { checkMode } from "../../wasm/journal";

const ES: u32 = 0;

/** Elements of `size` bytes from `off` (going down: ending at `off`) before a 16- or 32-bit index wraps. */
function beforeWrap(off: u32, size: u32, down: bool, a32: bool): u32 {
  if (down) return off / size + 1;
  const left: u64 = (a32 ? <u64>0x1_0000_0000 : <u64>0x1_0000) - <u64>off;
  return <u32>min<u64>(left / <u64>size, 0xffff_ffff);
}

/** Elements from linear `lin` (going down: ending at it) before one would cross a page; 0 if the first does. */
function inPage(lin: u32, size: u32, down: bool): u32 {
  const o = lin & 0xfff;
  if (o + size > 4096) return 0;
  return down ? o / size + 1 : (4096 - o) / size;
}

/**
 * Move up to `max` elements of a REP MOVS (op A4/A5) or REP STOS (AA/AB) of `size` bytes at once and update
 * ECX, ESI and EDI. Returns the number moved; 0 when the next element must go the exact way.
 */
export function repBulk(op: u32, size: u32, max: u32): u32 {
  if (checkMode) return 0; // JIT check mode journals every store the exact way
  const a32 = dA32();
  const down = sysFlag(DF);
  const movs = op <= 0xa5;
  const di = a32 ? reg32(EDI) : reg16(EDI);
  let n = min(max, beforeWrap(di, size, down, a32));
  const si = a32 ? reg32(ESI) : reg16(ESI);
  if (movs) n = min(n, beforeWrap(si, size, down, a32));
  // The page bounds come from the linear address of the first element; the segment check then covers the
  // whole piece (it fails on an expand-down segment or a limit inside the piece: the exact way decides).
  const dFirst = segRange(ES, di, size, SEGV_WRITE);
  if (dFirst < 0) return 0;
  n = min(n, inPage(<u32>dFirst, size, down));
  if (movs) {
    const sFirst = segRange(dSeg(), si, size, SEGV_READ);
    if (sFirst < 0) return 0;
    n = min(n, inPage(<u32>sFirst, size, down));
  }
  if (n == 0) return 0;
  const back: u32 = down ? (n - 1) * size : 0; // from the first element to the lowest byte of the piece
  const dLow = segRange(ES, di - back, n * size, SEGV_WRITE);
  if (dLow < 0) return 0;
  const hd = tlbHost(<u32>dLow, true);
  if (hd == 0) return 0;
  if (movs) {
    const sLow = segRange(dSeg(), si - back, n * size, SEGV_READ);
    if (sLow < 0) return 0;
    const hs = tlbHost(<u32>sLow, false);
    if (hs == 0) return 0;
    // Element k reads what element j < k wrote only when the destination runs ahead of the source in the
    // direction of the copy by less than the piece: then the piece stops short of the first such element.
    const ahead: usize = down ? hs - hd : hd - hs;
    const len: usize = <usize>n * size;
    if (hd != hs && ahead < len) {
      const k = <u32>(ahead / size);
      if (k == 0) return 0;
      return repBulk(op, size, k);
    }
    memory.copy(hd, hs, len);
  } else {
    const v = getReg(EAX, size);
    const b = v & 0xff;
    if (size == 1 || v == b * (size == 2 ? 0x0101 : 0x0101_0101)) memory.fill(hd, <u8>b, <usize>n * size);
    else if (size == 2) for (let i: u32 = 0; i < n; i++) store<u16>(hd + (i << 1), <u16>v);
    else for (let i: u32 = 0; i < n; i++) store<u32>(hd + (i << 2), v);
  }
  const step: u32 = n * size;
  if (a32) {
    setReg32(EDI, down ? di - step : di + step);
    if (movs) setReg32(ESI, down ? si - step : si + step);
    setReg32(ECX, reg32(ECX) - n);
  } else {
    setReg16(EDI, down ? di - step : di + step);
    if (movs) setReg16(ESI, down ? si - step : si + step);
    setReg16(ECX, reg16(ECX) - n);
  }
  return n;
}
