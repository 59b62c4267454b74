// Merged translated modules (src/machine/jit-merge.ts, JitOptions.mergeBatch): many modules' functions in one
// module, switched into the table slots of the originals once compiled. What runs must not change; what was
// freed, reused or flushed in the meantime must not be switched.
import { describe, it, expect } from 'vitest';
import { CpuHarness } from '../../src/machine/harness';
import type { JitOptions } from '../../src/machine/jit';
import { mergeModules } from '../../src/machine/jit-merge';
import { loadCoreModule } from '../../src/node/core-module';
import { CPU_HALTED } from '../../src/layout/memory';
import { assemble, requireNasm } from '../asm/assemble';

// Four functions on four pages, called in a loop: each page's blocks become a module of their own.
const PROGRAM = `bits 32
org 0x1000
  mov esp, 0x8000
  mov ecx, 200
  xor eax, eax
  mov ebx, 0x1234
.l:
  call f1
  call f2
  call f3
  call f4
  dec ecx
  jnz .l
  hlt
times 0x1000 - ($ - $$) db 0x90
f1: add eax, ebx
  rol eax, 3
  ret
times 0x2000 - ($ - $$) db 0x90
f2: xor eax, 0x5a5a5a5a
  mov [0x9000 + ecx * 4], eax
  ret
times 0x3000 - ($ - $$) db 0x90
f3: imul ebx, ebx, 7
  add ebx, [0x9000 + ecx * 4]
  ret
times 0x4000 - ($ - $$) db 0x90
f4: sub eax, ebx
  adc edx, 0
  ret
`;

const core = loadCoreModule();

function machine(jit: boolean | JitOptions, modules?: Uint8Array[]): CpuHarness {
  const h = new CpuHarness(core, 1 << 20, jit === false ? false : { threshold: 1, ...(jit === true ? {} : jit), onModule: (b) => modules?.push(b) });
  h.setFlat32();
  h.writeMem(0x1000, assemble(PROGRAM));
  return h;
}

function runOnce(h: CpuHarness): { eax: number; ebx: number; edx: number } {
  h.core.cpuView().setUint32(CPU_HALTED, 0, true); // out of the last pass's HLT
  h.setReg('eip', 0x1000);
  h.setReg('edx', 0);
  h.core.stateChanged();
  h.step(1_000_000);
  expect(h.getState().halted, 'the program ran to its HLT').toBe(true);
  return { eax: h.getReg('eax'), ebx: h.getReg('ebx'), edx: h.getReg('edx') };
}

describe.skipIf(!requireNasm())('merged translated modules', () => {
  it('run as the modules they were made from, and as the interpreter does', async () => {
    const expected = runOnce(machine(false));
    const h = machine({ mergeBatch: 2 });
    expect(runOnce(h)).toEqual(expected);
    await h.core.jit.settled();
    const s = h.core.jit.getStats();
    expect(s.modules).toBeGreaterThanOrEqual(4);
    expect(s.merges).toBeGreaterThanOrEqual(2);
    expect(s.mergedSlots).toBe(s.merges * 2);
    expect(s.failed).toBe(0);
    // The second pass runs the merged functions (nothing new to translate).
    expect(runOnce(h)).toEqual(expected);
    expect(h.core.jit.getStats().modules).toBe(s.modules);
  });

  it('are not switched in after a flush dropped every translation', async () => {
    const h = machine({ mergeBatch: 2 });
    runOnce(h);
    h.reset(); // RESET flushes the code cache and frees every table slot
    await h.core.jit.settled();
    const s = h.core.jit.getStats();
    expect(s.merges).toBe(0);
    expect(s.mergedSlots).toBe(0);
  });

  it('give the optimizing-tier hook the merged module and the slot\'s export in it', async () => {
    const promoted: string[][] = [];
    const h = machine({
      mergeBatch: 2,
      hotInsns: 1000, // a function's module retires 600 instructions a pass (200 calls of 3), the loop's 1,400
      instantiateHot: (module, imports) => {
        promoted.push(WebAssembly.Module.exports(module).map((e) => e.name));
        return new WebAssembly.Instance(module, imports);
      },
    });
    const expected = runOnce(machine(false));
    runOnce(h);
    await h.core.jit.settled();
    const before = promoted.length;
    expect(runOnce(h)).toEqual(expected);
    const after = promoted.slice(before);
    expect(after.length).toBeGreaterThan(0);
    // Merged modules export g0, g1, ...; one compiled alone (not merged: the odd one out) exports only "g".
    expect(after.some((names) => names.includes('g1'))).toBe(true);
    expect(promoted.slice(0, before).every((names) => names.length === 1)).toBe(true);
  });

  it('are made only from modules shaped as the translator makes them', () => {
    const modules: Uint8Array[] = [];
    runOnce(machine(true, modules));
    expect(modules.length).toBeGreaterThanOrEqual(2);
    const merged = mergeModules(modules);
    expect(WebAssembly.validate(merged)).toBe(true);
    expect(WebAssembly.Module.exports(new WebAssembly.Module(merged)).map((e) => e.name)).toEqual(modules.map((_, k) => `g${k}`));
    expect(() => mergeModules([])).toThrow(/nothing to merge/);
    expect(() => mergeModules([new Uint8Array([1, 2, 3])])).toThrow(/not a wasm module/);
    expect(() => mergeModules([merged])).toThrow(/one function/);
    const otherImports = modules[1]!.slice();
    const at = indexOf(otherImports, [0x01, 0x66]); // the import named "f" (the fault flag) becomes "g"
    otherImports[at + 1] = 0x67;
    expect(() => mergeModules([modules[0]!, otherImports])).toThrow(/import different things/);
    const truncated = modules[0]!.subarray(0, modules[0]!.length - 3);
    expect(() => mergeModules([truncated])).toThrow(/runs past the module/);
  });
});

function indexOf(b: Uint8Array, seq: number[]): number {
  for (let i = 0; i + seq.length <= b.length; i++) if (seq.every((x, k) => b[i + k] === x)) return i;
  throw new Error('not found');
}
