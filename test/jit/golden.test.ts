// Golden files of generated code: three small guest routines are translated (threshold 1) and the code of every
// module the translator emits is disassembled (wasm-text.ts) and compared with test/jit/golden/*.wat. The files
// are reviewed as diffs when code generation changes (`npx vitest run test/jit/golden -u` rewrites them);
// correctness is the differential suite's job, these show what the generated code looks like and how it grows.
import { describe, it, expect } from 'vitest';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';
import { disassembleCode } from './wasm-text';

const ROUTINES: Record<string, string> = {
  // A byte copy loop: loads and stores through the inline TLB path, INC/DEC flags, a loop to its own entry.
  'copy-loop': `
  mov esi, 0x8000
  mov edi, 0x9000
  mov ecx, 64
.l:
  mov al, [esi]
  mov [edi], al
  inc esi
  inc edi
  dec ecx
  jnz .l
  hlt`,
  // strlen called in a loop: CALL/RET, a compare with memory fused into JE, blocks that branch to each other.
  strlen: `
  mov ebx, 20
  mov esp, 0x7000
.again:
  mov edi, 0x8000
  call strlen
  dec ebx
  jnz .again
  hlt
strlen:
  xor eax, eax
.l:
  cmp byte [edi+eax], 0
  je .d
  inc eax
  jmp .l
.d:
  ret`,
  // Mixing with rotates whose flags the next instruction overwrites, ADC reading a carry, IMUL.
  mix: `
  mov esi, 0x8000
  mov ecx, 32
  xor eax, eax
  xor ebx, ebx
.l:
  mov edx, eax
  ror edx, 7
  xor eax, edx
  add eax, [esi]
  adc ebx, 0
  imul eax, eax, 31
  add esi, 4
  sub ecx, 1
  jnz .l
  hlt`,
  // A SHA-256 round's Sigma1: rotates whose CF and OF a MOV does not overwrite stay in a local (no call to
  // merge them into EFLAGS), a constant shift's flags stay pending, the loop's DEC decides the branch.
  'sha-sigma': `
  mov ecx, 0x6a09e667
  mov ebx, 16
.l:
  mov esi, ecx
  ror esi, 6
  mov edx, ecx
  ror edx, 11
  xor edx, esi
  mov esi, ecx
  rol esi, 7
  xor edx, esi
  shr esi, 3
  add ecx, edx
  dec ebx
  jnz .l
  hlt`,
};

describe('JIT golden code', () => {
  for (const [name, body] of Object.entries(ROUTINES)) {
    it.skipIf(!requireNasm())(name, async () => {
      const modules: Uint8Array[] = [];
      const h = new CpuHarness(loadCoreModule(), 1 << 20, { threshold: 1, onModule: (b) => modules.push(b) });
      h.setFlat32();
      h.writeMem(0x1000, assemble(`bits 32\norg 0x1000\n${body}\n`));
      h.writeMem(0x8000, Array.from({ length: 256 }, (_, i) => (i * 13 + 1) & 0xff).map((v, i) => (i === 200 ? 0 : v || 1)));
      h.setReg('eip', 0x1000);
      h.step(100_000);
      expect(h.getState().halted, 'the routine ran to its HLT').toBe(true);
      expect(modules.length).toBeGreaterThan(0);
      const text = modules.map((m, i) => `;; module ${i}: ${m.length} bytes\n${disassembleCode(m)}`).join('\n');
      await expect(text).toMatchFileSnapshot(`golden/${name}.wat`);
    });
  }
});
