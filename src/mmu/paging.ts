// Linear-to-physical translation: a table-driven page walk (32-bit two-level and PAE three-level; the same walk
// serves 4-level paging later), A/D bits, reserved-bit, permission and NX checks with #PF error codes, and the
// TLB fill. Paging off is the identity with every permission granted, still through the TLB, so the fast path
// is the same in every mode.
import { CPU_CR2, CPU_CR3, CPU_A20, CPU_EFER, CPU_PDPTE, PHYS_ROM, PHYS_MMIO } from "../layout/memory";
import { cpu, cr0, cr4 } from "../cpu/state";
import { raise, EXC_PF, EXC_GP } from "../cpu/exceptions";
import { physEntry, physRead, physWrite, pageHasCode, pageDirty, markDirty } from "./phys";
import { tlbFill, TLB_R, TLB_W, TLB_UR, TLB_UW, TLB_G, TLB_X } from "./tlb";
import { pageWatched } from "../cpu/debug";

// Access kinds.
export const ACC_READ: u32 = 0;
export const ACC_WRITE: u32 = 1;
export const ACC_FETCH: u32 = 2;

// Paging-structure entry bits (SDM 4.3 Tables 4-4..4-10, 4.4 Tables 4-11..4-19).
const PTE_P: u64 = 1 << 0;
const PTE_RW: u64 = 1 << 1;
const PTE_US: u64 = 1 << 2;
const PTE_A: u64 = 1 << 5;
const PTE_D: u64 = 1 << 6;
const PTE_PS: u64 = 1 << 7;
const PTE_G: u64 = 1 << 8;
const PTE_XD: u64 = 1 << 63;

// #PF error code bits (SDM 4.7).
const PFEC_P: u32 = 1 << 0;
const PFEC_W: u32 = 1 << 1;
const PFEC_U: u32 = 1 << 2;
const PFEC_RSVD: u32 = 1 << 3;
const PFEC_I: u32 = 1 << 4;

const CR0_WP: u32 = 1 << 16;
const CR0_PG: u32 = 1 << 31;
const CR4_PSE: u32 = 1 << 4;
const CR4_PAE: u32 = 1 << 5;
const CR4_PGE: u32 = 1 << 7;
export const EFER_NXE: u64 = 1 << 11;

/** MAXPHYADDR for PAE: 36 bits on P6-class processors (SDM 4.1.4). */
const PHYS_BITS: u32 = 36;
const ADDR_MASK: u64 = ((<u64>1 << PHYS_BITS) - 1) & ~<u64>0xfff;
/** Bits 62..MAXPHYADDR of a PAE entry are reserved; bit 63 (XD) too unless EFER.NXE. */
const PAE_RSVD_HIGH: u64 = 0x7fff_ffff_ffff_ffff & ~((<u64>1 << PHYS_BITS) - 1);

// The walk as a table. Each paging mode lists its levels below the root, from the top: the linear-address bit
// where the level's index starts. Every level indexes 9 bits (8-byte entries) or 10 bits (4-byte entries);
// a level above 12 may map a large page when its entry has PS set (4-level paging adds levels 39 and 30 later).
//   32-bit: root CR3 -> PD (index at bit 22; PS with CR4.PSE) -> PT (bit 12)
//   PAE:    root PDPTE[lin >> 30] -> PD (bit 21; PS) -> PT (bit 12)
const LEVELS_32: StaticArray<u32> = [22, 12];
const LEVELS_PAE: StaticArray<u32> = [21, 12];
// Entries met on the way down (address, value), to set their accessed bits once the access is allowed.
const walkAddr = new StaticArray<u64>(4);
const walkVal = new StaticArray<u64>(4);

/** Physical address of the last successful translate(); addresses at or above 4 GiB set lastPhysHigh. */
export let lastPhys: u32 = 0;
export let lastPhysHigh: bool = false;

function pageFault(lin: u32, err: u32): void {
  store<u64>(cpu + CPU_CR2, <u64>lin);
  raise(EXC_PF, err, true);
}

@inline function nxe(): bool { return (load<u64>(cpu + CPU_EFER) & EFER_NXE) != 0; }

@inline function readEntry(addr: u64, wide: bool): u64 {
  if (addr >= 0x1_0000_0000) return 0; // nothing is mapped above 4 GiB: a not-present entry
  const a = <u32>addr;
  return wide ? (<u64>physRead(a, 4) | (<u64>physRead(a + 4, 4) << 32)) : <u64>physRead(a, 4);
}

/** Set A (and D) in an entry: both live in its low dword, whatever the entry size. */
@inline function updateEntry(addr: u64, old: u64, bits: u64): void {
  if ((old & bits) != bits && addr < 0x1_0000_0000) physWrite(<u32>addr, 4, <u32>(old | bits));
}

/**
 * PAE: load the four PDPTEs from CR3 (MOV CR3, and CR0/CR4 writes that enable PAE paging; SDM 4.4.1).
 * A present PDPTE with reserved bits set is #GP(0); returns false then and nothing is loaded.
 */
export function loadPdptes(): bool {
  const base = <u64>(<u32>load<u64>(cpu + CPU_CR3) & 0xffff_ffe0);
  for (let i: u32 = 0; i < 4; i++) {
    const e = readEntry(base + i * 8, true);
    // PDPTE: bits 2:1, 8:5 and 63..MAXPHYADDR are reserved (SDM Table 4-8).
    if ((e & PTE_P) != 0 && (e & (0b1_1110_0110 | PAE_RSVD_HIGH | PTE_XD)) != 0) { raise(EXC_GP, 0, true); return false; }
  }
  for (let i: u32 = 0; i < 4; i++) store<u64>(cpu + CPU_PDPTE + i * 8, readEntry(base + i * 8, true));
  return true;
}

