// Shared pieces of the host-diff generator: seeded PRNG, operand values, instruction
// encoding helpers, the case builder, the oracle's binary protocol and the JSON form of
// a vector. See README.md for the fixture format.

export const CODE_BASE = 0x00100000;
export const DATA_BASE = 0x00200000;
export const DATA_SIZE = 0x10000;
export const STACK_TOP = 0x0020f000;

// EFLAGS bits (SDM Vol. 1 3.4.3).
export const CF = 0b0000_0000_0001;
export const PF = 0b0000_0000_0100;
export const AF = 0b0000_0001_0000;
export const ZF = 0b0000_0100_0000;
export const SF = 0b0000_1000_0000;
export const DF = 0b0100_0000_0000;
export const OF = 0b1000_0000_0000;
export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;
const EFLAGS_RESERVED1 = 0b10;

// x87 status-word condition codes (SDM Vol. 1 8.1.3).
export const C0 = 1 << 8;
export const C1 = 1 << 9;
export const C2 = 1 << 10;
export const C3 = 1 << 14;

export const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
export const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
export const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

// Registers start with these fixed, distinct values; operands overwrite their sized part.
// The rest still catches a stray or too-wide write, and compresses to nothing in the fixtures.
const FILLER = [0x8a5a3c01, 0x7b1e0c02, 0x6c2d1b03, 0x5d3c2a04, STACK_TOP, 0x4e4b3905, 0x3f5a4806, 0x2069570f];

/** sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded from the form name so that
 * adding or reordering forms never changes another form's cases. */
export function rngFor(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  let a = h, b = h ^ 0x9e3779b9, c = h ^ 0x7f4a7c15, d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    u32: next,
    /** integer in [0, n) */
    below: (n) => Math.floor((next() / 0x1_0000_0000) * n),
    chance: (p) => next() / 0x1_0000_0000 < p,
    pick: (list) => list[Math.floor((next() / 0x1_0000_0000) * list.length)],
    u64: () => (BigInt(next()) << 32n) | BigInt(next()),
  };
}

export const sizeMask = (size) => (size === 32 ? 0xffffffff : (1 << size) - 1);

const SPECIALS = {
  8: [0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0x81, 0xfe, 0xff],
  16: [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff],
  32: [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff],
};

/** An operand value of `size` bits: a third special values, some small ones, the rest random. */
export function operand(rng, size) {
  if (rng.chance(0.35)) return rng.pick(SPECIALS[size]);
  if (rng.chance(0.1)) return rng.below(17);
  return (rng.u32() & sizeMask(size)) >>> 0;
}

/** Shift and rotate counts: the interesting ones (0, 1, around 8/16/32, past the 5-bit mask) and random bytes. */
export function shiftCount(rng) {
  if (rng.chance(0.5)) return rng.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255]);
  return rng.below(256);
}

/** Random arithmetic flags, DF clear. */
export const randomFlags = (rng) => rng.u32() & STATUS_FLAGS;

/**
 * One test case under construction. `regs` holds the eight 32-bit registers (EAX..EDI).
 */
export class Case {
  constructor(form, rng) {
    this.form = form;
    this.rng = rng;
    this.bytes = [];
    this.regs = FILLER.slice();
    this.eflags = randomFlags(rng);
    this.mem = []; // [addr, number[]]
    this.fpu = null;
    this.flagsMask = 0;
    this.regsMask = null; // { regName: undefined bits }
    this.fswMask = 0;
    this.stUndefined = null;
    this.fixup = null; // (case, result) => void, after the oracle ran
  }

  emit(...bytes) {
    for (const b of bytes.flat()) this.bytes.push(b & 0xff);
    return this;
  }
  emit16(v) { return this.emit(v, v >>> 8); }
  emit32(v) { return this.emit(v, v >>> 8, v >>> 16, v >>> 24); }
  emitImm(size, v) { return size === 8 ? this.emit(v) : size === 16 ? this.emit16(v) : this.emit32(v); }

