// Memory operands of x87 instructions: 2, 4, 8 and 10 bytes, and the 14/28-byte environment and
// 94/108-byte state images. A load reads the whole operand before the instruction changes anything; a store
// first checks that every byte can be written, so that a #GP/#SS/#PF leaves the FPU untouched (the fault
// unwinding rule of src/cpu/exceptions.ts).
import { SEGV_READ, SEGV_WRITE } from "../state";
import { faulted } from "../exceptions";
import { dSeg } from "../decode";
import { ea } from "../operand";
import { segAddr, probeWrite, readLin16, readLin32, writeLin16, writeLin32 } from "../mem";

/** The operand read by readOperand: bytes 0-7 and bytes 8-9. */
export let opLo: u64 = 0;
export let opHi: u32 = 0;

/** Read the `size`-byte ModRM memory operand into opLo/opHi. False after a fault. */
export function readOperand(size: u32): bool {
  const lin = segAddr(dSeg(), ea(), size, SEGV_READ);
  if (faulted) return false;
  return readAt(lin, size);
}

function readAt(lin: u32, size: u32): bool {
  if (size == 2) {
    opLo = <u64>readLin16(lin);
  } else {
    const lo = readLin32(lin);
    if (faulted) return false;
    if (size == 4) opLo = <u64>lo;
    else {
      const hi = readLin32(lin + 4);
      if (faulted) return false;
      opLo = <u64>lo | (<u64>hi << 32);
      if (size == 10) opHi = readLin16(lin + 8);
    }
  }
  return !faulted;
}

/** Linear address of the operand checked by storeTarget. */
let storeLin: u32 = 0;

/** Check that the `size`-byte ModRM memory operand can be written. False after a fault. */
export function storeTarget(size: u32): bool {
  const lin = segAddr(dSeg(), ea(), size, SEGV_WRITE);
  if (faulted) return false;
  probeWrite(lin, size);
  if (faulted) return false;
  storeLin = lin;
  return true;
}

/** Write `size` bytes (lo, then hi for 10) to the operand checked by storeTarget; cannot fault. */
export function storeOperand(size: u32, lo: u64, hi: u32): void {
  writeAt(storeLin, size, lo, hi);
}

function writeAt(lin: u32, size: u32, lo: u64, hi: u32): void {
  if (size == 2) {
    writeLin16(lin, <u32>lo);
    return;
  }
  writeLin32(lin, <u32>lo);
  if (size == 4) return;
  writeLin32(lin + 4, <u32>(lo >> 32));
  if (size == 10) writeLin16(lin + 8, hi);
}

// ---- images (FSTENV/FLDENV/FSAVE/FRSTOR) ----
// An image travels through a scratch buffer: FLDENV/FRSTOR read all of it before changing anything, and
// FSTENV/FSAVE build it there and copy it out after checking that every byte can be written.

const IMAGE_MAX: u32 = 108;
/** The image buffer (static data, never moved). */
export const image: usize = memory.data(IMAGE_MAX);

/** Read the `size`-byte image (an even size up to 108) at the ModRM operand into `image`. */
export function readImage(size: u32): bool {
  const lin = segAddr(dSeg(), ea(), size, SEGV_READ);
  if (faulted) return false;
  for (let i: u32 = 0; i < size; i += 2) {
    const v = readLin16(lin + i);
    if (faulted) return false;
    store<u16>(image + i, <u16>v);
  }
  return true;
}

/** Write the first `size` bytes of `image` to the ModRM operand; nothing is written if any byte faults. */
export function writeImage(size: u32): bool {
  if (!storeTarget(size)) return false;
  for (let i: u32 = 0; i < size; i += 2) writeLin16(storeLin + i, <u32>load<u16>(image + i));
  return true;
}
