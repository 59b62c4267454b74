// x87 control instructions: FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW (m16 and AX), FNSTENV, FLDENV, FNSAVE,
// FRSTOR (SDM Vol. 2 the instruction pages; Vol. 1 8.1.10 the environment and state images). None of them
// changes the last-instruction pointers (Vol. 1 8.1.8).
//
// Environment images (Vol. 1 Figures 8-9 to 8-12), by operand size and mode; the state image (FSAVE) is the
// environment followed by ST(0)..ST(7), 10 bytes each.
//
//   32-bit protected (28 bytes)          32-bit real / VM86 (28 bytes)
//   +0  FCW                              +0  FCW
//   +4  FSW                              +4  FSW
//   +8  FTW                              +8  FTW
//   +12 FIP                              +12 FIP 15..0
//   +16 FCS | FOP << 16                  +16 FOP | FIP 31..16 << 12
//   +20 FDP                              +20 FDP 15..0
//   +24 FDS                              +24 FDP 31..16 << 12
//   16-bit forms: the same fields as 16-bit words at +0 +2 +4 ... +12 (14 bytes); in real mode FIP/FDP
//   bits 19..16 sit in bits 15..12 of the words at +8 and +12, and FOP in bits 10..0 of the word at +8.
//   In real mode the pointers are linear addresses (selector × 16 + offset).
// Reserved upper halves of the 32-bit forms are stored as FFFFH, as the hardware does.
import { MODE_PROT, MODE_VM86 } from "../../layout/memory";
import { mode, setReg16, EAX } from "../state";
import { dOsz } from "../decode";
import {
  fcw, setFcw, fsw, setFsw, ftw, fip, fcs, fdp, fds, fop, setPointers, fpuInit, updateSummary, loadTagWord, setRegRaw,
  stSig, stSE, FSW_EXC, FSW_SF, FSW_ES, FSW_B, FSW_TOP_SHIFT,
} from "./state";
import { readOperand, opLo, storeTarget, storeOperand, image, readImage, writeImage } from "./memop";

const RESERVED: u32 = 0xffff_0000;

@inline function protectedLayout(): bool { return (mode() & (MODE_PROT | MODE_VM86)) == MODE_PROT; }
@inline function envSize(): u32 { return dOsz() == 4 ? 28 : 14; }

@inline function put16(off: u32, v: u32): void { store<u16>(image + off, <u16>v); }
@inline function put32(off: u32, v: u32): void { store<u32>(image + off, v); }
@inline function get16(off: u32): u32 { return <u32>load<u16>(image + off); }
@inline function get32(off: u32): u32 { return load<u32>(image + off); }

/** Build the environment at the start of `image`. */
function buildEnv(): void {
  const prot = protectedLayout();
  const ipLin = (fcs() << 4) + fip();
  const dpLin = (fds() << 4) + fdp();
  if (dOsz() == 4) {
    put32(0, RESERVED | fcw());
    put32(4, RESERVED | fsw());
    put32(8, RESERVED | ftw());
    if (prot) {
      put32(12, fip());
      put32(16, fcs() | (fop() << 16));
      put32(20, fdp());
      put32(24, RESERVED | fds());
    } else {
      put32(12, RESERVED | (ipLin & 0xffff));
      put32(16, ((ipLin & 0xffff_0000) >> 4) | fop());
      put32(20, RESERVED | (dpLin & 0xffff));
      put32(24, (dpLin & 0xffff_0000) >> 4);
    }
  } else {
    put16(0, fcw());
    put16(2, fsw());
    put16(4, ftw());
    if (prot) {
      put16(6, fip());
      put16(8, fcs());
      put16(10, fdp());
      put16(12, fds());
    } else {
      put16(6, ipLin);
      put16(8, ((ipLin & 0xf_0000) >> 4) | fop());
      put16(10, dpLin);
      put16(12, (dpLin & 0xf_0000) >> 4);
    }
  }
}

/** Load the environment from the start of `image`; returns the tag word image (applied by the caller, after
 *  the registers of FRSTOR, since non-empty tags are recomputed from the register contents). */
function applyEnv(): u32 {
  const prot = protectedLayout();
  let tw: u32;
  if (dOsz() == 4) {
    setFcw(get16(0));
    tw = get16(8);
    setFsw(get16(4));
    if (prot) setPointers(get32(12), get16(16), get32(20), get16(24), get16(18));
    else {
      const w = get32(16);
      const ip = get16(12) | ((w & 0x0fff_f000) << 4);
      const dp = get16(20) | ((get32(24) & 0x0fff_f000) << 4);
      setPointers(ip, 0, dp, 0, w);
    }
  } else {
    setFcw(get16(0));
    tw = get16(4);
    setFsw(get16(2));
    if (prot) setPointers(get16(6), get16(8), get16(10), get16(12), 0);
    else {
      const w = get16(8);
      setPointers(get16(6) | ((w & 0xf000) << 4), 0, get16(10) | ((get16(12) & 0xf000) << 4), 0, w);
    }
  }
  return tw;
}

/** DB E3 FNINIT. */
export function fninit(): void { fpuInit(); }

/** DB E2 FNCLEX: exception flags, SF, ES and B cleared; TOP and C0-C3 kept. */
export function fnclex(): void {
  setFsw(fsw() & ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B));
}

/** D9 /5 FLDCW m16. */
export function fldcw(): void {
  if (!readOperand(2)) return;
  setFcw(<u32>opLo);
  updateSummary();
}

/** D9 /7 FNSTCW m16. */
export function fnstcw(): void {
  if (!storeTarget(2)) return;
  storeOperand(2, <u64>fcw(), 0);
}

/** DD /7 FNSTSW m16. */
export function fnstswMem(): void {
  if (!storeTarget(2)) return;
  storeOperand(2, <u64>fsw(), 0);
}

/** DF E0 FNSTSW AX. */
export function fnstswAx(): void { setReg16(EAX, fsw()); }

/** D9 /6 FNSTENV: store the environment, then mask every exception. */
export function fnstenv(): void {
  buildEnv();
  if (!writeImage(envSize())) return;
  setFcw(fcw() | FSW_EXC);
}

/** D9 /4 FLDENV. */
export function fldenv(): void {
  if (!readImage(envSize())) return;
  loadTagWord(applyEnv());
  updateSummary();
}

/** DD /6 FNSAVE: store the environment and the registers in stack order, then FNINIT. */
export function fnsave(): void {
  buildEnv();
  const base = envSize();
  for (let i: u32 = 0; i < 8; i++) {
    const at = image + base + i * 10;
    store<u64>(at, stSig(i));
    store<u16>(at + 8, <u16>stSE(i));
  }
  if (!writeImage(base + 80)) return;
  fpuInit();
}

/** DD /4 FRSTOR. */
export function frstor(): void {
  const base = envSize();
  if (!readImage(base + 80)) return;
  const tw = applyEnv();
  const t = (fsw() >> FSW_TOP_SHIFT) & 7;
  for (let i: u32 = 0; i < 8; i++) {
    const at = image + base + i * 10;
    setRegRaw((t + i) & 7, load<u64>(at), <u32>load<u16>(at + 8));
  }
  loadTagWord(tw);
  updateSummary();
}
