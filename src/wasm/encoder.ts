// A WebAssembly binary encoder (core spec 5: binary format) writing into the JIT's output buffer in linear
// memory, from which the host compiles the module. Only what the translator needs: LEB128 integers, the
// module sections of one translated block, and the opcodes it emits.
import { JIT_OUT, JIT_OUT_SIZE } from "../layout/memory";

/** Write position in the output buffer. */
let pos: usize = JIT_OUT;
/** Set when a module would not fit: the translator gives the block up. */
export let overflow: bool = false;

export function outReset(): void { pos = JIT_OUT; overflow = false; }
export function outLength(): u32 { return <u32>(pos - <usize>JIT_OUT); }
@inline export function outPos(): usize { return pos; }

export function byte(b: u32): void {
  if (pos >= <usize>JIT_OUT + <usize>JIT_OUT_SIZE) { overflow = true; return; }
  store<u8>(pos, <u8>b);
  pos++;
}

export function uleb(v: u32): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v != 0) b |= 0x80;
    byte(b);
  } while (v != 0);
}

export function sleb(v: i32): void {
  while (true) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) { byte(b); return; }
    byte(b | 0x80);
  }
}

export function sleb64(v: i64): void {
  while (true) {
    const b = <u32>(v & 0x7f);
    v >>= 7;
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) { byte(b); return; }
    byte(b | 0x80);
  }
}

export function name(s: string): void {
  uleb(<u32>s.length);
  for (let i = 0; i < s.length; i++) byte(<u32>s.charCodeAt(i));
}

// A section or function body whose byte size is known only at its end: reserve a 5-byte padded LEB128.
export function sizeStart(): usize { const at = pos; for (let i = 0; i < 5; i++) byte(0x80); return at; }
export function sizeEnd(at: usize): void {
  if (overflow) return;
  let v = <u32>(pos - at - 5);
  for (let i: usize = 0; i < 5; i++) {
    store<u8>(at + i, <u8>((v & 0x7f) | (i < 4 ? 0x80 : 0)));
    v >>>= 7;
  }
}

// Value types and opcodes (core spec 5.3, 5.4).
export const T_I32: u32 = 0x7f;
export const T_I64: u32 = 0x7e;

export const OP_UNREACHABLE: u32 = 0x00;
export const OP_BLOCK: u32 = 0x02;
export const OP_LOOP: u32 = 0x03;
export const OP_IF: u32 = 0x04;
export const OP_ELSE: u32 = 0x05;
export const OP_END: u32 = 0x0b;
export const OP_BR: u32 = 0x0c;
export const OP_BR_IF: u32 = 0x0d;
export const OP_BR_TABLE: u32 = 0x0e;
export const OP_RETURN: u32 = 0x0f;
export const OP_CALL: u32 = 0x10;
export const OP_DROP: u32 = 0x1a;
export const OP_SELECT: u32 = 0x1b;
export const OP_LOCAL_GET: u32 = 0x20;
export const OP_LOCAL_SET: u32 = 0x21;
export const OP_LOCAL_TEE: u32 = 0x22;
export const OP_I32_LOAD: u32 = 0x28;
export const OP_I64_LOAD: u32 = 0x29;
export const OP_I32_LOAD8_S: u32 = 0x2c;
export const OP_I32_LOAD8_U: u32 = 0x2d;
export const OP_I32_LOAD16_S: u32 = 0x2e;
export const OP_I32_LOAD16_U: u32 = 0x2f;
export const OP_I32_STORE: u32 = 0x36;
export const OP_I64_STORE: u32 = 0x37;
export const OP_I32_STORE8: u32 = 0x3a;
export const OP_I32_STORE16: u32 = 0x3b;
export const OP_I32_CONST: u32 = 0x41;
export const OP_I64_CONST: u32 = 0x42;
export const OP_I32_EQZ: u32 = 0x45;
export const OP_I32_EQ: u32 = 0x46;
export const OP_I32_NE: u32 = 0x47;
export const OP_I32_LT_S: u32 = 0x48;
export const OP_I32_LT_U: u32 = 0x49;
export const OP_I32_GT_S: u32 = 0x4a;
export const OP_I32_GT_U: u32 = 0x4b;
export const OP_I32_LE_S: u32 = 0x4c;
export const OP_I32_LE_U: u32 = 0x4d;
export const OP_I32_POPCNT: u32 = 0x69;
export const OP_I32_GE_S: u32 = 0x4e;
export const OP_I32_GE_U: u32 = 0x4f;
export const OP_I64_EQ: u32 = 0x51;
export const OP_I64_NE: u32 = 0x52;
export const OP_I32_ADD: u32 = 0x6a;
export const OP_I32_SUB: u32 = 0x6b;
export const OP_I32_MUL: u32 = 0x6c;
export const OP_I32_AND: u32 = 0x71;
export const OP_I32_OR: u32 = 0x72;
export const OP_I32_XOR: u32 = 0x73;
export const OP_I32_SHL: u32 = 0x74;
export const OP_I32_SHR_S: u32 = 0x75;
export const OP_I32_SHR_U: u32 = 0x76;
export const OP_I32_ROTL: u32 = 0x77;
export const OP_I32_ROTR: u32 = 0x78;
export const OP_I64_MUL: u32 = 0x7e;
export const OP_I64_DIV_S: u32 = 0x7f;
export const OP_I64_DIV_U: u32 = 0x80;
export const OP_I64_REM_S: u32 = 0x81;
export const OP_I64_REM_U: u32 = 0x82;
export const OP_I64_AND: u32 = 0x83;
export const OP_I64_OR: u32 = 0x84;
export const OP_I64_SHL: u32 = 0x86;
export const OP_I64_SHR_U: u32 = 0x88;
export const OP_I32_WRAP_I64: u32 = 0xa7;
export const OP_I64_EXTEND_I32_S: u32 = 0xac;
export const OP_I64_EXTEND_I32_U: u32 = 0xad;
export const OP_I32_EXTEND8_S: u32 = 0xc0;
export const OP_I32_EXTEND16_S: u32 = 0xc1;
export const BLOCKTYPE_VOID: u32 = 0x40;

// Instruction helpers.
/**
 * Nesting depth of structured control (block, loop, if) at the write position: the translator's branches to
 * labels outside the current construct (the group's exit, its dispatch loop) compute their label index from it,
 * so every block, loop, if and end goes through op().
 */
export let depth: u32 = 0;
export function resetDepth(): void { depth = 0; }
@inline export function op(o: u32): void {
  byte(o);
  if (o == OP_BLOCK || o == OP_LOOP || o == OP_IF) depth++;
  else if (o == OP_END) depth--;
}
export function i32c(v: u32): void { byte(OP_I32_CONST); sleb(<i32>v); }
export function i64c(v: i64): void { byte(OP_I64_CONST); sleb64(v); }
export function localGet(l: u32): void { byte(OP_LOCAL_GET); uleb(l); }
export function localSet(l: u32): void { byte(OP_LOCAL_SET); uleb(l); }
export function localTee(l: u32): void { byte(OP_LOCAL_TEE); uleb(l); }
export function call(f: u32): void { byte(OP_CALL); uleb(f); }
/** A load or store with natural alignment `align` (log2 bytes) and a constant offset. */
export function mem(o: u32, align: u32, offset: u32): void { byte(o); uleb(align); uleb(offset); }
