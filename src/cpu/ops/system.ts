// System instructions: control registers, descriptor-table registers, LLDT/LTR, LMSW/SMSW/CLTS, INVLPG,
// caches, MSRs, IRET. Privileged ones are #GP(0) unless CPL = 0 (SDM 5.9).
import {
  CPU_CR0, CPU_CR2, CPU_CR3, CPU_CR4, CPU_GDTR_BASE, CPU_GDTR_LIMIT, CPU_IDTR_BASE, CPU_IDTR_LIMIT, CPU_DR,
  CPU_MSR, SEG_TR, SEG_LDTR, CPU_TSC_OFFSET, CPU_SEG, SEG_SIZE, SEG_LIMIT, CPU_EFER,
} from "../../layout/memory";
import { dOp, dReg, dRm, dMod, dOsz, dSeg, dA32, setNextEip, nextEip } from "../decode";
import { faulted, raise, raiseGP, raiseUD, EXC_NP, EXC_GP } from "../exceptions";
import { getFlags, setFlags, VM, IOPL, IF, NT, RF, AC, ID, VIF, VIP, ARITH, TF, DF } from "../flags";
import {
  cpu, cpl, cr0, reg32, setReg32, segSel, segBase, segLimit, setSegCache, updateMode, ESP, EAX, ECX, EDX, SEG_SS_INDEX, SEGV_READ, SEGV_WRITE,
  ATTR_S, ATTR_P, ATTR_DPL_SHIFT, ATTR_DB, loadSegReal, setCpl,
} from "../state";
import { ea, readE, writeE, stack32, sp, stackCheck } from "../operand";
import { readSz, writeSz, segAddr, setAccessUser, writeLin8, readLin16 } from "../mem";
import { protMode, vm86, loadSeg, readDescriptor, descLo, descHi, descAddr, descAttr, descBase, descLimit, setDescriptorState } from "../segments";
import { loadCsProt, checkOuterStack, nullInaccessibleSegs } from "../far";
import { flushTlb } from "../exec";
import { MSR_SLOT_BIOS_SIGN_ID } from "../cpuid";
import { tlbInvalidatePage } from "../../mmu/tlb";
import { loadPdptes, EFER_NXE } from "../../mmu/paging";
import { invalidateFetch } from "../decode";
import { readTsc } from "./misc";
import { logUnimplemented } from "../udlog";
import { verrVerw } from "./protection";
import { dr, debugRegistersChanged, reportDr6, DR6_BD, DR7_GD } from "../debug";
import { taskSwitch, taskEip, TASK_IRET } from "../task";

@inline function privileged(): bool {
  if ((protMode() && cpl() != 0) || vm86()) { raiseGP(0); return false; }
  return true;
}

const CR0_PE: u32 = 1 << 0;
const CR0_ET: u32 = 1 << 4;
const CR0_PG: u32 = 1 << 31;
const CR0_WRITABLE: u32 = 0xe005_003f; // PG CD NW AM WP NE ET TS EM MP PE
const CR4_PSE: u32 = 1 << 4;
const CR4_PGE: u32 = 1 << 7;
const CR4_PAE: u32 = 1 << 5;
const CR4_WRITABLE: u32 = 0b0001_1011_1000; // DE PSE PAE MCE PGE PCE (SDM 2.5); TSD VME PVI below
const CR4_LOW: u32 = 0b111; // VME PVI TSD

export function writeCr0(v: u32): void {
  // SDM MOV CR0: PG without PE, or NW without CD, is #GP(0).
  if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) { raiseGP(0); return; }
  if ((v & (1 << 29)) != 0 && (v & (1 << 30)) == 0) { raiseGP(0); return; }
  const old = cr0();
  const nv = (v & CR0_WRITABLE) | CR0_ET; // ET is hard-wired to 1 on P6
  // Enabling paging with CR4.PAE loads the PDPTEs; a reserved bit in one is #GP and CR0 keeps its value.
  if ((nv & CR0_PG) != 0 && (old & CR0_PG) == 0 && (load<u32>(cpu + CPU_CR4) & CR4_PAE) != 0) {
    store<u32>(cpu + CPU_CR0, nv);
    if (!loadPdptes()) { store<u32>(cpu + CPU_CR0, old); return; }
  }
  store<u32>(cpu + CPU_CR0, nv);
  if (((old ^ nv) & (CR0_PG | (1 << 16) | CR0_PE)) != 0) flushTlb(false);
  updateMode();
}

