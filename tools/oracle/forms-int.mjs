// Integer instruction forms: ALU, shifts, multiply/divide, bit operations, BCD, moves.
// Each form is { group, name, count, gen(case) }; `gen` writes the instruction bytes,
// the operands and the SDM's undefined-flag mask into the case.
// Flag masks cite the "Flags Affected" section of each instruction in SDM Vol. 2.

import {
  AF, CF, DATA_BASE, EAX, EBX, ECX, EDX, OF, PF, R16, R32, R8, SF, STATUS_FLAGS, ZF,
  operand, pickReg, shiftCount, sizeMask,
} from './lib.mjs';

export const forms = [];
const form = (group, name, gen, count = 200) => forms.push({ group, name, gen, count });

const SIZES = [8, 16, 32];
export const regName = (size, n) => (size === 8 ? R8 : size === 16 ? R16 : R32)[n];
const acc = (size) => regName(size, EAX);
export const prefix = (c, size) => (size === 16 ? c.emit(0x66) : c);
export const wide = (size, opcode) => (size === 8 ? opcode : opcode + 1);

/**
 * ModRM instruction with a register operand in the reg field: `a` goes to r/m (register
 * or memory), `b` to the reg field. Returns { r, rm, addr } for follow-up.
 */
export function modrmRegOp(c, size, opcode, { mem, a, b }) {
  prefix(c, size).emit(opcode);
  const r = pickReg(c.rng, size, { mem });
  if (mem) {
    const addr = c.modrmMem(r);
    c.poke(addr, a, size);
    c.setReg(size, r, b);
    return { r, addr };
  }
  const rm = c.rng.chance(0.1) ? r : pickReg(c.rng, size);
  c.modrmReg(r, rm);
  c.setReg(size, r, b);
  c.setReg(size, rm, a); // when rm == r, r/m's value wins; the instruction then sees a == b
  return { r, rm };
}

/** ModRM instruction with an opcode extension in the reg field and the operand `a` in r/m. */
export function modrmExtOp(c, size, opcode, ext, { mem, a, avoid = [] }) {
  prefix(c, size).emit(opcode);
  if (mem) {
    const addr = c.modrmMem(ext);
    c.poke(addr, a, size);
    return { addr };
  }
  const rm = pickReg(c.rng, size, { avoid });
  c.modrmReg(ext, rm);
  c.setReg(size, rm, a);
  return { rm };
}

export const pair = (c, size) => {
  const a = operand(c.rng, size);
  return { a, b: c.rng.chance(0.1) ? a : operand(c.rng, size) };
};
export const kinds = (name) => [[`${name} [reg]`, false], [`${name} [mem]`, true]];

// ---- ALU: ADD OR ADC SBB AND SUB XOR CMP (opcode = Alu * 8 + encoding), TEST ----------------

// SDM: OR, AND, XOR, TEST leave AF undefined; ADD ADC SUB SBB CMP define all six.
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const aluMask = (op) => (op === 'or' || op === 'and' || op === 'xor' || op === 'test' ? AF : 0);

ALU.forEach((op, alu) => {
  const mask = aluMask(op);
  for (const size of SIZES) {
    const s = size;
    for (const [name, mem] of kinds(`${op} r/m${s}, r${s}`)) {
      form('alu', name, (c) => { modrmRegOp(c, s, wide(s, alu * 8), { mem, ...pair(c, s) }); c.flagsMask = mask; });
    }
    for (const [name, mem] of kinds(`${op} r${s}, r/m${s}`)) {
      form('alu', name, (c) => {
        const { a, b } = pair(c, s);
        modrmRegOp(c, s, wide(s, alu * 8 + 2), { mem, a: b, b: a });
        c.flagsMask = mask;
      });
    }
    form('alu', `${op} ${acc(s)}, imm${s}`, (c) => {
      const { a, b } = pair(c, s);
      prefix(c, s).emit(wide(s, alu * 8 + 4)).emitImm(s, b);
      c.setReg(s, EAX, a);
      c.flagsMask = mask;
    });
    for (const [name, mem] of kinds(`${op} r/m${s}, imm${s}`)) {
      form('alu', name, (c) => {
        const { a, b } = pair(c, s);
        modrmExtOp(c, s, wide(s, 0x80), alu, { mem, a });
        c.emitImm(s, b);
        c.flagsMask = mask;
      });
    }
    if (s === 8) continue;
    for (const [name, mem] of kinds(`${op} r/m${s}, imm8`)) {
      form('alu', name, (c) => {
        modrmExtOp(c, s, 0x83, alu, { mem, a: operand(c.rng, s) });
        c.emit(operand(c.rng, 8)); // sign-extended by the CPU
        c.flagsMask = mask;
      });
    }
  }
});