/**
 * Translate `lin` for an access of `kind` at user (`user`) or supervisor privilege. On success sets lastPhys
 * and fills the TLB with what the page grants; returns false after raising #PF.
 */
export function translate(lin: u32, kind: u32, user: bool): bool {
  const write = kind == ACC_WRITE;
  const fetch = kind == ACC_FETCH;
  if ((cr0() & CR0_PG) == 0) {
    return finish(lin, <u64>lin, true, true, true, false, true, write);
  }
  const wide = (cr4() & CR4_PAE) != 0;
  const levels = wide ? LEVELS_PAE : LEVELS_32;
  const nx = wide && nxe();
  const ec: u32 = (write ? PFEC_W : 0) | (user ? PFEC_U : 0) | (fetch && nx ? PFEC_I : 0);
  const esize: u32 = wide ? 8 : 4;
  const idxMask: u32 = wide ? 0x1ff : 0x3ff;
  const addrMask: u64 = wide ? ADDR_MASK : 0xffff_f000;
  const rsvd: u64 = wide ? (PAE_RSVD_HIGH | (nx ? 0 : PTE_XD)) : 0;
  let table: u64;
  if (wide) {
    const pdpte = load<u64>(cpu + CPU_PDPTE + ((lin >>> 30) << 3));
    if ((pdpte & PTE_P) == 0) { pageFault(lin, ec); return false; }
    table = pdpte & ADDR_MASK;
  } else {
    table = <u64>(<u32>load<u64>(cpu + CPU_CR3) & 0xffff_f000);
  }
  let allowW = true, allowU = true, exec = true;
  let leaf: u64 = 0;
  let phys: u64 = 0;
  let depth: i32 = 0;
  for (let i = 0; i < levels.length; i++) {
    const shift = unchecked(levels[i]);
    const addr = table + <u64>(((lin >>> shift) & idxMask) * esize);
    const e = readEntry(addr, wide);
    if ((e & PTE_P) == 0) { pageFault(lin, ec); return false; }
    if ((e & rsvd) != 0) { pageFault(lin, ec | PFEC_P | PFEC_RSVD); return false; }
    allowW = allowW && (e & PTE_RW) != 0;
    allowU = allowU && (e & PTE_US) != 0;
    exec = exec && ((e & PTE_XD) == 0 || !nx);
    unchecked(walkAddr[depth] = addr);
    unchecked(walkVal[depth] = e);
    depth++;
    const pageMask: u64 = (<u64>1 << shift) - 1;
    if (shift == 12 || ((e & PTE_PS) != 0 && (wide || (cr4() & CR4_PSE) != 0))) {
      if (shift != 12 && wide && (e & (pageMask & ~<u64>0x1fff)) != 0) {
        // A PAE large page's address bits below its size (other than PAT at bit 12) are reserved (Table 4-16).
        pageFault(lin, ec | PFEC_P | PFEC_RSVD);
        return false;
      }
      leaf = e;
      // 32-bit 4 MiB pages take address bits 31..22 only (no PSE-36: CPUID does not advertise it).
      phys = ((shift == 12 ? e & addrMask : e & addrMask & ~pageMask)) | (<u64>lin & pageMask);
      break;
    }
    table = e & addrMask;
  }
  // Permission checks (SDM 4.6): user pages for user accesses, R/W for user writes and for supervisor writes
  // with CR0.WP, and no instruction fetch from an XD page.
  const wp = (cr0() & CR0_WP) != 0;
  if ((user && !allowU) || (write && !allowW && (user || wp)) || (fetch && !exec)) {
    pageFault(lin, ec | PFEC_P);
    return false;
  }
  for (let i = 0; i < depth - 1; i++) updateEntry(unchecked(walkAddr[i]), unchecked(walkVal[i]), PTE_A);
  updateEntry(unchecked(walkAddr[depth - 1]), leaf, write ? PTE_A | PTE_D : PTE_A);
  const dirty = write || (leaf & PTE_D) != 0; // while D is clear, the first write must come back to set it
  const global = (leaf & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
  // CR0.WP = 0: supervisor writes ignore R/W; user writes never do.
  const supW = (allowW || !wp) && dirty;
  return finish(lin, phys, supW, allowW && allowU && dirty, allowU, global, exec, write);

}

function finish(lin: u32, phys64: u64, supW: bool, userW: bool, allowU: bool, global: bool, exec: bool, write: bool): bool {
  let phys = phys64;
  if (load<u32>(cpu + CPU_A20) == 0) phys &= ~(<u64>1 << 20);
  if (phys >= 0x1_0000_0000) {
    // Above 4 GiB nothing is mapped: accesses read all ones and writes are dropped, never cached in the TLB.
    lastPhysHigh = true;
    lastPhys = <u32>phys;
    return true;
  }
  lastPhysHigh = false;
  const p = <u32>phys;
  lastPhys = p;
  const e = physEntry(p);
  const kind = e & 3;
  if (kind == PHYS_MMIO) return true; // MMIO pages never enter the TLB
  if (pageWatched(lin)) return true; // nor pages with a data breakpoint: the slow path checks each access
  let f: u32 = TLB_R;
  if (exec) f |= TLB_X;
  if (allowU) f |= TLB_UR;
  if (global) f |= TLB_G;
  if (write && kind != PHYS_ROM) markDirty(p);
  // Writes stay on the slow path for ROM, for pages holding translated code and for pages the dirty bitmap
  // does not yet record, so that the first write to each is seen.
  const trackedOk = kind != PHYS_ROM && !pageHasCode(p) && pageDirty(p);
  if (trackedOk && supW) f |= TLB_W;
  if (trackedOk && userW) f |= TLB_UW;
  tlbFill(lin, e & 0xffff_f000, f);
  return true;
}