/** 0F 20 MOV r32, CRn; 0F 22 MOV CRn, r32 (the mod field is ignored: always registers). */
export function opMovCr(): void {
  if (!privileged()) return;
  const toCr = dOp() == 0x122;
  switch (dReg()) {
    case 0:
      if (toCr) writeCr0(reg32(dRm())); else setReg32(dRm(), cr0());
      break;
    case 2:
      if (toCr) store<u64>(cpu + CPU_CR2, <u64>reg32(dRm())); else setReg32(dRm(), <u32>load<u64>(cpu + CPU_CR2));
      break;
    case 3:
      if (toCr) {
        const old3 = load<u64>(cpu + CPU_CR3);
        // PAE: CR3 holds a 32-byte aligned PDPT address (bits 31:5); otherwise a page-aligned PD (and PWT/PCD).
        const pae = (load<u32>(cpu + CPU_CR4) & CR4_PAE) != 0;
        store<u64>(cpu + CPU_CR3, <u64>(reg32(dRm()) & (pae ? 0xffff_fff8 : 0xffff_f018)));
        if (pae && (cr0() & CR0_PG) != 0 && !loadPdptes()) { store<u64>(cpu + CPU_CR3, old3); return; }
        flushTlb(true); // SDM 4.10.4.1: a CR3 write keeps global translations
      } else {
        setReg32(dRm(), <u32>load<u64>(cpu + CPU_CR3));
      }
      break;
    case 4:
      if (toCr) {
        const v = reg32(dRm());
        if ((v & ~(CR4_WRITABLE | CR4_LOW)) != 0) { raiseGP(0); return; }
        const old = load<u32>(cpu + CPU_CR4);
        store<u32>(cpu + CPU_CR4, v);
        // With paging on, changing PAE, PSE or PGE reloads the PDPTEs in PAE mode (SDM 4.4.1) and flushes.
        if (((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE)) != 0) {
          if ((v & CR4_PAE) != 0 && (cr0() & CR0_PG) != 0 && !loadPdptes()) { store<u32>(cpu + CPU_CR4, old); return; }
          flushTlb(false);
        }
      } else {
        setReg32(dRm(), load<u32>(cpu + CPU_CR4));
      }
      break;
    default:
      raiseUD();
      return;
  }
}

/** 0F 21 MOV r32, DRn; 0F 23 MOV DRn, r32. DR4/DR5 alias DR6/DR7 while CR4.DE is clear. */
export function opMovDr(): void {
  if (!privileged()) return;
  // General detect: with DR7.GD set, any debug-register access faults with DR6.BD and GD cleared (SDM 17.2.4).
  if ((dr(7) & DR7_GD) != 0) {
    store<u64>(cpu + CPU_DR + 7 * 8, <u64>(dr(7) & ~DR7_GD));
    reportDr6(DR6_BD);
    raise(1, 0, false);
    return;
  }
  let r = dReg();
  if (r == 4 || r == 5) {
    if ((load<u32>(cpu + CPU_CR4) & (1 << 3)) != 0) { raiseUD(); return; }
    r += 2;
  }
  const p = cpu + CPU_DR + (r << 3);
  if (dOp() == 0x123) {
    let v = reg32(dRm());
    if (r == 6) v = (v & 0x0000_e00f) | 0xffff_0ff0;
    else if (r == 7) v = (v & 0xffff_2bff) | 0x400;
    store<u64>(p, <u64>v);
    if (r != 6) {
      debugRegistersChanged();
      flushTlb(false); // pages holding data breakpoints must leave (or may re-enter) the TLB
    }
  } else {
    setReg32(dRm(), <u32>load<u64>(p));
  }
}

