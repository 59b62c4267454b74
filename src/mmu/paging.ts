// Linear-to-physical translation: the page walk, A/D bits, permission checks and #PF error codes, and the
// TLB fill. Paging off is the identity with every permission granted (still through the TLB, so the fast path
// is the same in every mode).
import { CPU_CR2, CPU_CR3, CPU_A20, PHYS_ROM, PHYS_MMIO } from "../layout/memory";
import { cpu, cr0, cr4 } from "../cpu/state";
import { raise, EXC_PF } from "../cpu/exceptions";
import { physRead, physWrite, physEntry, pageHasCode, pageDirty, markDirty } from "./phys";
import { tlbFill, TLB_R, TLB_W, TLB_UR, TLB_UW, TLB_G, TLB_X } from "./tlb";

// Access kinds.
export const ACC_READ: u32 = 0;
export const ACC_WRITE: u32 = 1;
export const ACC_FETCH: u32 = 2;

// Page-table entry bits (SDM 4.3, Table 4-5/4-6).
const PTE_P: u32 = 1 << 0;
const PTE_RW: u32 = 1 << 1;
const PTE_US: u32 = 1 << 2;
const PTE_A: u32 = 1 << 5;
const PTE_D: u32 = 1 << 6;
const PTE_PS: u32 = 1 << 7;
const PTE_G: u32 = 1 << 8;

// #PF error code bits (SDM 4.7).
const PFEC_P: u32 = 1 << 0;
const PFEC_W: u32 = 1 << 1;
const PFEC_U: u32 = 1 << 2;
const PFEC_I: u32 = 1 << 4;

const CR0_WP: u32 = 1 << 16;
const CR0_PG: u32 = 1 << 31;
const CR4_PSE: u32 = 1 << 4;
const CR4_PGE: u32 = 1 << 7;

/** Physical address of the last successful translate(). */
export let lastPhys: u32 = 0;

function pageFault(lin: u32, err: u32): void {
  store<u64>(cpu + CPU_CR2, <u64>lin);
  raise(EXC_PF, err, true);
}

/**
 * Translate `lin` for an access of `kind` at user (`user`) or supervisor privilege. On success sets lastPhys
 * and fills the TLB with the permissions the page grants; returns false after raising #PF.
 */
export function translate(lin: u32, kind: u32, user: bool): bool {
  let phys: u32;
  let allowW = true, allowU = true, global = false, dirty = true;
  const write = kind == ACC_WRITE;
  if ((cr0() & CR0_PG) == 0) {
    phys = lin;
  } else {
    const cr3 = <u32>load<u64>(cpu + CPU_CR3);
    const pdeAddr = (cr3 & 0xffff_f000) | ((lin >>> 22) << 2);
    const pde = physRead(pdeAddr, 4);
    const ecBase: u32 = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);
    if ((pde & PTE_P) == 0) { pageFault(lin, ecBase); return false; }
    if ((pde & PTE_PS) != 0 && (cr4() & CR4_PSE) != 0) {
      // 4 MiB page (SDM 4.3): A and D live in the PDE.
      allowW = (pde & PTE_RW) != 0;
      allowU = (pde & PTE_US) != 0;
      if (!checkAccess(lin, ecBase | PFEC_P, write, user, allowW, allowU)) return false;
      let upd = pde | PTE_A;
      if (write) upd |= PTE_D;
      if (upd != pde) physWrite(pdeAddr, 4, upd);
      dirty = (upd & PTE_D) != 0; // while D is clear, the first write must come back here to set it
      global = (pde & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
      phys = (pde & 0xffc0_0000) | (lin & 0x003f_ffff);
    } else {
      const pteAddr = (pde & 0xffff_f000) | (((lin >>> 12) & 0x3ff) << 2);
      const pte = physRead(pteAddr, 4);
      if ((pte & PTE_P) == 0) { pageFault(lin, ecBase); return false; }
      allowW = (pde & PTE_RW) != 0 && (pte & PTE_RW) != 0;
      allowU = (pde & PTE_US) != 0 && (pte & PTE_US) != 0;
      if (!checkAccess(lin, ecBase | PFEC_P, write, user, allowW, allowU)) return false;
      if ((pde & PTE_A) == 0) physWrite(pdeAddr, 4, pde | PTE_A);
      let upd = pte | PTE_A;
      if (write) upd |= PTE_D;
      if (upd != pte) physWrite(pteAddr, 4, upd);
      dirty = (upd & PTE_D) != 0;
      global = (pte & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
      phys = (pte & 0xffff_f000) | (lin & 0xfff);
    }
  }
  if (load<u32>(cpu + CPU_A20) == 0) phys &= ~(<u32>1 << 20);
  lastPhys = phys;
  // CR0.WP = 0: supervisor writes ignore R/W (SDM 4.6.1); user writes never do.
  const supW = (allowW || (cr0() & CR0_WP) == 0) && dirty;
  fillFor(lin, phys, supW, allowW && allowU && dirty, allowU, global, write);
  return true;
}

function checkAccess(lin: u32, ec: u32, write: bool, user: bool, allowW: bool, allowU: bool): bool {
  if (user && !allowU) { pageFault(lin, ec); return false; }
  if (write && !allowW && (user || (cr0() & CR0_WP) != 0)) { pageFault(lin, ec); return false; }
  return true;
}

function fillFor(lin: u32, phys: u32, supW: bool, userW: bool, allowU: bool, global: bool, write: bool): void {
  const e = physEntry(phys);
  const kind = e & 3;
  if (kind == PHYS_MMIO) return; // MMIO pages never enter the TLB
  let f: u32 = TLB_R | TLB_X;
  if (allowU) f |= TLB_UR;
  if (global) f |= TLB_G;
  if (write && kind != PHYS_ROM) markDirty(phys);
  // Writes stay on the slow path for ROM, for pages holding translated code and for pages the dirty bitmap
  // does not yet record, so that the first write to each is seen.
  const trackedOk = kind != PHYS_ROM && !pageHasCode(phys) && pageDirty(phys);
  if (trackedOk && supW) f |= TLB_W;
  if (trackedOk && userW) f |= TLB_UW;
  tlbFill(lin, e & 0xffff_f000, f);
}
