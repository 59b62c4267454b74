// The x87 register file in the vCPU block and the rules every x87 instruction shares: the register stack
// with its tags, the status word, exception signalling (SDM Vol. 1 8.5, 8.7), the last-instruction
// pointers (8.1.8, 8.1.9), device-not-available and pending-exception checks (Vol. 3 2.5, Table 2-2).
//
// Layout (offsets from the vCPU base, named in src/layout/memory.ts):
//
//   CPU_FPU_ST + 16 × p   physical register Rp:  +0 u64 significand (J in bit 63), +8 u16 sign:exponent
//   CPU_FPU_CW            control word          CPU_FPU_FOP   last opcode, 11 bits (8.1.9)
//   CPU_FPU_SW            status word with TOP   CPU_FPU_FIP   last instruction offset,  CPU_FPU_FCS its CS
//   CPU_FPU_TW            full tag word          CPU_FPU_FDP   last operand offset,      CPU_FPU_FDS its segment
//   CPU_FPU_FERR          FERR# output (1 = asserted)          CPU_FPU_IGNNE IGNNE# input (host-driven)
//
// Tag word: 2 bits per physical register, 00 valid, 01 zero, 10 special (NaN, infinity, denormal,
// unsupported), 11 empty. Every register write recomputes the tag from the value, so the tag word always
// reads as FSTENV/FSAVE store it (SDM 8.1.7: FLDENV/FRSTOR only use a tag to tell empty from non-empty).
import {
  CPU_FPU_ST, CPU_FPU_REG_SIZE, CPU_FPU_CW, CPU_FPU_SW, CPU_FPU_TW, CPU_FPU_FOP, CPU_FPU_FIP, CPU_FPU_FCS,
  CPU_FPU_FDP, CPU_FPU_FDS, CPU_FPU_FERR, CPU_FPU_IGNNE,
} from "../../layout/memory";
import { cpu, cr0, segSel } from "../state";
import { raiseNoErr, EXC_NM, EXC_MF } from "../exceptions";
import { dOp, dModrm, dMod, dSeg, dStart, setNextEip } from "../decode";
import { ea } from "../operand";
import { C_0, C_1, C_2, C_3, FLAG_IE, FLAG_ZE, FLAG_DE, FLAG_OE, FLAG_UE, FLAG_PE, INDEF_SIG, INDEF_SE, J_BIT } from "./f80";

// Status word bits beyond the exception flags and condition codes of f80.ts (SDM 8.1.3).
export const FSW_SF: u32 = 0b0000_0000_0100_0000; // stack fault (with IE; C1 = 1 overflow, 0 underflow)
export const FSW_ES: u32 = 0b0000_0000_1000_0000; // error summary: an unmasked exception is pending
export const FSW_TOP: u32 = 0b0011_1000_0000_0000;
export const FSW_B: u32 = 0b1000_0000_0000_0000; // busy: mirrors ES since the 387
export const FSW_TOP_SHIFT: u32 = 11;
export const FSW_CC: u32 = C_0 | C_1 | C_2 | C_3;
export const FSW_EXC: u32 = 0b0011_1111; // IE DE ZE OE UE PE (the masks sit at the same positions in FCW)

// Control word: FLDCW keeps the masks, PC, RC and the 287's IC bit; bit 6 reads as 1 (SDM 8.1.5).
export const FCW_WRITABLE: u32 = 0b0001_1111_0011_1111;
export const FCW_ONE: u32 = 0b0000_0000_0100_0000;
export const FCW_INIT: u32 = 0x037f; // FNINIT: all masked, 64-bit precision, round to nearest
/** SDM Vol. 3 9.1.1, Table 9-1 (P6 family): after RESET the FPU holds FCW 0040H — every exception unmasked,
 *  24-bit precision — FSW 0, FTW 5555H (all registers tagged zero) and +0.0 in R0..R7, pointers 0. */
export const FCW_RESET: u32 = 0x0040;
export const FTW_RESET: u32 = 0x5555;

export const TAG_VALID: u32 = 0;
export const TAG_ZERO: u32 = 1;
export const TAG_SPECIAL: u32 = 2;
export const TAG_EMPTY: u32 = 3;