  /** Set register n of `size` bits (8-bit n=4..7 are AH CH DH BH), keeping the other bits of the 32-bit register. */
  setReg(size, n, value) {
    if (size === 32) this.regs[n] = value >>> 0;
    else if (size === 16) this.regs[n] = ((this.regs[n] & 0xffff0000) | (value & 0xffff)) >>> 0;
    else if (n < 4) this.regs[n] = ((this.regs[n] & 0xffffff00) | (value & 0xff)) >>> 0;
    else this.regs[n - 4] = ((this.regs[n - 4] & 0xffff00ff) | ((value & 0xff) << 8)) >>> 0;
    return this;
  }

  /** Read back the `size`-bit register n. */
  getReg(size, n) {
    if (size === 32) return this.regs[n];
    if (size === 16) return this.regs[n] & 0xffff;
    return n < 4 ? this.regs[n] & 0xff : (this.regs[n - 4] >>> 8) & 0xff;
  }

  /** Place bytes in the data area (little-endian value of `size` bits, or a byte array). */
  poke(addr, valueOrBytes, size) {
    const bytes = Array.isArray(valueOrBytes)
      ? valueOrBytes
      : Array.from({ length: size / 8 }, (_, i) => Number((BigInt(valueOrBytes) >> BigInt(8 * i)) & 0xffn));
    this.mem.push([addr >>> 0, bytes]);
    return this;
  }

  /**
   * Emit ModRM (+SIB/disp) for a memory operand at a random address in the data area,
   * addressed as [ebx+disp8] (EBX is then set) or [disp32]. Returns the address.
   */
  modrmMem(regField, span = 16) {
    const addr = DATA_BASE + 0x1000 + this.rng.below(0x6000 - span);
    if (this.rng.chance(0.7)) {
      const disp = this.rng.below(256) - 128;
      this.regs[EBX] = (addr - disp) >>> 0;
      this.emit(0x40 | (regField << 3) | EBX, disp);
    } else {
      this.emit(0x00 | (regField << 3) | 0b101).emit32(addr);
    }
    return addr;
  }

  modrmReg(regField, rm) {
    return this.emit(0xc0 | (regField << 3) | rm);
  }
}

/** Registers an operand may use when a memory form already uses EBX as base (and ESP is the stack). */
export function pickReg(rng, size, { mem = false, avoid = [] } = {}) {
  const banned = new Set(avoid);
  banned.add(size === 8 ? -1 : ESP);
  if (mem) banned.add(size === 8 ? 3 : EBX).add(size === 8 ? 7 : EBX);
  let n;
  do n = rng.below(8);
  while (banned.has(n));
  return n;
}

// ---- x87 values ------------------------------------------------------------------------

/** An 80-bit extended value as a BigInt: sign:exponent in bits 79..64, significand in 63..0. */
export const f80 = (signExp, mant) => (BigInt(signExp) << 64n) | BigInt.asUintN(64, BigInt(mant));
export const f80hex = (v) => v.toString(16).padStart(20, '0');

export const F80 = {
  pzero: f80(0x0000, 0n),
  nzero: f80(0x8000, 0n),
  pone: f80(0x3fff, 0x8000000000000000n),
  none: f80(0xbfff, 0x8000000000000000n),
  pinf: f80(0x7fff, 0x8000000000000000n),
  ninf: f80(0xffff, 0x8000000000000000n),
  qnan: f80(0x7fff, 0xc000000000000001n),
  nqnan: f80(0xffff, 0xe000000000000000n),
  snan: f80(0x7fff, 0xa000000000000000n),
  nsnan: f80(0xffff, 0x8000000000000001n),
  indefinite: f80(0xffff, 0xc000000000000000n),
  denormal: f80(0x0000, 0x0000123456789abcn),
  ndenormal: f80(0x8000, 0x7fffffffffffffffn),
  pseudoDenormal: f80(0x0000, 0x8000000000000001n),
  maxFinite: f80(0x7ffe, 0xffffffffffffffffn),
  nmaxFinite: f80(0xfffe, 0xffffffffffffffffn),
  minNormal: f80(0x0001, 0x8000000000000000n),
  // Encodings the 387 and later treat as invalid operands (SDM Vol. 1 8.2.2, Table 8-3).
  unnormal: f80(0x4000, 0x4000000000000000n),
  pseudoInf: f80(0x7fff, 0n),
  pseudoNan: f80(0x7fff, 0x4000000000000001n),
};