for (const size of SIZES) {
  const s = size;
  for (const [name, mem] of kinds(`test r/m${s}, r${s}`)) {
    form('alu', name, (c) => { modrmRegOp(c, s, wide(s, 0x84), { mem, ...pair(c, s) }); c.flagsMask = AF; });
  }
  form('alu', `test ${acc(s)}, imm${s}`, (c) => {
    const { a, b } = pair(c, s);
    prefix(c, s).emit(wide(s, 0xa8)).emitImm(s, b);
    c.setReg(s, EAX, a);
    c.flagsMask = AF;
  });
  for (const [name, mem] of kinds(`test r/m${s}, imm${s}`)) {
    form('alu', name, (c) => {
      const { a, b } = pair(c, s);
      modrmExtOp(c, s, wide(s, 0xf6), 0, { mem, a });
      c.emitImm(s, b);
      c.flagsMask = AF;
    });
  }
  // INC/DEC leave CF alone and define the rest; NEG defines all; NOT touches no flag.
  for (const [op, opcode, ext] of [['inc', 0xfe, 0], ['dec', 0xfe, 1], ['not', 0xf6, 2], ['neg', 0xf6, 3]]) {
    for (const [name, mem] of kinds(`${op} r/m${s}`)) {
      form('alu', name, (c) => modrmExtOp(c, s, wide(s, opcode), ext, { mem, a: operand(c.rng, s) }));
    }
  }
  if (s !== 8) {
    for (const [op, base] of [['inc', 0x40], ['dec', 0x48]]) {
      form('alu', `${op} r${s} (${base.toString(16)}+r)`, (c) => {
        const r = pickReg(c.rng, s);
        prefix(c, s).emit(base + r);
        c.setReg(s, r, operand(c.rng, s));
      });
    }
  }
}

// ---- shifts and rotates (group 2: C0/C1 ib, D0/D1 by 1, D2/D3 by CL) ----------------------

const SHIFTS = [['rol', 0], ['ror', 1], ['rcl', 2], ['rcr', 3], ['shl', 4], ['shr', 5], ['sar', 7]];

/**
 * SDM "Flags Affected" for the group-2 shifts. The count is masked to 5 bits.
 * SAL/SAR/SHL/SHR: count 0 affects no flag; otherwise AF is undefined, OF is undefined
 *   unless the count is 1, and CF is undefined for SHL/SHR when count >= operand size.
 * RCL/RCR: a zero-bit rotate affects no flag; OF is undefined unless the count is 1.
 * ROL/ROR: the pseudo-code makes OF undefined whenever the masked count is not 1 —
 *   the count-0 exemption in the text names RCL and RCR only.
 */
function shiftMask(op, size, count) {
  const n = count & 31;
  if (op === 'rol' || op === 'ror') return n === 1 ? 0 : OF;
  if (n === 0) return 0;
  if (op === 'rcl' || op === 'rcr') return n === 1 ? 0 : OF;
  let mask = AF;
  if (n !== 1) mask |= OF;
  if ((op === 'shl' || op === 'shr') && n >= size) mask |= CF;
  return mask;
}

for (const [op, ext] of SHIFTS) {
  for (const size of SIZES) {
    const s = size;
    form('shift', `${op} r/m${s}, 1 [reg]`, (c) => {
      modrmExtOp(c, s, wide(s, 0xd0), ext, { mem: false, a: operand(c.rng, s) });
      c.flagsMask = shiftMask(op, s, 1);
    });
    form('shift', `${op} r/m${s}, imm8 [reg]`, (c) => {
      const n = shiftCount(c.rng);
      modrmExtOp(c, s, wide(s, 0xc0), ext, { mem: false, a: operand(c.rng, s) });
      c.emit(n);
      c.flagsMask = shiftMask(op, s, n);
    });
    for (const [name, mem] of kinds(`${op} r/m${s}, cl`)) {
      form('shift', name, (c) => {
        const n = shiftCount(c.rng);
        modrmExtOp(c, s, wide(s, 0xd2), ext, { mem, a: operand(c.rng, s), avoid: s === 8 ? [ECX, 5] : [ECX] });
        c.setReg(8, ECX, n);
        c.flagsMask = shiftMask(op, s, n);
      });
    }
  }
}

