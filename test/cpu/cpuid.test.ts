// CPUID presents an Intel P6 (Pentium Pro) with exactly the features the core implements.
import { describe, it, expect } from 'vitest';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';

function cpuid(h: CpuHarness, leaf: number): [number, number, number, number] {
  h.setFlat32();
  h.writeMem(0x1000, [0x0f, 0xa2]);
  h.setReg('eax', leaf);
  h.setReg('ecx', 0);
  h.setReg('eip', 0x1000);
  h.step(1);
  return [h.getReg('eax'), h.getReg('ebx'), h.getReg('ecx'), h.getReg('edx')];
}

describe('CPUID', () => {
  const h = new CpuHarness(loadCoreModule());

  it('names the vendor GenuineIntel and family 6 model 1 stepping 9', () => {
    const [max, b, c, d] = cpuid(h, 0);
    const s = (n: number) => String.fromCharCode(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
    expect(s(b) + s(d) + s(c)).toBe('GenuineIntel');
    expect(max).toBe(1);
    const [sig] = cpuid(h, 1);
    expect(sig).toBe(0x619);
  });

  it('advertises FPU PSE TSC MSR PAE CX8 SEP PGE CMOV and nothing the core lacks (no MMX, SSE, FXSR, APIC in the harness)', () => {
    const [, , ecx, edx] = cpuid(h, 1);
    const bits = (names: number[]) => names.reduce((a, b) => a | (1 << b), 0) >>> 0;
    expect(edx >>> 0).toBe(bits([0, 3, 4, 5, 6, 8, 11, 13, 15]));
    expect(ecx).toBe(0);
    const [, , , ext] = cpuid(h, 0x8000_0001);
    expect(ext >>> 0).toBe(1 << 20); // NX
  });
});

describe('IA32_BIOS_SIGN_ID (MSR 0x8B)', () => {
  const h = new CpuHarness(loadCoreModule());

  it('holds what WRMSR wrote until CPUID leaf 1 loads the microcode revision into its high half', () => {
    h.setFlat32();
    // wrmsr; rdmsr; mov esi,eax; mov edi,edx; mov eax,1; cpuid; mov ecx,0x8b; rdmsr
    h.writeMem(0x1000, [0x0f, 0x30, 0x0f, 0x32, 0x89, 0xc6, 0x89, 0xd7,
      0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xb9, 0x8b, 0x00, 0x00, 0x00, 0x0f, 0x32]);
    h.setReg('ecx', 0x8b);
    h.setReg('eax', 0x1234);
    h.setReg('edx', 0x5678);
    h.setReg('eip', 0x1000);
    h.step(8);
    expect([h.getReg('esi'), h.getReg('edi')]).toEqual([0x1234, 0x5678]);
    // Linux (intel_get_microcode_revision) writes 0, runs CPUID(1) and reads the revision from EDX.
    expect([h.getReg('eax'), h.getReg('edx')]).toEqual([0, 1]);
    expect(h.getReg('eip')).toBe(0x1000 + 22);
  });
});