// CR0 bits that gate the FPU (SDM Vol. 3 2.5).
const CR0_MP: u32 = 1 << 1;
const CR0_EM: u32 = 1 << 2;
const CR0_TS: u32 = 1 << 3;
const CR0_NE: u32 = 1 << 5;

// ---- control and status words ----
@inline export function fcw(): u32 { return load<u32>(cpu + CPU_FPU_CW); }
@inline export function setFcw(v: u32): void { store<u32>(cpu + CPU_FPU_CW, (v & FCW_WRITABLE) | FCW_ONE); }
@inline export function fsw(): u32 { return load<u32>(cpu + CPU_FPU_SW); }
@inline export function ftw(): u32 { return load<u32>(cpu + CPU_FPU_TW); }
@inline export function top(): u32 { return (fsw() >> FSW_TOP_SHIFT) & 7; }
@inline function setTop(t: u32): void {
  store<u32>(cpu + CPU_FPU_SW, (fsw() & ~FSW_TOP) | ((t & 7) << FSW_TOP_SHIFT));
}

/** Write the status word; ES/B and FERR# follow the exception flags the control word leaves unmasked. */
export function setFsw(v: u32): void {
  store<u32>(cpu + CPU_FPU_SW, v & 0xffff);
  updateSummary();
}

/** Recompute ES and B from the flags and masks (FLDCW, FLDENV, FRSTOR), and FERR# from ES. */
export function updateSummary(): void {
  let sw = fsw();
  if ((sw & ~fcw() & FSW_EXC) != 0) sw |= FSW_ES | FSW_B;
  else sw &= ~(FSW_ES | FSW_B);
  store<u32>(cpu + CPU_FPU_SW, sw);
  setFerr((sw & FSW_ES) != 0);
}

/** FERR# follows ES in MS-DOS compatibility mode (CR0.NE = 0); SDM Vol. 3 19.18.6.7: the P6 asserts it on
 *  completion of the instruction that caused the exception. IGNNE# drops with it (the PC/AT latch). */
function setFerr(on: bool): void {
  const v: u32 = on && (cr0() & CR0_NE) == 0 ? 1 : 0;
  store<u32>(cpu + CPU_FPU_FERR, v);
  if (v == 0) store<u32>(cpu + CPU_FPU_IGNNE, 0);
}

/** Replace the condition codes C0-C3 with those in `cc`. */
@inline export function setCC(cc: u32): void {
  store<u32>(cpu + CPU_FPU_SW, (fsw() & ~FSW_CC) | (cc & FSW_CC));
}
@inline export function clearC1(): void { store<u32>(cpu + CPU_FPU_SW, fsw() & ~C_1); }

// ---- registers ----
@inline function regPtr(p: u32): usize { return cpu + CPU_FPU_ST + (p & 7) * CPU_FPU_REG_SIZE; }
@inline export function physOf(i: u32): u32 { return (top() + i) & 7; }
@inline export function regSig(p: u32): u64 { return load<u64>(regPtr(p)); }
@inline export function regSE(p: u32): u32 { return <u32>load<u16>(regPtr(p) + 8); }
@inline export function tagOf(p: u32): u32 { return (ftw() >> ((p & 7) << 1)) & 3; }
export function setTag(p: u32, t: u32): void {
  const s = (p & 7) << 1;
  store<u32>(cpu + CPU_FPU_TW, (ftw() & ~(<u32>3 << s)) | (t << s));
}

/** The tag a value earns (SDM 8.1.7). */
export function tagFor(sig: u64, se: u32): u32 {
  const e = se & 0x7fff;
  if (e == 0) return sig == 0 ? TAG_ZERO : TAG_SPECIAL;
  if (e == 0x7fff || (sig & J_BIT) == 0) return TAG_SPECIAL;
  return TAG_VALID;
}

export function setReg(p: u32, sig: u64, se: u32): void {
  const a = regPtr(p);
  store<u64>(a, sig);
  store<u16>(a + 8, <u16>se);
  setTag(p, tagFor(sig, se));
}

