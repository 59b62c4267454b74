// BCD and flag instructions, SETcc/CMOVcc, exchanges, MOVZX/MOVSX, LEA, PUSH/POP and
// the string instructions. Flag masks cite "Flags Affected" in SDM Vol. 2.

import {
  AF, CF, DATA_BASE, DF, EAX, EBP, EBX, ECX, EDX, EDI, ESI, OF, PF, SF, STACK_TOP, ZF,
  operand, pickReg,
} from './lib.mjs';
import { kinds, modrmRegOp, pair, prefix, wide } from './forms-int.mjs';

export const forms = [];
const form = (group, name, gen, count = 200) => forms.push({ group, name, gen, count });
const randomBytes = (rng, n) => Array.from({ length: n }, () => rng.u32() & 0xff);

// ---- BCD and flag instructions -----------------------------------------------------------

/** AL values that exercise the decimal-adjust paths: valid BCD, nibbles > 9, and edges. */
const bcdByte = (rng) => (rng.chance(0.5) ? rng.below(10) * 16 + rng.below(10) : operand(rng, 8));

// DAA/DAS: OF undefined. AAA/AAS: OF SF ZF PF undefined. AAM/AAD: OF AF CF undefined.
for (const [op, opcode, mask] of [['daa', 0x27, OF], ['das', 0x2f, OF], ['aaa', 0x37, OF | SF | ZF | PF], ['aas', 0x3f, OF | SF | ZF | PF]]) {
  form('bcd', op, (c) => {
    c.emit(opcode);
    c.setReg(16, EAX, (operand(c.rng, 8) << 8) | bcdByte(c.rng));
    c.flagsMask = mask;
  }, 300);
}
form('bcd', 'aam imm8', (c) => {
  // AAM 0 raises #DE (SDM Vol. 2A "AAM": "If an immediate value of 0 is used, it will cause a #DE").
  const base = c.rng.chance(0.5) ? 10 : c.rng.chance(0.15) ? 0 : operand(c.rng, 8);
  c.emit(0xd4, base);
  c.setReg(16, EAX, operand(c.rng, 16));
  c.flagsMask = OF | AF | CF;
}, 300);
form('bcd', 'aad imm8', (c) => {
  c.emit(0xd5, c.rng.chance(0.5) ? 10 : operand(c.rng, 8));
  c.setReg(16, EAX, (bcdByte(c.rng) << 8) | bcdByte(c.rng));
  c.flagsMask = OF | AF | CF;
}, 300);

const setFlagsRandomly = (c) => { c.eflags = c.rng.u32() & (CF | PF | AF | ZF | SF | OF | DF); };
for (const [op, opcode] of [['lahf', 0x9f], ['sahf', 0x9e], ['clc', 0xf8], ['stc', 0xf9], ['cmc', 0xf5], ['cld', 0xfc], ['std', 0xfd]]) {
  form('bcd', op, (c) => {
    c.emit(opcode);
    setFlagsRandomly(c);
    c.setReg(32, EAX, operand(c.rng, 32));
  });
}

// ---- SETcc and CMOVcc (condition = low nibble of the opcode, SDM Vol. 1 Appendix B) ------

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

CC.forEach((cc, n) => {
  form('misc', `set${cc} r/m8 [reg]`, (c) => {
    c.emit(0x0f, 0x90 + n).modrmReg(0, pickReg(c.rng, 8));
  });
  form('misc', `cmov${cc} r32, r/m32 [reg]`, (c) => {
    modrmRegOp(c, 32, [0x0f, 0x40 + n], { mem: false, ...pair(c, 32) });
  });
});
form('misc', 'setcc r/m8 [mem]', (c) => {
  c.emit(0x0f, 0x90 + c.rng.below(16));
  c.poke(c.modrmMem(0), operand(c.rng, 8), 8);
});
for (const [name, mem] of kinds('cmovcc r16, r/m16')) {
  form('misc', name, (c) => modrmRegOp(c, 16, [0x0f, 0x40 + c.rng.below(16)], { mem, ...pair(c, 16) }));
}
form('misc', 'cmovcc r32, r/m32 [mem]', (c) => modrmRegOp(c, 32, [0x0f, 0x40 + c.rng.below(16)], { mem: true, ...pair(c, 32) }));

// ---- exchanges and compare-exchange ----------------------------------------------------------

