// IN, OUT, INS, OUTS port access, with the protected-mode I/O permission check (SDM 19.5: CPL > IOPL or
// virtual-8086 mode consults the TSS I/O permission bitmap).
import { SEG_TR } from "../../layout/memory";
import { dOp, dImm, dOsz } from "../decode";
import { raiseGP, faulted } from "../exceptions";
import { getFlags, IOPL } from "../flags";
import { cpl, segBase, segLimit, segAttr, reg16, EAX, EDX } from "../state";
import { getReg, setReg } from "../operand";
import { readLin16, readLin8, setAccessUser, accUser } from "../mem";
import { protMode, vm86 } from "../segments";
import { hostIoRead, hostIoWrite } from "../seam";

/** False (after raising #GP(0)) if the current privilege may not access `size` ports at `port`. */
export function ioAllowed(port: u32, size: u32): bool {
  if (!vm86() && (!protMode() || cpl() <= ((getFlags() & IOPL) >> 12))) return true;
  // Only a 32-bit TSS has a bitmap; every bit for the accessed ports must be clear.
  const tr = segAttr(SEG_TR) & 0xf;
  if (tr != 0x9 && tr != 0xb) { raiseGP(0); return false; }
  const base = segBase(SEG_TR);
  const limit = segLimit(SEG_TR);
  if (limit < 0x67) { raiseGP(0); return false; }
  const u = accUser;
  setAccessUser(false);
  const mapOff = readLin16(base + 0x66);
  const byteOff = mapOff + (port >> 3);
  let ok = !faulted && byteOff + 1 <= limit;
  if (ok) {
    const bits = readLin8(base + byteOff) | (readLin8(base + byteOff + 1) << 8);
    ok = !faulted && ((bits >> (port & 7)) & ((1 << size) - 1)) == 0;
  }
  setAccessUser(u);
  if (faulted) return false;
  if (!ok) { raiseGP(0); return false; }
  return true;
}

/** E4 E5 EC ED: IN AL/eAX from imm8 or DX. */
export function opIn(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  const port = dOp() < 0xe8 ? dImm() & 0xff : reg16(EDX);
  if (!ioAllowed(port, size)) return;
  setReg(EAX, size, hostIoRead(port, size));
}

/** E6 E7 EE EF: OUT imm8 or DX from AL/eAX. */
export function opOut(): void {
  const size: u32 = (dOp() & 1) == 0 ? 1 : dOsz();
  const port = dOp() < 0xe8 ? dImm() & 0xff : reg16(EDX);
  if (!ioAllowed(port, size)) return;
  hostIoWrite(port, size, getReg(EAX, size));
}