const SPECIAL_F80 = Object.values(F80);
const SUPPORTED_SPECIAL_F80 = SPECIAL_F80.filter(
  (v) => v !== F80.unnormal && v !== F80.pseudoInf && v !== F80.pseudoNan && v !== F80.pseudoDenormal,
);

/** A double (JS number) as an exact 80-bit value. */
export function f80FromNumber(x) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const sign = Number(bits >> 63n) << 15;
  const exp = Number((bits >> 52n) & 0x7ffn);
  let frac = bits & 0xfffffffffffffn;
  if (exp === 0x7ff) return f80(sign | 0x7fff, (1n << 63n) | (frac << 11n));
  if (exp === 0) {
    if (frac === 0n) return f80(sign, 0n);
    let e = -1022; // denormal double: normalise
    while (!(frac & (1n << 52n))) { frac <<= 1n; e--; }
    return f80(sign | (e + 16383), frac << 11n);
  }
  return f80(sign | (exp - 1023 + 16383), (1n << 63n) | (frac << 11n));
}

/**
 * A random 80-bit operand: specials (incl. unsupported encodings when `pseudo`), short
 * significands (exact small integers and halves), and random normals whose exponent
 * stays within `spread` of 1.0 most of the time.
 */
export function randomF80(rng, { pseudo = true, spread = 40, specials = 0.25 } = {}) {
  if (rng.chance(specials)) return rng.pick(pseudo ? SPECIAL_F80 : SUPPORTED_SPECIAL_F80);
  const sign = rng.chance(0.5) ? 0x8000 : 0;
  if (rng.chance(0.2)) {
    const n = rng.below(2000) - 1000;
    return f80FromNumber((sign ? -1 : 1) * (rng.chance(0.5) ? n : n / 2 + 0.25));
  }
  const exp = rng.chance(0.9) ? 0x3fff + rng.below(2 * spread + 1) - spread : 1 + rng.below(0x7ffd);
  return f80(sign | exp, rng.u64() | (1n << 63n));
}

/** x87 tag of a register's contents (SDM Vol. 1 8.1.7): 0 valid, 1 zero, 2 special. */
function tagOf(v) {
  const exp = Number((v >> 64n) & 0x7fffn);
  const mant = v & 0xffffffffffffffffn;
  if (exp === 0 && mant === 0n) return 1;
  if (exp === 0 || exp === 0x7fff || !(mant >> 63n)) return 2;
  return 0;
}

export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_CHOP = 3;
export const PC_SINGLE = 0, PC_DOUBLE = 2, PC_EXTENDED = 3;

/**
 * An x87 state with `stack` (ST(0) first) pushed and everything else empty, all
 * exceptions masked, the given rounding and precision control, random condition codes
 * and, now and then, random sticky exception flags.
 */
export function fpuState(rng, stack, { rc = rng.below(4), pc = rng.pick([PC_SINGLE, PC_DOUBLE, PC_EXTENDED]) } = {}) {
  const top = (8 - stack.length) & 7;
  const cw = 0x003f | 0x0040 | (pc << 8) | (rc << 10); // bit 6 reads as 1 (FNSTCW after FNINIT gives 0x037F)
  let sw = (top << 11) | (rng.u32() & (C0 | C1 | C2 | C3));
  if (rng.chance(0.1)) sw |= rng.u32() & 0b0111_1111; // IE DE ZE OE UE PE SF; ES stays 0 as all are masked
  const st = Array.from({ length: 8 }, (_, i) => (i < stack.length ? stack[i] : 0n));
  let tw = 0;
  for (let i = 0; i < 8; i++) {
    const phys = (top + i) & 7;
    tw |= (i < stack.length ? tagOf(st[i]) : 3) << (2 * phys);
  }
  return { cw, sw, tw, st };
}

