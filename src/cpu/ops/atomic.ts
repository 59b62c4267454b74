// Exchange-and-compare instructions: CMPXCHG, CMPXCHG8B, XADD. A single vCPU executes them atomically by
// construction; the destination is always written (with its old value on a failed compare), as the SDM says.
import { dOp, dOsz, dReg, dMod, dSeg } from "../decode";
import { faulted, raiseUD } from "../exceptions";
import { setFlags, ZF } from "../flags";
import { readG, writeG, readEForWrite, writeBackE, getReg, setReg, ea } from "../operand";
import { segAddr, probeWrite, readLin32, writeLin32 } from "../mem";
import { EAX, EBX, ECX, EDX, reg32, setReg32, SEGV_READ, SEGV_WRITE } from "../state";
import { alu, ALU_CMP, ALU_ADD } from "./alu";

/** 0F B0 CMPXCHG Eb,Gb; 0F B1 CMPXCHG Ev,Gv. */
export function opCmpxchg(): void {
  const size: u32 = dOp() == 0x1b0 ? 1 : dOsz();
  const d = readEForWrite(size);
  if (faulted) return;
  const acc = getReg(EAX, size);
  alu(ALU_CMP, size, acc, d);
  if (acc == d) {
    writeBackE(size, readG(size));
  } else {
    writeBackE(size, d);
    setReg(EAX, size, d);
  }
}

/** 0F C0 XADD Eb,Gb; 0F C1 XADD Ev,Gv. */
export function opXadd(): void {
  const size: u32 = dOp() == 0x1c0 ? 1 : dOsz();
  const d = readEForWrite(size);
  if (faulted) return;
  const s = readG(size);
  const sum = alu(ALU_ADD, size, d, s);
  writeG(size, d);
  writeBackE(size, sum);
}

/** 0F C7 /1 CMPXCHG8B m64. */
export function opGrp9(): void {
  if (dReg() != 1 || dMod() == 3) { raiseUD(); return; }
  const lin = segAddr(dSeg(), ea(), 8, SEGV_READ | SEGV_WRITE);
  if (faulted) return;
  probeWrite(lin, 8);
  if (faulted) return;
  const lo = readLin32(lin);
  const hi = readLin32(lin + 4);
  if (faulted) return;
  if (lo == reg32(EAX) && hi == reg32(EDX)) {
    writeLin32(lin, reg32(EBX));
    writeLin32(lin + 4, reg32(ECX));
    setFlags(ZF, ZF);
  } else {
    writeLin32(lin, lo);
    writeLin32(lin + 4, hi);
    setReg32(EAX, lo);
    setReg32(EDX, hi);
    setFlags(0, ZF);
  }
}