// ST(i) views of the physical registers.
@inline export function stSig(i: u32): u64 { return regSig(physOf(i)); }
@inline export function stSE(i: u32): u32 { return regSE(physOf(i)); }
@inline export function stEmpty(i: u32): bool { return tagOf(physOf(i)) == TAG_EMPTY; }
@inline export function setSt(i: u32, sig: u64, se: u32): void { setReg(physOf(i), sig, se); }
@inline export function setStIndefinite(i: u32): void { setReg(physOf(i), INDEF_SIG, INDEF_SE); }

/** Push: TOP - 1, then the new ST(0). The caller checked for overflow (ST(7) not empty). */
export function push(sig: u64, se: u32): void {
  setTop(top() - 1);
  setSt(0, sig, se);
}
/** Pop: ST(0) becomes empty (its value stays in the register), TOP + 1. */
export function pop(): void {
  setTag(top(), TAG_EMPTY);
  setTop(top() + 1);
}
@inline export function incTop(): void { setTop(top() + 1); }
@inline export function decTop(): void { setTop(top() - 1); }

// ---- exceptions (SDM 4.9.2 priorities, 8.5 masked and unmasked responses) ----

/**
 * Record the status bits `st` an operation returned (exception flags, SF, C1). Returns true when the result
 * must be delivered to its destination, false when an unmasked exception stops it: IE, ZE and DE always; OE
 * and UE only for a memory destination (`store`), where nothing is written and PE and C1 are not reported
 * (SDM 4.9.1.4/4.9.1.5; a register destination gets the biased result of round.ts). PE never stops a
 * result (8.5.6). C1 takes the value in `st` (round-up, or overflow vs. underflow for a stack fault).
 */
export function signal(st: u32, isStore: bool): bool {
  const ex = st & (FSW_EXC | FSW_SF);
  const old = fsw();
  let sw = (old & ~C_1) | (st & C_1);
  let unmasked = ex & ~fcw() & FSW_EXC;
  let deliver = true;
  if ((ex & (FLAG_IE | FLAG_ZE)) != 0) {
    // an invalid operation or a zero divide is reported alone
    const only = (ex & FLAG_IE) != 0 ? FLAG_IE | FSW_SF : FLAG_ZE;
    sw |= ex & only;
    unmasked &= FLAG_IE | FLAG_ZE;
    deliver = unmasked == 0;
  } else if ((unmasked & FLAG_DE) != 0) {
    sw |= FLAG_DE; // a pre-computation exception: the operation does not happen
    unmasked = FLAG_DE;
    deliver = false;
  } else {
    sw |= ex;
    if (isStore && (unmasked & (FLAG_OE | FLAG_UE)) != 0) {
      sw &= ~C_1;
      if ((old & FLAG_PE) == 0) sw &= ~FLAG_PE;
      deliver = false;
    }
  }
  if (unmasked != 0) sw |= FSW_ES | FSW_B;
  store<u32>(cpu + CPU_FPU_SW, sw);
  if (unmasked != 0) setFerr(true);
  return deliver;
}

/** Stack underflow (an empty source register): IE, SF, C1 = 0. True when masked (write the indefinite). */
@inline export function underflow(): bool { return signal(FLAG_IE | FSW_SF, false); }
/** Stack overflow (a push onto a full stack): IE, SF, C1 = 1. True when masked. */
@inline export function overflow(): bool { return signal(FLAG_IE | FSW_SF | C_1, false); }

// ---- entry checks ----

/** #NM (SDM Vol. 3 Table 2-2): CR0.EM or CR0.TS for an x87 instruction; for WAIT only TS with MP. */
export function deviceNotAvailable(isWait: bool): bool {
  const c = cr0();
  const nm = isWait ? (c & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP) : (c & (CR0_EM | CR0_TS)) != 0;
  if (nm) raiseNoErr(EXC_NM);
  return nm;
}

/**
 * A waiting instruction with an unmasked exception pending (SDM 8.7): #MF in native mode (CR0.NE = 1).
 * In MS-DOS compatibility mode FERR# is asserted and the processor freezes before the instruction until
 * an interrupt (IRQ13 from FERR#) is taken, unless IGNNE# is asserted; the freeze re-executes the
 * instruction, so interrupts are taken at its boundary. Returns true when the instruction may proceed.
 */
