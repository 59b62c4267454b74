// A small disassembler for the modules the JIT emits: the code section as one instruction per line with
// structured indentation, so golden files of generated code read (and diff) like the text format. It knows
// the opcodes src/wasm/encoder.ts can emit and refuses anything else.

const NAMES: Record<number, string> = {
  0x00: 'unreachable', 0x02: 'block', 0x03: 'loop', 0x04: 'if', 0x05: 'else', 0x0b: 'end', 0x0c: 'br',
  0x0d: 'br_if', 0x0e: 'br_table', 0x0f: 'return', 0x10: 'call', 0x1a: 'drop', 0x1b: 'select',
  0x20: 'local.get', 0x21: 'local.set', 0x22: 'local.tee', 0x23: 'global.get',
  0x28: 'i32.load', 0x29: 'i64.load', 0x2c: 'i32.load8_s', 0x2d: 'i32.load8_u', 0x2e: 'i32.load16_s',
  0x2f: 'i32.load16_u', 0x36: 'i32.store', 0x37: 'i64.store', 0x3a: 'i32.store8', 0x3b: 'i32.store16',
  0x41: 'i32.const', 0x42: 'i64.const', 0x45: 'i32.eqz', 0x46: 'i32.eq', 0x47: 'i32.ne', 0x48: 'i32.lt_s',
  0x49: 'i32.lt_u', 0x4a: 'i32.gt_s', 0x4b: 'i32.gt_u', 0x4c: 'i32.le_s', 0x4d: 'i32.le_u', 0x4e: 'i32.ge_s',
  0x4f: 'i32.ge_u', 0x51: 'i64.eq', 0x52: 'i64.ne', 0x69: 'i32.popcnt', 0x6a: 'i32.add', 0x6b: 'i32.sub',
  0x6c: 'i32.mul', 0x71: 'i32.and', 0x72: 'i32.or', 0x73: 'i32.xor', 0x74: 'i32.shl', 0x75: 'i32.shr_s',
  0x76: 'i32.shr_u', 0x77: 'i32.rotl', 0x78: 'i32.rotr', 0x7e: 'i64.mul', 0x7f: 'i64.div_s', 0x80: 'i64.div_u', 0x81: 'i64.rem_s', 0x82: 'i64.rem_u', 0x83: 'i64.and', 0x84: 'i64.or',
  0x86: 'i64.shl', 0x88: 'i64.shr_u', 0xa7: 'i32.wrap_i64', 0xac: 'i64.extend_i32_s', 0xad: 'i64.extend_i32_u',
  0xc0: 'i32.extend8_s', 0xc1: 'i32.extend16_s',
};
const INDEX = new Set([0x0c, 0x0d, 0x10, 0x20, 0x21, 0x22, 0x23]);
const MEMARG = new Set([0x28, 0x29, 0x2c, 0x2d, 0x2e, 0x2f, 0x36, 0x37, 0x3a, 0x3b]);

class Reader {
  constructor(private readonly b: Uint8Array, public pos = 0) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error('wasm-text: truncated module');
    return this.b[this.pos++]!;
  }
  uleb(): number {
    let r = 0, shift = 0, c: number;
    do { c = this.byte(); r += (c & 0x7f) * 2 ** shift; shift += 7; } while (c & 0x80);
    return r;
  }
  sleb(): bigint {
    let r = 0n, shift = 0n, c: number;
    do { c = this.byte(); r |= BigInt(c & 0x7f) << shift; shift += 7n; } while (c & 0x80);
    if (c & 0x40) r -= 1n << shift;
    return r;
  }
}

/** The code section of `module`, one function after another, as indented text. */
export function disassembleCode(module: Uint8Array): string {
  const rd = new Reader(module, 8);
  const out: string[] = [];
  while (rd.pos < module.length) {
    const id = rd.byte();
    const size = rd.uleb();
    const end = rd.pos + size;
    if (id !== 10) { rd.pos = end; continue; }
    const count = rd.uleb();
    for (let f = 0; f < count; f++) {
      const bodyEnd = rd.uleb() + rd.pos;
      const groups = rd.uleb();
      const locals: string[] = [];
      for (let g = 0; g < groups; g++) {
        const n = rd.uleb();
        const t = rd.byte();
        locals.push(`${n} x ${t === 0x7f ? 'i32' : t === 0x7e ? 'i64' : `0x${t.toString(16)}`}`);
      }
      out.push(`(func ${f} (locals ${locals.join(', ') || 'none'})`);
      let depth = 1;
      while (rd.pos < bodyEnd) {
        const o = rd.byte();
        const name = NAMES[o];
        if (name === undefined) throw new Error(`wasm-text: opcode 0x${o.toString(16)} at ${rd.pos - 1}`);
        if (o === 0x0b || o === 0x05) depth--;
        let text = name;
        if (o === 0x02 || o === 0x03 || o === 0x04) { const bt = rd.byte(); if (bt !== 0x40) text += ` (result ${bt === 0x7f ? 'i32' : bt === 0x7e ? 'i64' : `0x${bt.toString(16)}`})`; }
        else if (INDEX.has(o)) text += ` ${rd.uleb()}`;
        else if (MEMARG.has(o)) { const align = rd.uleb(); const off = rd.uleb(); text += ` offset=${off} align=${2 ** align}`; }
        else if (o === 0x41 || o === 0x42) text += ` ${rd.sleb()}`;
        else if (o === 0x0e) { const n = rd.uleb(); const ls: number[] = []; for (let i = 0; i <= n; i++) ls.push(rd.uleb()); text += ` ${ls.join(' ')}`; }
        if (rd.pos <= bodyEnd && !(o === 0x0b && rd.pos === bodyEnd)) out.push(`${'  '.repeat(Math.max(depth, 0))}${text}`);
        if (o === 0x02 || o === 0x03 || o === 0x04 || o === 0x05) depth++;
      }
      out.push(')');
    }
    rd.pos = end;
  }
  return `${out.join('\n')}\n`;
}
