// Sanity of the host-CPU differential fixtures and of their reader. These tests check the
// ORACLE's plumbing (operands placed where the bytes say, results read back correctly,
// exceptions caught) against facts from the SDM — not the emulator.
import { describe, expect, it } from 'vitest';
import {
  byForm, CODE_BASE, DATA_BASE, DATA_SIZE, GPRS, hexBytes, isException, listGroups, loadVectors,
  type CpuState, type Vector,
} from './vectors';

const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, DF = 0x400, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;
const C2 = 1 << 10;

const GROUPS = ['alu', 'bcd', 'bit', 'misc', 'muldiv', 'shift', 'string', 'string-bulk', 'x87-arith', 'x87-load', 'x87-trans'];
const all = new Map(GROUPS.map((g) => [g, loadVectors(g)] as const));
const form = (name: string): Vector[] => {
  for (const vectors of all.values()) {
    const found = vectors.filter((v) => v.form === name);
    if (found.length) return found;
  }
  throw new Error(`no vectors for form "${name}"`);
};
const ran = (v: Vector): CpuState => {
  if (isException(v.final)) throw new Error(`${v.form} ${v.bytes}: unexpected exception ${v.final.exception}`);
  return v.final;
};
/** Little-endian immediate of `size` bytes at the end of the instruction. */
const trailingImm = (v: Vector, size: number) => {
  const b = hexBytes(v.bytes).slice(-size);
  return b.reduce((acc, byte, i) => acc + byte * 2 ** (8 * i), 0);
};