/** 0F 01 group 7: SGDT SIDT LGDT LIDT SMSW (reg 6 is LMSW) INVLPG. */
export function opGrp7(): void {
  switch (dReg()) {
    case 0: case 1: { // SGDT / SIDT: 16-bit operand size stores a 24-bit base (SDM SGDT)
      if (dMod() == 3) { raiseUD(); return; }
      const base = <u32>load<u64>(cpu + (dReg() == 0 ? CPU_GDTR_BASE : CPU_IDTR_BASE));
      const limit = load<u32>(cpu + (dReg() == 0 ? CPU_GDTR_LIMIT : CPU_IDTR_LIMIT));
      const off = ea();
      segAddr(dSeg(), off, 6, SEGV_WRITE);
      if (faulted) return;
      writeSz(dSeg(), off, 2, limit);
      if (faulted) return;
      writeSz(dSeg(), (off + 2) & (dA32() ? 0xffff_ffff : 0xffff), 4, dOsz() == 2 ? base & 0x00ff_ffff : base);
      return;
    }
    case 2: case 3: {
      if (dMod() == 3) { raiseUD(); return; }
      if (!privileged()) return;
      const off = ea();
      const limit = readSz(dSeg(), off, 2);
      if (faulted) return;
      let base = readSz(dSeg(), (off + 2) & (dA32() ? 0xffff_ffff : 0xffff), 4);
      if (faulted) return;
      if (dOsz() == 2) base &= 0x00ff_ffff;
      store<u64>(cpu + (dReg() == 2 ? CPU_GDTR_BASE : CPU_IDTR_BASE), <u64>base);
      store<u32>(cpu + (dReg() == 2 ? CPU_GDTR_LIMIT : CPU_IDTR_LIMIT), limit);
      return;
    }
    case 4: { // SMSW: a register destination gets all of CR0 at 32-bit operand size
      const v = cr0();
      if (dMod() == 3) { if (dOsz() == 4) setReg32(dRm(), v); else writeE(2, v & 0xffff); }
      else writeE(2, v & 0xffff);
      return;
    }
    case 6: { // LMSW: loads PE MP EM TS; cannot clear PE (SDM LMSW)
      if (!privileged()) return;
      const v = readE(2);
      if (faulted) return;
      const old = cr0();
      writeCr0((old & ~0xe) | (v & 0xf) | (old & 1));
      return;
    }
    case 7: { // INVLPG m
      if (dMod() == 3) { raiseUD(); return; }
      if (!privileged()) return;
      // INVLPG does no segment limit or type check: the linear address is simply base + offset.
      const lin = segBase(dSeg()) + ea();
      tlbInvalidatePage(lin);
      invalidateFetch();
      return;
    }
    default:
      raiseUD();
  }
}

/** 0F 00 group 6: SLDT STR LLDT LTR VERR VERW. #UD in real and virtual-8086 mode. */
export function opGrp6(): void {
  if (!protMode()) { raiseUD(); return; }
  switch (dReg()) {
    case 0: case 1: { // SLDT, STR
      const sel = segSel(dReg() == 0 ? SEG_LDTR : SEG_TR);
      if (dMod() == 3) writeE(dOsz(), sel); else writeE(2, sel);
      return;
    }
    case 2: case 3: {
      if (!privileged()) return;
      const sel = readE(2);
      if (faulted) return;
      if (dReg() == 2) loadLdtr(sel); else loadTr(sel);
      return;
    }
    case 4: case 5:
      verrVerw();
      return;
    default:
      raiseUD();
  }
}

