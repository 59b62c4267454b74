// A near CALL to a PIC thunk, done in place. Position-independent i386 code (busybox, glibc) loads its GOT
// address with `call __x86.get_pc_thunk.bx` whose body is `mov ebx, [esp]; ret`: every function prologue
// costs two run-loop entries (into the thunk's page and back), 28% of them in the shell loop and gzip.
// When the target holds such a thunk at translation time, the call site does all three instructions: the
// return address is pushed (that store stays, as on a CPU), the register gets it, ESP goes back up, and the
// block goes on at the return address; 3 instructions retire.
//
// The shortcut is taken only while the bytes translated are still the ones that run: the thunk's linear page
// maps to the same physical page, with the fetch permissions of this block's mode (the TLB entry, checked
// inline as the memory fast path does), and that page has not been written since (its JIT generation; the
// translator marks it as a code page, so a write bumps the generation). Anything else goes the normal way.
import {
  L_CPU, L_T, L_LIN, L_A, pushTlbEntry, pushTlbHost, blockMode, off, fLen, eipPlus, getReg, setRegFrom, csLimit, gotoBlock,
  targetBlock, retCount, idx, KEY_USER, G_CODE_DIRTY, OP_GLOBAL_GET, groupEip0,
} from "./emit-core";
import {
  BLOCKTYPE_VOID, OP_END, OP_I32_ADD, OP_I32_AND, OP_I32_EQ, OP_I32_EQZ, OP_I32_LE_U, OP_I32_LOAD,
  OP_I32_LOAD16_U, OP_I32_STORE, OP_IF, byte, i32c, localGet, localSet, localTee, mem, op,
  uleb,
} from "./encoder";
import {
  CPU_SEG, SEG_SIZE, SEG_BASE, CPU_RIP, JIT_PAGE_GEN, RAM_BASE, MODE_CODE32, MODE_STACK32,
} from "../layout/memory";
import { tlbLookup, TLB_X, TLB_UR } from "../mmu/tlb";
import { segBase } from "../cpu/state";
import { markCodePage } from "../cpu/dcache";
import { pageGen } from "./cache";

let thunkHost: usize = 0;
let thunkGen: u32 = 0;
let thunkNeed: u32 = 0;

/**
 * The register a near CALL with displacement `rel` (32-bit operand size) loads if its target is a PIC thunk
 * `mov r32, [esp]; ret` in 32-bit code with a 32-bit stack, else -1.
 */
export function thunkRegister(rel: u32): i32 {
  if ((blockMode & (MODE_CODE32 | MODE_STACK32)) != (MODE_CODE32 | MODE_STACK32)) return -1;
  const lin = segBase(1) + groupEip0 + off + fLen() + rel;
  if ((lin & 0xfff) > 0xffc) return -1;
  const need = (blockMode & KEY_USER) != 0 ? TLB_UR | TLB_X : TLB_X;
  const h = tlbLookup(lin, need);
  if (h == 0) return -1;
  const b = load<u32>(h);
  const modrm = (b >> 8) & 0xff;
  // 8B /r with mod 00 and r/m 100 (a SIB byte), SIB 24 ([esp]), then C3.
  if ((b & 0xff) != 0x8b || (modrm & 0xc7) != 0x04 || ((b >> 16) & 0xff) != 0x24 || (b >>> 24) != 0xc3) return -1;
  const reg = (modrm >> 3) & 7;
  if (reg == 4) return -1;
  markCodePage(h); // a write to the thunk's page now bumps its generation
  thunkHost = h;
  thunkGen = pageGen(h);
  thunkNeed = need;
  return <i32>reg;
}

/**
 * After the CALL pushed its return address (the target in $t): if the thunk found by thunkRegister() is still
 * what runs at $t, do its MOV and RET and go on at the return address. Otherwise fall through to the code
 * that leaves for $t.
 */
export function emitThunkShortcut(reg: u32): void {
  // $lin = CS.base + $t; $a = its TLB entry.
  localGet(L_CPU); mem(OP_I32_LOAD, 2, CPU_SEG + SEG_SIZE + SEG_BASE); localGet(L_T); op(OP_I32_ADD);
  localSet(L_LIN);
  // The same permissions and host address as at translation ...
  pushTlbEntry(L_LIN); localTee(L_A); i32c(thunkNeed); op(OP_I32_AND); i32c(thunkNeed); op(OP_I32_EQ);
  pushTlbHost(L_A, L_LIN); i32c(<u32>thunkHost); op(OP_I32_EQ);
  op(OP_I32_AND);
  // ... the page not written since ...
  i32c(0); mem(OP_I32_LOAD16_U, 1, <u32>JIT_PAGE_GEN + ((<u32>(thunkHost - <usize>RAM_BASE) >>> 12) << 1));
  i32c(thunkGen); op(OP_I32_EQ);
  op(OP_I32_AND);
  // ... the push did not hit translated code, and the thunk is within CS.
  byte(OP_GLOBAL_GET); uleb(G_CODE_DIRTY); op(OP_I32_EQZ);
  op(OP_I32_AND);
  localGet(L_T); i32c(3); op(OP_I32_ADD); csLimit(); op(OP_I32_LE_U);
  op(OP_I32_AND);
  op(OP_IF); byte(BLOCKTYPE_VOID);
  // MOV r32, [esp]: the return address just pushed; RET: ESP back up, on at the return address.
  eipPlus(fLen()); localSet(L_A);
  setRegFrom(reg, 4, L_A);
  getReg(4, 4); i32c(4); op(OP_I32_ADD); localSet(L_A);
  setRegFrom(4, 4, L_A);
  const f = targetBlock(0);
  if (f >= 0) gotoBlock(<u32>f, idx + 3);
  else { localGet(L_CPU); eipPlus(fLen()); mem(OP_I32_STORE, 2, CPU_RIP); retCount(idx + 3); }
  op(OP_END);
}