// SHLD/SHRD (SDM: count 0 affects no flag; count > operand size leaves the result and all
// flags undefined; otherwise AF undefined and OF undefined unless the count is 1).
for (const [op, base] of [['shld', 0xa4], ['shrd', 0xac]]) {
  for (const size of [16, 32]) {
    for (const byCl of [false, true]) {
      for (const [name, mem] of kinds(`${op} r/m${size}, r${size}, ${byCl ? 'cl' : 'imm8'}`)) {
        form('shift', name, (c) => {
          let n = shiftCount(c.rng);
          // A memory destination cannot be masked out, so skip the undefined counts there.
          while (mem && (n & 31) > size) n = shiftCount(c.rng);
          prefix(c, size).emit(0x0f, base + (byCl ? 1 : 0));
          const r = pickReg(c.rng, size, { mem, avoid: byCl ? [ECX] : [] });
          let rm = null;
          if (mem) c.poke(c.modrmMem(r), operand(c.rng, size), size);
          else {
            rm = pickReg(c.rng, size, { avoid: byCl ? [ECX] : [] });
            c.modrmReg(r, rm);
          }
          c.setReg(size, r, operand(c.rng, size));
          if (rm !== null) c.setReg(size, rm, operand(c.rng, size));
          if (byCl) c.setReg(8, ECX, n);
          else c.emit(n);
          const k = n & 31;
          c.flagsMask = k === 0 ? 0 : k > size ? STATUS_FLAGS : AF | (k === 1 ? 0 : OF);
          if (k > size) c.regsMask = { [R32[rm]]: sizeMask(size) };
        });
      }
    }
  }
}

// ---- multiply and divide -------------------------------------------------------------------

// MUL/IMUL: SF ZF AF PF undefined. DIV/IDIV: all six undefined (SDM Vol. 2A/2B).
const MUL_MASK = SF | ZF | AF | PF;

for (const size of SIZES) {
  const s = size;
  for (const [op, ext] of [['mul', 4], ['imul', 5]]) {
    for (const [name, mem] of kinds(`${op} r/m${s}`)) {
      form('muldiv', name, (c) => {
        c.setReg(s, EAX, operand(c.rng, s));
        modrmExtOp(c, s, wide(s, 0xf6), ext, { mem, a: operand(c.rng, s) });
        c.flagsMask = MUL_MASK;
      });
    }
  }
  for (const [op, ext] of [['div', 6], ['idiv', 7]]) {
    for (const [name, mem] of kinds(`${op} r/m${s}`)) {
      form('muldiv', name, (c) => {
        const rng = c.rng;
        let divisor = rng.chance(0.08) ? 0 : operand(rng, s);
        if (divisor === 0 && rng.chance(0.3)) divisor = 1;
        const lo = operand(rng, s);
        let hi;
        if (op === 'div') hi = rng.chance(0.7) && divisor ? rng.below(divisor) : operand(rng, s);
        else hi = rng.chance(0.6) ? (lo & (1 << (s - 1)) ? sizeMask(s) : 0) : operand(rng, s);
        if (s === 8) c.setReg(16, EAX, (hi << 8) | lo);
        else c.setReg(s, EAX, lo).setReg(s, EDX, hi);
        modrmExtOp(c, s, wide(s, 0xf6), ext, { mem, a: divisor, avoid: [EAX, EDX, 4] });
        c.flagsMask = STATUS_FLAGS;
      });
    }
  }
}