function loadLdtr(sel: u32): void {
  if ((sel & 0xfffc) == 0) { setSegCache(SEG_LDTR, sel, 0, 0, 0); return; }
  if ((sel & 4) != 0) { raiseGP(sel & 0xfffc); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const a = descAttr(descHi);
  if ((a & ATTR_S) != 0 || (a & 0xf) != 2) { raiseGP(sel & 0xfffc); return; }
  if ((a & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  setSegCache(SEG_LDTR, sel, descBase(descLo, descHi), descLimit(descLo, descHi), a);
}

function loadTr(sel: u32): void {
  if ((sel & 0xfffc) == 0 || (sel & 4) != 0) { raiseGP(sel & 0xfffc); return; }
  if (!readDescriptor(sel, EXC_GP)) return;
  const a = descAttr(descHi);
  const type = a & 0xf;
  if ((a & ATTR_S) != 0 || (type != 1 && type != 9)) { raiseGP(sel & 0xfffc); return; }
  if ((a & ATTR_P) == 0) { raise(EXC_NP, sel & 0xfffc, true); return; }
  // Mark the TSS busy in its descriptor (SDM LTR).
  setAccessUser(false);
  writeLin8(descAddr + 5, (descHi >>> 8) | 2);
  setAccessUser(cpl() == 3);
  if (faulted) return;
  setSegCache(SEG_TR, sel, descBase(descLo, descHi), descLimit(descLo, descHi), a | 2);
}

/** 0F 06 CLTS. */
export function opClts(): void {
  if (!privileged()) return;
  store<u32>(cpu + CPU_CR0, cr0() & ~(1 << 3));
}

/** 0F 08 INVD, 0F 09 WBINVD: no caches are modelled, so nothing to write back; privileged. */
export function opInvd(): void { privileged(); }

// MSR numbers and their slots in the CPU_MSR area (u64 each; slot 0 is the host's CPUID mask).
const MSR_TSC: u32 = 0x10;
const MSR_APIC_BASE: u32 = 0x1b;
const MSR_SYSENTER_CS: u32 = 0x174;
const MSR_SYSENTER_ESP: u32 = 0x175;
const MSR_SYSENTER_EIP: u32 = 0x176;
const MSR_PAT: u32 = 0x277;
const MSR_MISC_ENABLE: u32 = 0x1a0;
const MSR_MTRRCAP: u32 = 0xfe;
/** IA32_BIOS_SIGN_ID: CPUID leaf 1 loads the microcode revision into its high half (see cpuid.ts). */
const MSR_BIOS_SIGN_ID: u32 = 0x8b;
const MSR_MTRR_DEF_TYPE: u32 = 0x2ff;
const MSR_EFER: u32 = 0xc000_0080;

/** Slot of an MSR in the CPU_MSR area, or -1 if the MSR does not exist (#GP). */
function msrSlot(n: u32): i32 {
  switch (n) {
    case MSR_APIC_BASE: return 1;
    case MSR_SYSENTER_CS: return 2;
    case MSR_SYSENTER_ESP: return 3;
    case MSR_SYSENTER_EIP: return 4;
    case MSR_PAT: return 5;
    case MSR_MISC_ENABLE: return 6;
    case MSR_MTRR_DEF_TYPE: return 7;
    case MSR_BIOS_SIGN_ID: return <i32>MSR_SLOT_BIOS_SIGN_ID;
    default: break;
  }
  if (n >= 0x200 && n <= 0x20f) return 8 + <i32>(n - 0x200); // variable-range MTRR base/mask pairs
  if (n == 0x250) return 24; // fixed-range MTRRs
  if (n == 0x258 || n == 0x259) return 25 + <i32>(n - 0x258);
  if (n >= 0x268 && n <= 0x26f) return 27 + <i32>(n - 0x268);
  return -1;
}

/** 0F 32 RDMSR. */
export function opRdmsr(): void {
  if (!privileged()) return;
  const n = reg32(ECX);
  let v: u64;
  if (n == MSR_TSC) v = readTsc();
  else if (n == MSR_EFER) v = load<u64>(cpu + CPU_EFER);
  else if (n == MSR_MTRRCAP) v = 0x508; // 8 variable ranges, fixed ranges, write-combining
  else {
    const s = msrSlot(n);
    if (s < 0) { raiseGP(0); return; }
    v = load<u64>(cpu + CPU_MSR + (<u32>s << 3));
  }
  setReg32(EAX, <u32>v);
  setReg32(EDX, <u32>(v >> 32));
}

/** 0F 30 WRMSR. */
export function opWrmsr(): void {
  if (!privileged()) return;
  const n = reg32(ECX);
  const v = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
  if (n == MSR_TSC) {
    store<i64>(cpu + CPU_TSC_OFFSET, <i64>v - <i64>(readTsc() - load<u64>(cpu + CPU_TSC_OFFSET)));
    return;
  }
  if (n == MSR_EFER) {
    // Only NXE exists on this CPU (no long mode yet): any other bit is reserved (SDM 2.2.1).
    if ((v & ~EFER_NXE) != 0) { raiseGP(0); return; }
    if ((load<u64>(cpu + CPU_EFER) ^ v) != 0) flushTlb(false);
    store<u64>(cpu + CPU_EFER, v);
    return;
  }
  const s = msrSlot(n);
  if (s < 0 || n == MSR_MTRRCAP) { raiseGP(0); return; }
  store<u64>(cpu + CPU_MSR + (<u32>s << 3), v);
}

/** CF IRET/IRETD. */
export function opIret(): void {
  const n = dOsz();
  const mask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  const s0 = sp();
  if (!protMode() && !vm86()) {
    stackCheck(s0, 3 * n, SEGV_READ);
    if (faulted) return;
    const eip = readSz(SEG_SS_INDEX, s0, n);
    const cs = readSz(SEG_SS_INDEX, (s0 + n) & mask, 2);
    const fl = readSz(SEG_SS_INDEX, (s0 + 2 * n) & mask, n);
    if (faulted) return;
    if (eip > segLimit(1)) { raiseGP(0); return; } // SDM IRET, real-address mode
    loadSegReal(1, cs);
    setSpM((s0 + 3 * n) & mask);
    // Real mode: all flags but VM, RF, VIF, VIP may be restored (IRET pseudocode, REAL-ADDRESS-MODE).
    setFlags(fl, n == 4 ? (0x257fd5 & ~(VM | VIF | VIP)) : 0x7fd5);
    setNextEip(eip);
    return;
  }
  if (vm86()) {
    // IRET inside VM86: real-mode style, IOPL-sensitive, and it cannot change IOPL (SDM IRET, "IF VM = 1").
    if (((getFlags() & IOPL) >> 12) < 3) { raiseGP(0); return; }
    stackCheck(s0, 3 * n, SEGV_READ);
    if (faulted) return;
    const veip = readSz(SEG_SS_INDEX, s0, n);
    const vcs = readSz(SEG_SS_INDEX, (s0 + n) & mask, 2);
    const vfl = readSz(SEG_SS_INDEX, (s0 + 2 * n) & mask, n);
    if (faulted) return;
    if ((veip & (n == 4 ? 0xffff_ffff : 0xffff)) > segLimit(1)) { raiseGP(0); return; }
    loadSeg(1, vcs);
    setSpM((s0 + 3 * n) & mask);
    setFlags(vfl, (n == 4 ? 0x25_7fd5 : 0x7fd5) & ~(IOPL | VM | VIF | VIP | RF));
    setNextEip(veip);
    return;
  }
  if ((getFlags() & NT) != 0) {
    // Return from a nested task: switch back to the task named by the back link (SDM IRET, "TASK-RETURN").
    setAccessUser(false);
    const link = readLin16(segBase(SEG_TR));
    setAccessUser(cpl() == 3);
    if (faulted) return;
    if (taskSwitch(link, TASK_IRET, nextEip, false, 0)) setNextEip(taskEip);
    return;
  }
  stackCheck(s0, 3 * n, SEGV_READ);
  if (faulted) return;
  let eip = readSz(SEG_SS_INDEX, s0, n);
  const cs = readSz(SEG_SS_INDEX, (s0 + n) & mask, 2);
  const fl = readSz(SEG_SS_INDEX, (s0 + 2 * n) & mask, n);
  if (faulted) return;
  if (n == 4 && (fl & VM) != 0 && cpl() == 0) { iretToVm86(s0, eip, cs, fl); return; }
  if ((cs & 0xfffc) == 0) { raiseGP(0); return; }
  if (!readDescriptor(cs, EXC_GP)) return;
  const a = descAttr(descHi);
  const rpl = cs & 3;
  const dpl = (a >> ATTR_DPL_SHIFT) & 3;
  const c = cpl();
  if ((a & ATTR_S) == 0 || (a & 0b1000) == 0 || rpl < c) { raiseGP(cs & 0xfffc); return; }
  if ((a & 0b0100) != 0 ? dpl > rpl : dpl != rpl) { raiseGP(cs & 0xfffc); return; }
  if ((a & ATTR_P) == 0) { raise(EXC_NP, cs & 0xfffc, true); return; }
  if (n == 2) eip &= 0xffff;
  if (eip > descLimit(descLo, descHi)) { raiseGP(0); return; }
  // Which flags IRET may change (IRET pseudocode): IOPL only at CPL 0; IF only when CPL <= IOPL.
  let fmask: u32 = ARITH | TF | DF | NT | RF | AC | ID | IF | IOPL;
  if (c > 0) fmask &= ~IOPL;
  if (c > ((getFlags() & IOPL) >> 12)) fmask &= ~IF;
  if (n == 2) fmask &= 0xffff;
  if (rpl == c) {
    loadCsProt(cs, c);
    setSpM((s0 + 3 * n) & mask);
    setFlags(fl, fmask);
    setNextEip(eip);
    return;
  }
  // Return to an outer level: SS:ESP follow the frame.
  const csLo = descLo, csHi = descHi, csAddr = descAddr;
  stackCheck((s0 + 3 * n) & mask, 2 * n, SEGV_READ);
  if (faulted) return;
  const newSp = readSz(SEG_SS_INDEX, (s0 + 3 * n) & mask, n);
  const newSs = readSz(SEG_SS_INDEX, (s0 + 4 * n) & mask, 2);
  if (faulted) return;
  if (!checkOuterStack(newSs, rpl)) return;
  const ssLo = descLo, ssHi = descHi;
  setDescriptorState(csLo, csHi, csAddr);
  loadCsProt(cs, rpl);
  setSegCache(SEG_SS_INDEX, newSs, descBase(ssLo, ssHi), descLimit(ssLo, ssHi), descAttr(ssHi));
  updateMode();
  if ((descAttr(ssHi) & ATTR_DB) != 0) setReg32(ESP, newSp); else setReg32(ESP, (reg32(ESP) & 0xffff_0000) | (newSp & 0xffff));
  // The flag mask uses the old CPL (c), computed above.
  setFlags(fl, fmask);
  nullInaccessibleSegs(rpl);
  setNextEip(eip);
}

/** IRET from CPL 0 to virtual-8086 mode: the frame holds ESP SS ES DS FS GS above EFLAGS (SDM IRET). */
function iretToVm86(s0: u32, eip: u32, cs: u32, fl: u32): void {
  const mask: u32 = stack32() ? 0xffff_ffff : 0xffff;
  stackCheck(s0, 36, SEGV_READ);
  if (faulted) return;
  const nesp = readSz(SEG_SS_INDEX, (s0 + 12) & mask, 4);
  const nss = readSz(SEG_SS_INDEX, (s0 + 16) & mask, 2);
  const nes = readSz(SEG_SS_INDEX, (s0 + 20) & mask, 2);
  const nds = readSz(SEG_SS_INDEX, (s0 + 24) & mask, 2);
  const nfs = readSz(SEG_SS_INDEX, (s0 + 28) & mask, 2);
  const ngs = readSz(SEG_SS_INDEX, (s0 + 32) & mask, 2);
  if (faulted) return;
  setFlags(fl, 0xffff_ffff);
  updateMode();
  setCpl(3);
  setAccessUser(true);
  loadSeg(0, nes); loadSeg(3, nds); loadSeg(4, nfs); loadSeg(5, ngs); loadSeg(2, nss);
  loadSegReal(1, cs);
  store<u32>(cpu + CPU_SEG + SEG_SIZE + SEG_LIMIT, 0xffff);
  setReg32(ESP, nesp);
  setNextEip(eip & 0xffff);
}

function setSpM(v: u32): void { if (stack32()) setReg32(ESP, v); else setReg32(ESP, (reg32(ESP) & 0xffff_0000) | (v & 0xffff)); }