/** FSAVE/FRSTOR 32-bit protected-mode image (SDM Vol. 1 8.1.10, Figure 8-9). */
function encodeFsave(fpu) {
  const b = Buffer.alloc(108);
  b.writeUInt16LE(fpu.cw, 0);
  b.writeUInt16LE(fpu.sw, 4);
  b.writeUInt16LE(fpu.tw, 8);
  for (let i = 0; i < 8; i++) {
    b.writeBigUInt64LE(fpu.st[i] & 0xffffffffffffffffn, 28 + 10 * i);
    b.writeUInt16LE(Number(fpu.st[i] >> 64n), 36 + 10 * i);
  }
  return b;
}

function decodeFsave(b, at) {
  const st = [];
  for (let i = 0; i < 8; i++) {
    st.push((BigInt(b.readUInt16LE(at + 36 + 10 * i)) << 64n) | b.readBigUInt64LE(at + 28 + 10 * i));
  }
  return { cw: b.readUInt16LE(at), sw: b.readUInt16LE(at + 4), tw: b.readUInt16LE(at + 8), st };
}

// ---- oracle protocol (see oracle.c) ------------------------------------------------------

export function encodeCases(cases) {
  const parts = [];
  for (const c of cases) {
    const head = Buffer.alloc(40);
    head[0] = c.bytes.length;
    head[1] = c.fpu ? 1 : 0;
    head.writeUInt16LE(c.mem.length, 2);
    c.regs.forEach((r, i) => head.writeUInt32LE(r >>> 0, 4 + 4 * i));
    head.writeUInt32LE(c.eflags >>> 0, 36);
    parts.push(head, Buffer.from(c.bytes));
    if (c.fpu) parts.push(encodeFsave(c.fpu));
    for (const [addr, bytes] of c.mem) {
      const h = Buffer.alloc(6);
      h.writeUInt32LE(addr, 0);
      h.writeUInt16LE(bytes.length, 4);
      parts.push(h, Buffer.from(bytes));
    }
  }
  return Buffer.concat(parts);
}

export function decodeResults(buf, cases) {
  let at = 0;
  return cases.map((c) => {
    const status = buf[at], vector = buf[at + 1], runs = buf.readUInt16LE(at + 2);
    at += 4;
    const regs = Array.from({ length: 8 }, (_, i) => buf.readUInt32LE(at + 4 * i));
    const eflags = buf.readUInt32LE(at + 32);
    at += 36;
    if (status !== 0) return { exception: vector };
    let fpu = null;
    if (c.fpu) {
      fpu = decodeFsave(buf, at);
      at += 108;
    }
    const mem = [];
    for (let i = 0; i < runs; i++) {
      const addr = buf.readUInt32LE(at), len = buf.readUInt16LE(at + 4);
      mem.push([addr, Array.from(buf.subarray(at + 6, at + 6 + len))]);
      at += 6 + len;
    }
    return { regs, eflags, mem, fpu };
  });
}

// ---- JSON vector ---------------------------------------------------------------------------

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fpuJson = (f) => ({ cw: f.cw, sw: f.sw, tw: f.tw, st: f.st.map(f80hex) });

function stateJson(regs, eflags, mem, fpu) {
  const o = {};
  R32.forEach((r, i) => (o[r] = regs[i] >>> 0));
  o.eflags = eflags;
  o.mem = mem.map(([a, b]) => [a, hex(b)]);
  if (fpu) o.fpu = fpuJson(fpu);
  return o;
}

/** One fixture line. Key order is fixed so that regeneration is byte-for-byte stable. */
export function vectorJson(c, result) {
  const v = {
    form: c.form,
    bytes: hex(c.bytes),
    init: stateJson(c.regs, (c.eflags & (STATUS_FLAGS | DF)) | EFLAGS_RESERVED1, c.mem, c.fpu),
    final: 'exception' in result ? { exception: result.exception } : stateJson(result.regs, result.eflags, result.mem, result.fpu),
    flagsMask: c.flagsMask,
  };
  if (c.regsMask) v.regsMask = c.regsMask;
  if (c.fpu) v.fswMask = c.fswMask;
  if (c.stUndefined) v.stUndefined = c.stUndefined;
  return JSON.stringify(v);
}