describe('the fixture reader', () => {
  it('lists every group', () => {
    expect(listGroups()).toEqual(GROUPS);
  });

  it('loads vectors with all registers, EFLAGS and data-area memory', () => {
    // 130k vectors: check with plain code and report the first problems, not one expect per field.
    const problems: string[] = [];
    const u32 = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
    for (const [group, vectors] of all) {
      if (vectors.length === 0) problems.push(`${group}: empty`);
      for (const v of vectors) {
        const where = `${group}: ${v.form} ${v.bytes}`;
        if (!/^([0-9a-f]{2})+$/.test(v.bytes)) problems.push(`${where}: bad bytes`);
        if (v.flagsMask & ~STATUS) problems.push(`${where}: flagsMask outside the status flags`);
        for (const state of [v.init, v.final]) {
          if (isException(state)) continue;
          if (!GPRS.every((r) => u32(state[r]))) problems.push(`${where}: register not a u32`);
          if (state.eflags & ~(STATUS | DF | 0b10)) problems.push(`${where}: EFLAGS carries system bits`);
          for (const [addr, hex] of state.mem) {
            if (addr < DATA_BASE || addr + hex.length / 2 > DATA_BASE + DATA_SIZE) problems.push(`${where}: memory outside the data area`);
          }
        }
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('gives every form at least 200 cases', () => {
    for (const [group, vectors] of all) {
      for (const [name, list] of byForm(vectors)) expect(list.length, `${group}: ${name}`).toBeGreaterThanOrEqual(200);
    }
  });

  it('keeps x87 state on x87 vectors only', () => {
    const wrong: string[] = [];
    for (const [group, vectors] of all) {
      for (const v of vectors) {
        const x87 = group.startsWith('x87');
        if ((v.init.fpu !== undefined) !== x87 || (typeof v.fswMask === 'number') !== x87) wrong.push(`${group}: ${v.form}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('places code below the data area', () => {
    expect(CODE_BASE + 0x1000).toBeLessThanOrEqual(DATA_BASE);
  });
});

describe('oracle results agree with the SDM', () => {
  it('add eax, imm32 computes the sum, CF and ZF (0xFFFFFFFF + 1 = 0 with CF = ZF = 1)', () => {
    let wrapped = 0;
    for (const v of form('add eax, imm32')) {
      const sum = v.init.eax + trailingImm(v, 4);
      const f = ran(v);
      expect(f.eax).toBe(sum >>> 0);
      expect(!!(f.eflags & CF)).toBe(sum > 0xffffffff);
      expect(!!(f.eflags & ZF)).toBe(sum >>> 0 === 0);
      if (sum === 0x1_0000_0000) {
        wrapped++;
        expect(f.eflags & (CF | ZF)).toBe(CF | ZF);
      }
    }
    expect(wrapped).toBeGreaterThan(0);
  });

  it('sub eax, imm32 sets CF on borrow and OF on signed overflow', () => {
    for (const v of form('sub eax, imm32')) {
      const a = v.init.eax, b = trailingImm(v, 4), r = (a - b) >>> 0;
      const f = ran(v);
      expect(f.eax).toBe(r);
      expect(!!(f.eflags & CF)).toBe(a < b);
      expect(!!(f.eflags & OF)).toBe(((a ^ b) & (a ^ r) & 0x8000_0000) !== 0);
    }
  });

  it('mul r/m32 leaves EDX:EAX = EAX * src with CF = OF = (EDX != 0)', () => {
    for (const v of form('mul r/m32 [reg]')) {
      const rm = hexBytes(v.bytes)[1] & 7;
      const product = BigInt(v.init.eax) * BigInt(v.init[GPRS[rm]]);
      const f = ran(v);
      expect(BigInt(f.edx) * 2n ** 32n + BigInt(f.eax)).toBe(product);
      expect(f.eflags & (CF | OF)).toBe(f.edx !== 0 ? CF | OF : 0);
      expect(v.flagsMask).toBe(SF | ZF | AF | PF);
    }
  });

  it('div by zero raises #DE (vector 0)', () => {
    let zero = 0;
    for (const v of form('div r/m32 [reg]')) {
      const rm = hexBytes(v.bytes)[1] & 7;
      if (v.init[GPRS[rm]] !== 0) continue;
      zero++;
      expect(v.final).toEqual({ exception: 0 });
    }
    expect(zero).toBeGreaterThan(0);
  });

  it('aam 0 raises #DE and ud2 raises #UD', () => {
    const aam0 = form('aam imm8').filter((v) => v.bytes === 'd400');
    expect(aam0.length).toBeGreaterThan(0);
    for (const v of aam0) expect(v.final).toEqual({ exception: 0 });
    for (const v of form('ud2')) expect(v.final).toEqual({ exception: 6 });
  });

  it('shl by a count of 0 (mod 32) changes nothing and masks no flag', () => {
    let zero = 0;
    for (const v of form('shl r/m32, cl [reg]')) {
      if ((v.init.ecx & 31) !== 0) continue;
      zero++;
      expect(v.flagsMask).toBe(0);
      expect(ran(v).eflags).toBe(v.init.eflags);
    }
    expect(zero).toBeGreaterThan(0);
  });

  it('bt leaves ZF alone and copies the selected bit into CF', () => {
    for (const v of form('bt r/m32, r32 [reg]')) {
      const b = hexBytes(v.bytes);
      const base = v.init[GPRS[b[2] & 7]], offset = v.init[GPRS[(b[2] >> 3) & 7]] & 31;
      const f = ran(v);
      expect(f.eflags & ZF).toBe(v.init.eflags & ZF);
      expect(f.eflags & CF).toBe((base >>> offset) & 1);
    }
  });

  it('bsf with a zero source sets ZF and marks the destination undefined', () => {
    const zeros = form('bsf r32, r/m32 [reg]').filter((v) => v.regsMask);
    expect(zeros.length).toBeGreaterThan(0);
    for (const v of zeros) expect(ran(v).eflags & ZF).toBe(ZF);
  });

  it('rep movsb with ECX = 0 moves nothing', () => {
    const none = form('rep movsb').filter((v) => v.init.ecx === 0);
    expect(none.length).toBeGreaterThan(0);
    for (const v of none) {
      const f = ran(v);
      expect(f.mem).toEqual([]);
      expect([f.esi, f.edi]).toEqual([v.init.esi, v.init.edi]);
    }
  });

  it('fld1 pushes +1.0 unless the stack is full', () => {
    for (const v of form('fld1')) {
      const { sw, tw } = v.init.fpu!;
      const pushedInto = (((sw >> 11) & 7) - 1) & 7; // the physical register the push lands in
      const overflow = ((tw >> (2 * pushedInto)) & 3) !== 3; // not empty: masked #IS gives the indefinite QNaN
      expect(ran(v).fpu!.st[0]).toBe(overflow ? 'ffffc000000000000000' : '3fff8000000000000000');
    }
  });

  it('fldpi rounds the 66-bit internal pi under RC (SDM Vol. 1 8.3.8)', () => {
    for (const v of form('fldpi')) {
      const f = ran(v);
      if (f.fpu!.sw & 1) continue; // stack overflow
      const rc = (v.init.fpu!.cw >> 10) & 3;
      expect(f.fpu!.st[0]).toBe(rc === 0 || rc === 2 ? '4000c90fdaa22168c235' : '4000c90fdaa22168c234');
    }
  });

  it('fprem marks an incomplete reduction (C2 = 1) as implementation-dependent', () => {
    for (const v of form('fprem')) {
      const f = ran(v);
      if (f.fpu!.sw & C2) expect(v.stUndefined).toEqual([0]);
      else expect(v.stUndefined).toBeUndefined();
    }
  });
});