export function pendingOk(): bool {
  if ((fsw() & FSW_ES) == 0) return true;
  if ((cr0() & CR0_NE) != 0) {
    raiseNoErr(EXC_MF);
    return false;
  }
  store<u32>(cpu + CPU_FPU_FERR, 1);
  if (load<u32>(cpu + CPU_FPU_IGNNE) != 0) return true;
  setNextEip(dStart);
  return false;
}

/** A non-control instruction executes: remember its address, opcode and memory operand (SDM 8.1.8). */
export function noteInstruction(): void {
  store<u32>(cpu + CPU_FPU_FIP, dStart); // the first prefix byte (SDM 8.1.8)
  store<u32>(cpu + CPU_FPU_FCS, segSel(1));
  store<u32>(cpu + CPU_FPU_FOP, ((dOp() & 7) << 8) | dModrm());
  if (dMod() != 3) {
    // P6: a register-only instruction leaves the data pointer as it was
    store<u32>(cpu + CPU_FPU_FDP, ea());
    store<u32>(cpu + CPU_FPU_FDS, segSel(dSeg()));
  }
}

// ---- initialisation ----

/** FNINIT (SDM Vol. 2 FINIT): control word 037FH, status and pointers 0, all tags empty; the registers keep
 *  their values. */
export function fpuInit(): void {
  store<u32>(cpu + CPU_FPU_CW, FCW_INIT);
  store<u32>(cpu + CPU_FPU_SW, 0);
  store<u32>(cpu + CPU_FPU_TW, 0xffff);
  clearPointers();
  setFerr(false);
}

/** Power-on RESET state of the x87 (see FCW_RESET). INIT leaves the FPU alone, so only RESET calls this. */
export function fpuReset(): void {
  for (let p: u32 = 0; p < 8; p++) {
    store<u64>(regPtr(p), 0);
    store<u16>(regPtr(p) + 8, 0);
  }
  store<u32>(cpu + CPU_FPU_CW, FCW_RESET);
  store<u32>(cpu + CPU_FPU_SW, 0);
  store<u32>(cpu + CPU_FPU_TW, FTW_RESET);
  clearPointers();
  store<u32>(cpu + CPU_FPU_FERR, 0);
  store<u32>(cpu + CPU_FPU_IGNNE, 0);
}

function clearPointers(): void {
  store<u32>(cpu + CPU_FPU_FOP, 0);
  store<u32>(cpu + CPU_FPU_FIP, 0);
  store<u32>(cpu + CPU_FPU_FCS, 0);
  store<u32>(cpu + CPU_FPU_FDP, 0);
  store<u32>(cpu + CPU_FPU_FDS, 0);
}

// Pointer fields for FSTENV/FLDENV.
@inline export function fip(): u32 { return load<u32>(cpu + CPU_FPU_FIP); }
@inline export function fcs(): u32 { return load<u32>(cpu + CPU_FPU_FCS); }
@inline export function fdp(): u32 { return load<u32>(cpu + CPU_FPU_FDP); }
@inline export function fds(): u32 { return load<u32>(cpu + CPU_FPU_FDS); }
@inline export function fop(): u32 { return load<u32>(cpu + CPU_FPU_FOP); }
export function setPointers(ip: u32, cs: u32, dp: u32, ds: u32, op: u32): void {
  store<u32>(cpu + CPU_FPU_FIP, ip);
  store<u32>(cpu + CPU_FPU_FCS, cs & 0xffff);
  store<u32>(cpu + CPU_FPU_FDP, dp);
  store<u32>(cpu + CPU_FPU_FDS, ds & 0xffff);
  store<u32>(cpu + CPU_FPU_FOP, op & 0x7ff);
}

/** Replace the whole tag word from an FLDENV/FRSTOR image: only empty vs. non-empty is taken from it. */
export function loadTagWord(image: u32): void {
  let tw: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    const t = ((image >> (p << 1)) & 3) == TAG_EMPTY ? TAG_EMPTY : tagFor(regSig(p), regSE(p));
    tw |= t << (p << 1);
  }
  store<u32>(cpu + CPU_FPU_TW, tw);
}

/** Write physical register p without touching its tag (FRSTOR, which sets the tags afterwards). */
export function setRegRaw(p: u32, sig: u64, se: u32): void {
  store<u64>(regPtr(p), sig);
  store<u16>(regPtr(p) + 8, <u16>se);
}
