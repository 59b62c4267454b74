// String instructions MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/REPNE. A repeated instruction runs a
// bounded number of iterations per execution and then restarts itself, so interrupts are taken between
// iterations; a fault in iteration k leaves ECX/ESI/EDI as of the k-1 completed ones (SDM 7.3.9.1). REP MOVS
// and REP STOS move whole runs within a page at once where they can (string-bulk.ts).
import { dOp, dPfx, dA32, dSeg, dOsz, dStart, setNextEip, PFX_REP, PFX_REPNE } from "../decode";
import { faulted } from "../exceptions";
import { sysFlag, DF, flag, ZF } from "../flags";
import { ECX, ESI, EDI, EAX, EDX, reg32, reg16, setReg32, setReg16 } from "../state";
import { getReg, setReg } from "../operand";
import { readSz, writeSz } from "../mem";
import { alu, ALU_CMP } from "./alu";
import { ioAllowed } from "./io";
import { hostIoRead, hostIoWrite } from "../seam";
import { repBulk } from "./string-bulk";

const ES: u32 = 0;
/** Iterations per execution of a repeated string instruction before it yields to pending events. */
const REP_BATCH: u32 = 4096;

@inline function idx(r: u32): u32 { return dA32() ? reg32(r) : reg16(r); }
@inline function setIdx(r: u32, v: u32): void { if (dA32()) setReg32(r, v); else setReg16(r, v); }
@inline function advance(r: u32, size: u32): void { setIdx(r, sysFlag(DF) ? idx(r) - size : idx(r) + size); }

export function opString(): void {
  const op = dOp();
  let size: u32;
  if (op == 0x6c || op == 0x6e || op == 0xa4 || op == 0xa6 || op == 0xaa || op == 0xac || op == 0xae) size = 1;
  else size = dOsz();
  const rep = (dPfx() & (PFX_REP | PFX_REPNE)) != 0;
  const port = reg16(EDX);
  if ((op & 0xfc) == 0x6c && !ioAllowed(port, size)) return;
  if (!rep) { iterate(op, size, port); return; }
  const bulk = op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab;
  let n: u32 = 0;
  while (true) {
    const left = idx(ECX);
    if (left == 0) return;
    if (bulk) {
      const k = repBulk(op, size, min(left, REP_BATCH - n));
      if (k != 0) {
        n += k;
        if (n >= REP_BATCH && idx(ECX) != 0) { setNextEip(dStart); return; }
        continue;
      }
    }
    iterate(op, size, port);
    if (faulted) return;
    setIdx(ECX, idx(ECX) - 1);
    // REPE/REPNE also stop on the ZF condition for CMPS and SCAS.
    if (op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf) {
      const z = flag(ZF);
      if ((dPfx() & PFX_REP) != 0 ? !z : z) return;
    }
    if (++n >= REP_BATCH && idx(ECX) != 0) { setNextEip(dStart); return; }
  }
}

function iterate(op: u32, size: u32, port: u32): void {
  switch (op) {
    case 0xa4: case 0xa5: { // MOVS
      const v = readSz(dSeg(), idx(ESI), size);
      if (faulted) return;
      writeSz(ES, idx(EDI), size, v);
      if (faulted) return;
      advance(ESI, size); advance(EDI, size);
      break;
    }
    case 0xa6: case 0xa7: { // CMPS: [seg:ESI] - [ES:EDI]
      const a = readSz(dSeg(), idx(ESI), size);
      if (faulted) return;
      const b = readSz(ES, idx(EDI), size);
      if (faulted) return;
      alu(ALU_CMP, size, a, b);
      advance(ESI, size); advance(EDI, size);
      break;
    }
    case 0xaa: case 0xab: { // STOS
      writeSz(ES, idx(EDI), size, getReg(EAX, size));
      if (faulted) return;
      advance(EDI, size);
      break;
    }
    case 0xac: case 0xad: { // LODS
      const v = readSz(dSeg(), idx(ESI), size);
      if (faulted) return;
      setReg(EAX, size, v);
      advance(ESI, size);
      break;
    }
    case 0xae: case 0xaf: { // SCAS: eAX - [ES:EDI]
      const b = readSz(ES, idx(EDI), size);
      if (faulted) return;
      alu(ALU_CMP, size, getReg(EAX, size), b);
      advance(EDI, size);
      break;
    }
    case 0x6c: case 0x6d: { // INS: the destination is checked before the port is read (SDM INS)
      writeSz(ES, idx(EDI), size, 0);
      if (faulted) return;
      writeSz(ES, idx(EDI), size, hostIoRead(port, size));
      advance(EDI, size);
      break;
    }
    default: { // 6E 6F OUTS
      const v = readSz(dSeg(), idx(ESI), size);
      if (faulted) return;
      hostIoWrite(port, size, v);
      advance(ESI, size);
      break;
    }
  }

}