for (const size of [8, 16, 32]) {
  const s = size;
  for (const [name, mem] of kinds(`xchg r/m${s}, r${s}`)) {
    form('misc', name, (c) => modrmRegOp(c, s, wide(s, 0x86), { mem, ...pair(c, s) }));
  }
  // XADD: flags as ADD (all six defined).
  for (const [name, mem] of kinds(`xadd r/m${s}, r${s}`)) {
    form('misc', name, (c) => modrmRegOp(c, s, [0x0f, wide(s, 0xc0)], { mem, ...pair(c, s) }));
  }
  // CMPXCHG: flags as CMP of the accumulator with the destination (all six defined).
  for (const [name, mem] of kinds(`cmpxchg r/m${s}, r${s}`)) {
    form('misc', name, (c) => {
      const dest = operand(c.rng, s);
      c.setReg(s, EAX, c.rng.chance(0.5) ? dest : operand(c.rng, s));
      const { r, rm } = modrmRegOp(c, s, [0x0f, wide(s, 0xb0)], { mem, a: dest, b: operand(c.rng, s) });
      // Registers other than the accumulator keep their values; re-set the accumulator if picked.
      if ((r === EAX || rm === EAX) && c.rng.chance(0.5)) c.setReg(s, EAX, dest);
    });
  }
  if (s !== 8) {
    form('misc', `xchg ${s === 16 ? 'ax' : 'eax'}, r${s} (90+r)`, (c) => {
      const r = pickReg(c.rng, s);
      prefix(c, s).emit(0x90 + r);
      c.setReg(s, EAX, operand(c.rng, s)).setReg(s, r, operand(c.rng, s));
    });
  }
}

// CMPXCHG8B: ZF defined; CF PF AF SF OF unaffected (SDM Vol. 2A "CMPXCHG8B").
form('misc', 'cmpxchg8b m64', (c) => {
  const rng = c.rng;
  const lo = operand(rng, 32), hi = operand(rng, 32);
  c.emit(0x0f, 0xc7);
  const addr = c.modrmMem(1);
  c.poke(addr, lo, 32).poke(addr + 4, hi, 32);
  const equal = rng.chance(0.5);
  c.setReg(32, EAX, equal || rng.chance(0.3) ? lo : operand(rng, 32));
  c.setReg(32, EDX, equal || rng.chance(0.3) ? hi : operand(rng, 32));
  c.setReg(32, ECX, operand(rng, 32));
  if ((c.bytes[2] & 0b111) !== EBX) c.setReg(32, EBX, operand(rng, 32)); // [disp32]: EBX is an operand only
});

// ---- MOVZX / MOVSX -----------------------------------------------------------------------------

for (const [op, base] of [['movzx', 0xb6], ['movsx', 0xbe]]) {
  for (const [dst, src] of [[32, 8], [32, 16], [16, 8]]) {
    for (const [name, mem] of kinds(`${op} r${dst}, r/m${src}`)) {
      form('misc', name, (c) => {
        prefix(c, dst).emit(0x0f, base + (src === 16 ? 1 : 0));
        const r = pickReg(c.rng, dst, { mem });
        c.setReg(32, r, c.rng.u32());
        const v = operand(c.rng, src);
        if (mem) c.poke(c.modrmMem(r), v, src);
        else {
          const rm = pickReg(c.rng, src);
          c.modrmReg(r, rm);
          c.setReg(src, rm, v);
        }
      });
    }
  }
}

// ---- LEA (the addressing-mode calculator; no memory access, no flags) ------------------------

const randomRegs = (c) => { for (const r of [EAX, ECX, EDX, EBX, EBP, ESI, EDI]) c.setReg(32, r, operand(c.rng, 32)); };
const leaForm = (name, modrm) => form('misc', name, (c) => {
  randomRegs(c);
  c.emit(0x8d);
  modrm(c, pickReg(c.rng, 32));
});
leaForm('lea r32, [base+index*scale+disp8]', (c, r) => {
  c.emit(0x44 | (r << 3), (c.rng.below(4) << 6) | (pickReg(c.rng, 32) << 3) | c.rng.below(8), c.rng.u32());
});
leaForm('lea r32, [base+index*scale+disp32]', (c, r) => {
  // index 100 means "no index" (SDM Vol. 2A Table 2-3), so ESP appears only as a base.
  c.emit(0x84 | (r << 3), (c.rng.below(4) << 6) | (c.rng.below(8) << 3) | c.rng.below(8)).emit32(operand(c.rng, 32));
});
leaForm('lea r32, [index*scale+disp32]', (c, r) => {
  c.emit(0x04 | (r << 3), (c.rng.below(4) << 6) | (pickReg(c.rng, 32) << 3) | 0b101).emit32(operand(c.rng, 32));
});
leaForm('lea r32, [reg+disp8]', (c, r) => {
  const rm = c.rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI]);
  c.emit(0x40 | (r << 3) | rm, c.rng.u32());
});
form('misc', 'lea r16, [reg+disp32]', (c) => {
  randomRegs(c);
  const r = pickReg(c.rng, 16);
  c.emit(0x66, 0x8d, 0x80 | (r << 3) | c.rng.pick([EAX, ECX, EDX, EBX, EBP, ESI, EDI])).emit32(operand(c.rng, 32));
});
form('misc', 'lea r32, m (16-bit addressing)', (c) => {
  // 0x67: 16-bit ModRM forms [bx+si], [bp+di+disp8], ... (SDM Vol. 2A Table 2-1); the
  // offset wraps at 64 KiB and is zero-extended into the 32-bit destination.
  randomRegs(c);
  const r = pickReg(c.rng, 32);
  const mod = c.rng.below(3), rm = c.rng.below(8);
  c.emit(0x67, 0x8d, (mod << 6) | (r << 3) | rm);
  if (mod === 1) c.emit(c.rng.u32());
  else if (mod === 2 || (mod === 0 && rm === 6)) c.emit16(c.rng.u32());
});

