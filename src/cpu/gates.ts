// Far CALL and JMP through call gates (SDM CALL and JMP reference pages, "CALL-GATE"; 5.8.3-5.8.6): privilege
// checks, the stack switch from the TSS with parameter copy for a call to a more privileged level.
import { SEG_TR } from "../layout/memory";
import { cpl, segSel, segBase, segLimit, segAttr, reg32, setReg32, setReg16, setSegCache, updateMode, ESP, SEG_SS_INDEX, ATTR_S, ATTR_P, ATTR_DPL_SHIFT, ATTR_DB, SEGV_READ, SEGV_WRITE } from "./state";
import { raise, raiseGP, faulted, EXC_GP, EXC_NP, EXC_TS, EXC_SS } from "./exceptions";
import { nextEip, setNextEip } from "./decode";
import { readSz, writeLin16, writeLin32, readLin16, readLin32, setAccessUser, accUser, segAddr } from "./mem";
import { stack32, stackCheck } from "./operand";
import { readDescriptor, descLo, descHi, descAddr, descAttr, descBase, descLimit, setDescriptorState } from "./segments";
import { loadCsProt, FAR_CALL } from "./far";

export const GATE_CALL16: u32 = 0x4;
export const GATE_CALL32: u32 = 0xc;

/** Far transfer through the call gate whose descriptor (selector `gateSel`) is in descLo/descHi. */
export function callGate(kind: u32, gateSel: u32): void {
  const gLo = descLo, gHi = descHi;
  const gattr = descAttr(gHi);
  const gdpl = (gattr >> ATTR_DPL_SHIFT) & 3;
  const c = cpl();
  if (gdpl < c || gdpl < (gateSel & 3)) { raiseGP(gateSel & 0xfffc); return; }
  if ((gattr & ATTR_P) == 0) { raise(EXC_NP, gateSel & 0xfffc, true); return; }
  const gate32 = (gattr & 0xf) == GATE_CALL32;
  const sel = gLo >>> 16;
  let offset = (gLo & 0xffff) | (gHi & 0xffff_0000);
  if (!gate32) offset &= 0xffff;
  const params = gHi & 0x1f;
  if ((sel & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const attr = descAttr(descHi);
  const dpl = (attr >> ATTR_DPL_SHIFT) & 3;
  if ((attr & ATTR_S) == 0 || (attr & 0b1000) == 0 || dpl > c) { raiseGP(sel & 0xfffc); return; }
  const conforming = (attr & 0b0100) != 0;
  if (kind != FAR_CALL && !conforming && dpl != c) { raiseGP(sel & 0xfffc); return; }
  if ((attr & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  if (offset > descLimit(descLo, descHi)) { raiseGP(0); return; }
  const csLo = descLo, csHi = descHi, csAddr = descAddr;
  const n: u32 = gate32 ? 4 : 2;
  if (kind != FAR_CALL) {
    loadCsProt(sel, c);
    setNextEip(offset);
    return;
  }
  if (conforming || dpl == c) {
    // Same privilege: push CS:EIP (at the gate's size) on the current stack.
    const mask: u32 = stack32() ? 0xffff_ffff : 0xffff;
    const top = (reg32(ESP) - 2 * n) & mask;
    stackCheck(top, 2 * n, SEGV_WRITE);
    if (faulted) return;
    const b = segBase(SEG_SS_INDEX);
    put(b + ((top + n) & mask), n, segSel(1));
    put(b + top, n, nextEip);
    if (faulted) return;
    setSp(top, stack32());
    loadCsProt(sel, c);
    setNextEip(offset);
    return;
  }
  // More privilege: new SS:ESP for level `dpl` from the TSS; copy `params` words/dwords from the old stack.
  const tssBase = segBase(SEG_TR);
  const tss32 = (segAttr(SEG_TR) & 0b1000) != 0;
  const u = accUser;
  setAccessUser(false);
  let newEsp: u32, newSs: u32;
  const at: u32 = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
  if (at + (tss32 ? 5 : 3) > segLimit(SEG_TR)) { setAccessUser(u); raise(EXC_TS, segSel(SEG_TR) & 0xfffc, true); return; }
  if (tss32) { newEsp = readLin32(tssBase + at); newSs = readLin16(tssBase + at + 4); }
  else { newEsp = readLin16(tssBase + at); newSs = readLin16(tssBase + at + 2); }
  setAccessUser(u);
  if (faulted) return;
  if ((newSs & 0xfffc) == 0) { raise(EXC_TS, 0, true); return; }
  if (!readDescriptor(newSs, EXC_TS)) return;
  const sattr = descAttr(descHi);
  if ((newSs & 3) != dpl || ((sattr >> ATTR_DPL_SHIFT) & 3) != dpl || (sattr & ATTR_S) == 0 || (sattr & 0b1010) != 0b0010) {
    raise(EXC_TS, newSs & 0xfffc, true); return;
  }
  if ((sattr & ATTR_P) == 0) { raise(EXC_SS, newSs & 0xfffc, true); return; }
  const ssLo = descLo, ssHi = descHi, ssAddr = descAddr;
  const ssBase = descBase(ssLo, ssHi);
  const ss32 = (sattr & ATTR_DB) != 0;
  const mask: u32 = ss32 ? 0xffff_ffff : 0xffff;
  const total = n * (4 + params);
  const top = (newEsp - total) & mask;
  if (top + total - 1 > descLimit(ssLo, ssHi)) { raise(EXC_SS, newSs & 0xfffc, true); return; }
  // Read the parameters from the caller's stack before anything is written.
  const oldMask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  const oldEsp = reg32(ESP);
  const oldSs = segSel(SEG_SS_INDEX);
  stackCheck(oldEsp & oldMask, n * params, SEGV_READ);
  if (faulted) return;
  for (let i: u32 = 0; i < params; i++) {
    scratch[i] = readSz(SEG_SS_INDEX, (oldEsp + i * n) & oldMask, n);
    if (faulted) return;
  }
  // Frame, from the top: SS, ESP, params (in their original order), CS, EIP.
  setAccessUser(false);
  put(ssBase + ((top + (3 + params) * n) & mask), n, oldSs);
  put(ssBase + ((top + (2 + params) * n) & mask), n, oldEsp);
  for (let i: u32 = 0; i < params; i++) put(ssBase + ((top + (2 + i) * n) & mask), n, scratch[i]);
  put(ssBase + ((top + n) & mask), n, segSel(1));
  put(ssBase + top, n, nextEip);
  setAccessUser(u);
  if (faulted) return;
  setDescriptorState(ssLo, ssHi, ssAddr);
  setSegCache(SEG_SS_INDEX, newSs, ssBase, descLimit(ssLo, ssHi), sattr);
  setDescriptorState(csLo, csHi, csAddr);
  loadCsProt(sel, dpl);
  updateMode();
  setSp(top, ss32);
  setNextEip(offset);
}

const scratch = new StaticArray<u32>(32);

@inline function put(lin: u32, n: u32, v: u32): void { if (n == 4) writeLin32(lin, v); else writeLin16(lin, v); }
function setSp(v: u32, big: bool): void { if (big) setReg32(ESP, v); else setReg16(ESP, v); }
