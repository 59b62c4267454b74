// JIT check mode (--jit-check): every call into translated code is repeated by the interpreter and compared.
// On guest programs the translator gets right it must find nothing while checking most calls; a difference
// (injected through a test hook, as a translator bug would make one) must stop the run with a report naming
// the block, what differed and both values.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { JitCheckError } from '../../src/machine/jit';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';
import { randomProgram } from './random-program';

const module = loadCoreModule();
const RAM = 4 * 1024 * 1024;

function flat32(check: true | 'blocks', bin: Uint8Array): CpuHarness {
  const h = new CpuHarness(module, RAM, { threshold: 1, check });
  h.setFlat32();
  h.writeMem(0x1000, bin);
  h.setReg('eip', 0x1000);
  return h;
}

describe('JIT check mode', () => {
  for (const check of [true, 'blocks'] as const) {
    it.skipIf(!requireNasm())(`finds nothing on random streams the translator handles (check: ${check})`, () => {
      for (const seed of [3, 7, 11]) {
        const h = flat32(check, assemble(randomProgram(seed)));
        h.step(2_000_000);
        expect(h.getState().halted, `seed ${seed} ran to its HLT`).toBe(true);
        const { checked, unchecked } = h.core.jit.checkCounts();
        expect(checked, `seed ${seed}: calls checked`).toBeGreaterThan(100n);
        expect(unchecked, `seed ${seed}: nothing unrepeatable in a program without I/O`).toBe(0n);
      }
    });
  }

  it.skipIf(!requireNasm())('finds nothing in the system-architecture programs (faults, task switches, VM86)', () => {
    for (const name of ['protected-mode', 'tasks-gates', 'vm86', 'debug']) {
      const bin = assemble(readFileSync(new URL(`../asm/${name}.asm`, import.meta.url), 'utf8'));
      const h = new CpuHarness(module, RAM, { threshold: 1, check: 'blocks' });
      h.setRealMode();
      h.writeMem(0x7c00, bin);
      h.setReg('eip', 0x7c00);
      h.step(200_000);
      expect(h.getState().halted, `${name} ran to its HLT`).toBe(true);
    }
  });

  it.skipIf(!requireNasm())('stops at a difference and says where and what', () => {
    const h = flat32('blocks', assemble(randomProgram(5)));
    h.step(2_000); // translated and checked
    const before = h.core.jit.checkCounts().checked;
    expect(before).toBeGreaterThan(0n);
    h.core.jit.injectCheckDifference();
    let error: unknown;
    try { h.step(20_000); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(JitCheckError);
    expect((error as Error).message).toMatch(/translated code entered at EIP 0x1[0-9a-f]{3} retired \d+ instructions; EAX differs: translated 0x[0-9a-f]+, interpreter 0x[0-9a-f]+/);
    // The two values differ in exactly the injected bit.
    const [, t, i] = /translated 0x([0-9a-f]+), interpreter 0x([0-9a-f]+)/.exec((error as Error).message)!;
    expect((parseInt(t!, 16) ^ parseInt(i!, 16)) >>> 0).toBe(1);
  });

  it('checks calls that do port I/O: the device sees each access once, the interpreter gets the values read', () => {
    // mov ecx,300; mov dx,0x300; xor ebx,ebx; xor eax,eax; l: in al,dx; add ebx,eax; out dx,al; dec ecx; jnz l; hlt
    const bin = [0xb9, 0x2c, 0x01, 0x00, 0x00, 0x66, 0xba, 0x00, 0x03, 0x31, 0xdb, 0x31, 0xc0,
      0xec, 0x01, 0xc3, 0xee, 0x49, 0x75, 0xf9, 0xf4];
    const h = flat32(true, Uint8Array.from(bin));
    let reads = 0;
    h.io = { read: () => reads++ & 0xff };
    h.step(100_000);
    expect(h.getState().halted).toBe(true);
    expect(reads).toBe(300);
    expect(h.ioLog.map(([, , v]) => v)).toEqual(Array.from({ length: 300 }, (_, k) => k & 0xff));
    let sum = 0;
    for (let k = 0; k < 300; k++) sum += k & 0xff;
    expect(h.getReg('ebx')).toBe(sum);
    const { checked, unchecked } = h.core.jit.checkCounts();
    expect(checked).toBeGreaterThan(0n);
    expect(unchecked).toBe(0n);
  });

  it('leaves memory as the program wrote it when the interpreter\'s writes overflow the journal', () => {
    // mov ebx,3; mov edi,0x10000; mov eax,0x11111111; p: mov ecx,6000; l: mov [edi],eax; add edi,4; dec ecx; jnz l;
    // sub edi,24000; inc eax; dec ebx; jnz p; hlt. A translated call journals 6000 stores (the loop in one block),
    // the interpreter's repeat only the first 2192 of its own.
    const bin = [0xbb, 0x03, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x01, 0x00, 0xb8, 0x11, 0x11, 0x11, 0x11,
      0xb9, 0x70, 0x17, 0x00, 0x00, 0x89, 0x07, 0x83, 0xc7, 0x04, 0x49, 0x75, 0xf8,
      0x81, 0xef, 0xc0, 0x5d, 0x00, 0x00, 0x40, 0x4b, 0x75, 0xe9, 0xf4];
    const h = flat32(true, Uint8Array.from(bin));
    h.step(200_000);
    expect(h.getState().halted).toBe(true);
    const words = new Uint32Array(h.readMem(0x10000, 6000 * 4).slice().buffer);
    // Three passes stored 0x11111111, then 0x11111112, then 0x11111113 in every word.
    expect(words.filter((w) => w !== 0x11111113).length).toBe(0);
    expect(h.core.jit.checkCounts().checked).toBeGreaterThan(0n);
  });
});