for (const size of [16, 32]) {
  const s = size;
  for (const [name, mem] of kinds(`imul r${s}, r/m${s}`)) {
    form('muldiv', name, (c) => {
      const { a, b } = pair(c, s);
      modrmRegOp(c, s, [0x0f, 0xaf], { mem, a, b });
      c.flagsMask = MUL_MASK;
    });
  }
  for (const [immName, opcode, immSize] of [['imm8', 0x6b, 8], [`imm${s}`, 0x69, s]]) {
    for (const [name, mem] of kinds(`imul r${s}, r/m${s}, ${immName}`)) {
      form('muldiv', name, (c) => {
        const { a, b } = pair(c, s);
        modrmRegOp(c, s, opcode, { mem, a, b });
        c.emitImm(immSize, operand(c.rng, immSize));
        c.flagsMask = MUL_MASK;
      });
    }
  }
}

for (const [name, bytes, size] of [['cbw', [0x66, 0x98], 8], ['cwde', [0x98], 16], ['cwd', [0x66, 0x99], 16], ['cdq', [0x99], 32]]) {
  form('muldiv', name, (c) => {
    c.emit(bytes);
    c.setReg(size, EAX, operand(c.rng, size));
  });
}

// ---- bit operations ------------------------------------------------------------------------

// BT/BTS/BTR/BTC: CF defined, ZF unaffected, OF SF AF PF undefined (SDM Vol. 2A "BT").
const BT_MASK = OF | SF | AF | PF;
for (const [op, regOpcode, ext] of [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]]) {
  for (const size of [16, 32]) {
    const s = size;
    form('bit', `${op} r/m${s}, r${s} [reg]`, (c) => {
      const b = c.rng.chance(0.5) ? c.rng.below(64) : operand(c.rng, s);
      modrmRegOp(c, s, [0x0f, regOpcode], { mem: false, a: operand(c.rng, s), b });
      c.flagsMask = BT_MASK;
    });
    // A memory bit string with a register offset reaches outside the operand (SDM Vol. 2A
    // 3.1.1.9, Figure 3-2): the offset is signed and addresses bytes below as well as above.
    form('bit', `${op} r/m${s}, r${s} [mem]`, (c) => {
      const rng = c.rng;
      const near = rng.chance(0.7);
      const limit = s === 16 ? 0x8000 : 0x30000;
      const offset = near ? rng.below(512) - 256 : rng.below(2 * limit) - limit;
      prefix(c, s).emit(0x0f, regOpcode);
      const r = pickReg(rng, s, { mem: true });
      const base = DATA_BASE + 0x8000 + rng.below(64);
      if (rng.chance(0.7)) {
        const disp = rng.below(256) - 128;
        c.regs[EBX] = (base - disp) >>> 0;
        c.emit(0x40 | (r << 3) | EBX, disp);
      } else c.emit((r << 3) | 0b101).emit32(base);
      c.setReg(s, r, offset);
      c.poke(base - 40, Array.from({ length: 80 }, () => rng.u32() & 0xff));
      c.flagsMask = BT_MASK;
    });
    for (const [name, mem] of kinds(`${op} r/m${s}, imm8`)) {
      form('bit', name, (c) => {
        modrmExtOp(c, s, [0x0f, 0xba], ext, { mem, a: operand(c.rng, s) });
        c.emit(c.rng.chance(0.7) ? c.rng.below(s) : c.rng.below(256));
        c.flagsMask = BT_MASK;
      });
    }
  }
}

// BSF/BSR: ZF defined; CF OF SF AF PF undefined; the destination is undefined for a zero source.
for (const [op, opcode] of [['bsf', 0xbc], ['bsr', 0xbd]]) {
  for (const size of [16, 32]) {
    for (const [name, mem] of kinds(`${op} r${size}, r/m${size}`)) {
      form('bit', name, (c) => {
        const src = c.rng.chance(0.15) ? 0 : c.rng.chance(0.5) ? 1 << c.rng.below(size) : operand(c.rng, size);
        const { r } = modrmRegOp(c, size, [0x0f, opcode], { mem, a: src, b: operand(c.rng, size) });
        c.flagsMask = CF | OF | SF | AF | PF;
        if (src === 0) c.regsMask = { [R32[r]]: sizeMask(size) };
      });
    }
  }
}

form('misc', 'bswap r32', (c) => {
  const r = pickReg(c.rng, 32);
  c.emit(0x0f, 0xc8 + r);
  c.setReg(32, r, operand(c.rng, 32));
});