// ---- PUSH / POP (ESP points at STACK_TOP in the data area) ------------------------------------

const stackSlots = (c) => c.poke(STACK_TOP - 16, randomBytes(c.rng, 32));
for (const size of [16, 32]) {
  const s = size;
  form('misc', `push r${s}`, (c) => {
    const r = pickReg(c.rng, s);
    prefix(c, s).emit(0x50 + r);
    c.setReg(s, r, operand(c.rng, s));
  });
  form('misc', `pop r${s}`, (c) => {
    stackSlots(c);
    prefix(c, s).emit(0x58 + pickReg(c.rng, s));
  });
  form('misc', `push r/m${s} [mem]`, (c) => {
    prefix(c, s).emit(0xff);
    c.poke(c.modrmMem(6), operand(c.rng, s), s);
  });
  form('misc', `pop r/m${s} [mem]`, (c) => {
    stackSlots(c);
    prefix(c, s).emit(0x8f);
    c.modrmMem(0);
  });
  form('misc', `push imm${s}`, (c) => prefix(c, s).emit(0x68).emitImm(s, operand(c.rng, s)));
}
form('misc', 'push imm8', (c) => c.emit(0x6a, operand(c.rng, 8)));
form('misc', 'leave', (c) => {
  const frame = STACK_TOP - 0x100 + 4 * c.rng.below(32);
  c.emit(0xc9).setReg(32, EBP, frame);
  c.poke(frame, randomBytes(c.rng, 8));
});

// ---- string instructions ------------------------------------------------------------------------

/**
 * One string instruction with ESI/EDI pointing into two buffers far enough from the ends
 * of their random-filled regions that up to 8 elements in either direction stay inside.
 * REP forms take ECX from 0..8; the plain forms leave ECX alone.
 */
function stringForm(op, opcode, size, rep) {
  const name = `${rep ? `${rep} ` : ''}${op}${size === 8 ? 'b' : size === 16 ? 'w' : 'd'}`;
  form('string', name, (c) => {
    const rng = c.rng;
    const src = DATA_BASE + 0x3000 + rng.below(0x100);
    const dst = DATA_BASE + 0x5000 + rng.below(0x100);
    const srcBytes = randomBytes(rng, 80);
    c.poke(src - 40, srcBytes);
    if (op === 'cmps') {
      // Mostly equal strings with one difference, so REPE/REPNE stop at varied places.
      const copy = srcBytes.slice();
      if (rng.chance(0.8)) copy[rng.below(80)] ^= 1 << rng.below(8);
      c.poke(dst - 40, copy);
    } else if (op === 'scas') {
      const alphabet = randomBytes(rng, 3);
      const bytes = Array.from({ length: 80 }, () => rng.pick(alphabet));
      c.poke(dst - 40, bytes);
      c.setReg(size, EAX, bytes.slice(40, 40 + size / 8).reduce((v, b, i) => v | (b << (8 * i)), 0) >>> 0);
    }
    if (op !== 'scas') c.setReg(32, EAX, rng.u32());
    c.setReg(32, ESI, src).setReg(32, EDI, dst);
    if (rep) c.setReg(32, ECX, rng.chance(0.1) ? 0 : rng.below(9));
    if (rng.chance(0.5)) c.eflags |= DF;
    if (rep === 'rep' || rep === 'repe') c.emit(0xf3);
    if (rep === 'repne') c.emit(0xf2);
    prefix(c, size).emit(wide(size, opcode));
  });
}
for (const size of [8, 16, 32]) {
  for (const [op, opcode] of [['movs', 0xa4], ['stos', 0xaa], ['lods', 0xac]]) {
    stringForm(op, opcode, size, null);
    stringForm(op, opcode, size, 'rep');
  }
  for (const [op, opcode] of [['scas', 0xae], ['cmps', 0xa6]]) {
    stringForm(op, opcode, size, null);
    stringForm(op, opcode, size, 'repe');
    stringForm(op, opcode, size, 'repne');
  }
}

// Exceptions recorded from the host: #UD from UD2, and a #DE from the AAM above.
form('misc', 'ud2', (c) => c.emit(0x0f, 0x0b));
