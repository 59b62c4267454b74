// The JIT against the interpreter (the reference semantics): the same guest program runs once interpreted and
// once with every block translated at its first execution (threshold 1), and the whole machine state must
// agree: registers, EFLAGS, segment caches, control registers, all of RAM and the retired-instruction count.
// The programs are the system-architecture guest programs of test/cpu (faults, task switches, VM86, debug
// registers: exceptions inside translated blocks) and seeded random instruction streams over the forms the
// translator emits natively, mixed with ones it hands to the interpreter.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { assemble, requireNasm } from '../asm/assemble';
import { randomProgram, CC } from './random-program';

const module = loadCoreModule();
const RAM = 4 * 1024 * 1024;

interface Outcome {
  state: ReturnType<CpuHarness['getState']>;
  ram: Uint8Array;
  insns: number;
  exit: number;
  jitInsns: bigint;
}

function runBoth(setup: (h: CpuHarness) => void, budget: number, threshold = 1, maxModules?: number): { interp: Outcome; jit: Outcome; flushes: number; coldDrops: number } {
  let flushes = 0, coldDrops = 0;
  const go = (jit: boolean): Outcome => {
    const h = new CpuHarness(module, RAM, jit ? { threshold, ...(maxModules ? { maxModules } : {}) } : false);
    setup(h);
    const r = h.step(budget);
    if (jit) ({ flushes, coldDrops } = h.core.jit.getStats());
    return {
      state: h.getState(), ram: h.readMem(0, RAM), insns: h.insnCount(), exit: r.exit,
      jitInsns: h.core.jit.getStats().insns,
    };
  };
  return { interp: go(false), jit: go(true), flushes, coldDrops };
}

/** Flat 32-bit protected mode, paging off, the program at 0x1000 and EIP on it. */
function flat32(bin: Uint8Array, more?: (h: CpuHarness) => void): (h: CpuHarness) => void {
  return (h) => {
    h.setFlat32();
    h.writeMem(0x1000, bin);
    more?.(h);
    h.setReg('eip', 0x1000);
  };
}

/** The program ran to its HLT, at least `share` of it in translated code, and both runs agree. */
function expectAgreement({ interp, jit }: { interp: Outcome; jit: Outcome }, what: string, share = 0.5): void {
  expect(interp.state.halted, 'the program ran to its HLT').toBe(true);
  expect(Number(jit.jitInsns) / jit.insns, 'share of instructions run in translated code').toBeGreaterThan(share);
  expectSame(interp, jit, what);
}

/** The little-endian dword at `at`. */
/**
 * Paging on (CR0.PG and WP): page directory at 0x10000, one page table at 0x11000 identity-mapping the first 4 MiB,
 * page i with the flags `flags(i)` (P = 1, R/W = 2).
 */
function identityPaging(h: CpuHarness, flags: (page: number) => number): void {
  const pd = new DataView(new ArrayBuffer(4));
  pd.setUint32(0, 0x11000 | 0x3, true);
  h.writeMem(0x10000, new Uint8Array(pd.buffer));
  const pt = new DataView(new ArrayBuffer(4096));
  for (let i = 0; i < 1024; i++) pt.setUint32(i * 4, (i << 12) | flags(i), true);
  h.writeMem(0x11000, new Uint8Array(pt.buffer));
  h.setControl('cr3', 0x10000);
  h.setControl('cr0', 0x8001_0011); // PG WP ET PE
}

function word(ram: Uint8Array, at: number): number { return new DataView(ram.buffer, ram.byteOffset).getUint32(at, true); }

function expectSame(a: Outcome, b: Outcome, what: string): void {
  expect(b.state, `${what}: CPU state`).toEqual(a.state);
  expect(b.insns, `${what}: instructions retired`).toBe(a.insns);
  expect(b.exit, `${what}: exit`).toBe(a.exit);
  const diff = a.ram.findIndex((v, i) => v !== b.ram[i]);
  expect(diff, `${what}: first RAM difference at ${diff.toString(16)}`).toBe(-1);
}

describe('JIT vs interpreter on the system-architecture guest programs', () => {
  for (const name of ['protected-mode', 'tasks-gates', 'vm86', 'debug']) {
    it.skipIf(!requireNasm())(`${name}.asm ends in the same state`, () => {
      const bin = assemble(readFileSync(new URL(`../asm/${name}.asm`, import.meta.url), 'utf8'));
      const { interp, jit } = runBoth((h) => {
        h.setRealMode();
        h.writeMem(0x7c00, bin);
        h.setReg('eip', 0x7c00);
      }, 200_000);
      expect(interp.state.halted, 'the program ran to its HLT').toBe(true);
      expect(jit.jitInsns, 'translated code ran').toBeGreaterThan(0n);
      expectSame(interp, jit, name);
    });
  }
});

// ---- random instruction streams (random-program.ts) ----

describe('JIT vs interpreter on random instruction streams', () => {
  for (let seed = 1; seed <= 24; seed++) {
    it.skipIf(!requireNasm())(`seed ${seed}`, () => {
      const bin = assemble(randomProgram(seed));
      const { interp, jit } = runBoth(flat32(bin), 2_000_000);
      expect(interp.state.halted, 'the program ran to its HLT').toBe(true);
      expect(jit.jitInsns, 'translated code ran').toBeGreaterThan(BigInt(Math.floor(jit.insns / 2)));
      expectSame(interp, jit, `seed ${seed}`);
    });
  }
});

describe('JIT: code written while it runs', () => {
  it.skipIf(!requireNasm())('a store into the running block takes effect at the next instruction', () => {
    // The loop patches the immediate of the `add` that follows the store, inside the same block.
    const bin = assemble(`bits 32
org 0x1000
  mov ecx, 100
  xor eax, eax
top:
  mov byte [patch+1], cl
patch:
  add eax, strict dword 0x11
  dec ecx
  jnz top
  hlt
`);
    const { interp, jit } = runBoth(flat32(bin), 100_000);
    expect(interp.state.eax, 'the sum of the patched immediates 100..1').toBe(5050);
    expectSame(interp, jit, 'self-modifying loop');
  });
});

describe('JIT: a block that branches back to its own entry loops inside its function', () => {
  const loop = `bits 32
org 0x1000
  mov ecx, 3000
  mov ebx, 0x8000
  xor eax, eax
top:
  add eax, [ebx]
  mov [ebx+4], eax
  add ebx, 8
  sub ecx, 1
  jnz top
  hlt
`;
  it.skipIf(!requireNasm())('runs to the same end state', () => {
    const bin = assemble(loop);
    const { interp, jit } = runBoth(flat32(bin, (h) => {
      h.writeMem(0x8000, Array.from({ length: 3000 * 8 }, (_, i) => (i * 7) & 0xff));
    }), 100_000);
    expect(interp.state.halted).toBe(true);
    expect(jit.jitInsns).toBeGreaterThan(14_000n);
    expectSame(interp, jit, 'loop');
  });
  it.skipIf(!requireNasm())('stops exactly where the instruction budget ends, mid-loop', () => {
    const bin = assemble(loop);
    for (const budget of [1000, 4097, 9999]) {
      const { interp, jit } = runBoth(flat32(bin), budget);
      expect(interp.insns).toBe(budget);
      expectSame(interp, jit, `budget ${budget}`);
    }
  });
});

describe('JIT: instructions that only read memory need no write access', () => {
  // Regression: CMP with a memory destination was translated as a read-modify-write, which faults on a
  // read-only page (Linux hung after write-protecting its rodata).
  it.skipIf(!requireNasm())('CMP/TEST/ADD-from a read-only page under paging with CR0.WP', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov ecx, 200
top:
  cmp dword [0x5000], 7
  cmp byte [0x5004], cl
  test [0x5008], ecx
  add eax, [0x5000]
  sub ecx, 1
  jnz top
  hlt
`);
    const { interp, jit } = runBoth(flat32(bin, (h) => {
      h.writeMem(0x5000, [7, 0, 0, 0, 9, 0, 0, 0, 0xff, 0, 0, 0]);
      identityPaging(h, (page) => (page === 5 ? 0x1 : 0x3)); // page 0x5000 read-only
    }), 100_000);
    expect(interp.state.halted, 'no fault: the program reached its HLT').toBe(true);
    expect(jit.jitInsns).toBeGreaterThan(500n);
    expectSame(interp, jit, 'read-only operands');
  });
});

describe('JIT: data accesses around a remap of their page', () => {
  // Translated code looks every access up in the TLB inline (it once kept the pages it found in locals, which
  // the interpreter's INVLPG, CR3 writes ... had to make it forget). Linear 0x6000 is remapped to another
  // physical page in the middle of a block: every read and write after the INVLPG must go to the new page, and
  // the old mapping must be back after the second one.
  it.skipIf(!requireNasm())('see the new page after INVLPG', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x9000
  mov ecx, 100
top:
  mov eax, [0x6000]
  add [0x7000], eax
  push eax
  mov dword [ss:0x11000 + 6 * 4], 0x8003
  invlpg [0x6000]
  mov ebx, [0x6000]
  add [0x7004], ebx
  add dword [0x6004], 1
  mov dword [ss:0x11000 + 6 * 4], 0x6003
  invlpg [0x6000]
  add dword [0x6008], 1
  pop edx
  add [0x700c], edx
  dec ecx
  jnz top
  hlt
`);
    const { interp, jit } = runBoth(flat32(bin, (h) => {
      h.writeMem(0x6000, [0x11, 0, 0, 0]);
      h.writeMem(0x8000, [0x22, 0, 0, 0]);
      identityPaging(h, () => 0x3);
    }), 100_000);
    expect(interp.state.halted, 'the program reached its HLT').toBe(true);
    // The reference: 100 reads of each page, the increments landed in each.
    const w = (a: number): number => word(interp.ram, a);
    expect([w(0x7000), w(0x7004), w(0x8004), w(0x6008)]).toEqual([0x11 * 100, 0x22 * 100, 100, 100]);
    expect(jit.jitInsns).toBeGreaterThan(1000n);
    expectSame(interp, jit, 'accesses around INVLPG');
  });
  // Two pages through one register, one of them read-only: a page read through the TLB must not take a write;
  // 0x6000 is remapped to 0x8000 and back around INVLPG between accesses to the other.
  it.skipIf(!requireNasm())('a page read takes no write; remaps around INVLPG are seen', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x9000
  mov ecx, 100
top:
  mov ebx, 0x6000
  add [ebx+4], eax
  mov ebx, 0x5000
  add eax, [ebx]
  mov dword [ss:0x11000 + 6 * 4], 0x8003
  invlpg [0x6000]
  mov ebx, 0x6000
  add eax, [ebx]
  add [ebx+8], eax
  mov ebx, 0x5000
  add eax, [ebx+4]
  mov dword [ss:0x11000 + 6 * 4], 0x6003
  invlpg [0x6000]
  mov ebx, 0x6000
  add eax, [ebx]
  add [0x7000], eax
  dec ecx
  jnz top
  mov ebx, 0x6000
  mov eax, [ebx]
  mov ebx, 0x5000
  add eax, [ebx]
  mov ebx, 0x6000
  mov eax, [ebx]
  mov ebx, 0x5000
  mov [ebx], eax
  hlt
`);
    const { interp, jit } = runBoth(flat32(bin, (h) => {
      h.writeMem(0x5000, [3, 0, 0, 0, 5, 0, 0, 0]);
      h.writeMem(0x6000, [0x11, 0, 0, 0]);
      h.writeMem(0x8000, [0x22, 0, 0, 0]);
      identityPaging(h, (page) => (page === 5 ? 0x1 : 0x3));
    }), 100_000);
    // The reference: the last store faulted on the read-only page (no IDT: a triple fault), which is unchanged.
    expect(interp.state.cr2, 'the write to the read-only page faulted').toBe(0x5000);
    expect(word(interp.ram, 0x5000)).toBe(3);
    expect(word(interp.ram, 0x8008), 'the remapped page was written').not.toBe(0);
    expect(jit.jitInsns).toBeGreaterThan(1000n);
    expectSame(interp, jit, 'two pages per register');
  });
});

describe('JIT: the flags held in locals', () => {
  // Every condition after every native flag writer at every size, read inline (SETcc in the same block), from
  // memory after the flags were stored for the interpreter (PUSHFD) and after a branch to another block.
  const VALUES = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1234_5678, 0xfedc_ba98];
  const REGS: Array<[string, string]> = [['al', 'dl'], ['ah', 'dh'], ['ax', 'dx'], ['eax', 'edx']];
  const OPS = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test', 'inc', 'dec', 'neg-free adc', 'sbb', 'rotates', 'imul'];
  it.skipIf(!requireNasm())('agree with the interpreter', () => {
    const body: string[] = [];
    let k = 0;
    for (const opName of OPS) {
      for (const [a, b] of REGS) {
        const l = `.n${k++}`;
        // INC/DEC keep CF: an ADD before them leaves one that is still pending; ADC/SBB read it.
        const insn = opName === 'inc' || opName === 'dec' ? [`add ${a}, ${b}`, `${opName} ${a}`]
          : opName === 'neg-free adc' ? [`add ${a}, ${b}`, `adc ${a}, ${b}`]
          : opName === 'sbb' ? [`sub ${a}, ${b}`, `sbb ${a}, ${b}`]
          // Shift and rotate flags that the next instruction overwrites are never computed; ADC reads CF.
          : opName === 'rotates' ? ['ror eax, 3', 'xor eax, edx', 'rol eax, 7', 'adc eax, edx', 'shr eax, 5', `or ${a}, ${b}`, 'sar eax, 1', 'sbb eax, 0']
          : opName === 'imul' ? ['imul eax, edx', `and ${a}, ${b}`, 'imul eax, eax, 3']
          : [`${opName} ${a}, ${b}`];
        body.push('mov eax, [esi]', 'mov edx, [esi+4]', ...insn);
        CC.forEach((cc, i) => body.push(`set${cc} [edi+${i}]`));
        body.push('pushfd', 'pop dword [edi+16]', `mov [edi+20], eax`, `jmp ${l}`, `${l}:`);
        CC.forEach((cc, i) => body.push(`set${cc} [edi+${24 + i}]`));
        body.push('add edi, 40');
      }
    }
    const pairs = VALUES.flatMap((x) => VALUES.map((y) => [x, y]));
    const bin = assemble(`bits 32
org 0x1000
  mov esi, pairs
  mov edi, 0x100000
  mov ebp, ${pairs.length}
top:
  ${body.join('\n  ')}
  add esi, 8
  dec ebp
  jnz top
  hlt
align 4
pairs: dd ${pairs.flat().join(',')}
`);
    expectAgreement(runBoth(flat32(bin, (h) => h.setReg('esp', 0x9000)), 10_000_000), 'flags');
  });
});

describe('JIT: blocks translated for flat segments', () => {
  // Translated code keyed MODE_FLAT uses offsets as linear addresses; loading DS with a based segment must
  // leave those blocks for ones that add the base (the same loop runs with DS flat, then based at 0x10000).
  it.skipIf(!requireNasm())('a based DS loaded between two runs of a loop takes effect', () => {
    const bin = assemble(`bits 32
org 0x1000
  lgdt [gdtr]
  mov ecx, 2
again:
  xor ebx, ebx
  mov edx, 300
l:
  mov eax, [ebx+0x8000]
  add [ebx+0x8004], eax
  add ebx, 8
  dec edx
  jnz l
  mov ax, 0x18
  mov ds, ax
  dec ecx
  jnz again
  hlt
align 8
gdt:
  dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00cf92010000ffff
gdtr:
  dw 31
  dd gdt
`);
    const fill = (h: CpuHarness, at: number, k: number) =>
      h.writeMem(at, Array.from({ length: 300 * 8 }, (_, i) => (i * k) & 0xff));
    const { interp, jit } = runBoth(flat32(bin, (h) => { fill(h, 0x8000, 7); fill(h, 0x18000, 13); }), 100_000);
    expect(interp.state.halted).toBe(true);
    expect(jit.jitInsns).toBeGreaterThan(1000n);
    // The second pass added through DS.base: the dword at 0x18004 grew by the one at 0x18000.
    const initial = new DataView(new Uint8Array([4 * 13, 5 * 13, 6 * 13, 7 * 13]).buffer).getUint32(0, true);
    expect(word(interp.ram, 0x18004)).toBe((initial + word(interp.ram, 0x18000)) >>> 0);
    expectSame(interp, jit, 'flat, then based DS');
  });
});

describe('JIT: a block entered from another page', () => {
  // Regression: the translator decoded a block's first instruction while the decoder's fetch page was still the
  // caller's, got an uncacheable record and marked the block untranslatable for good; a function called from
  // another page (a PIC thunk in busybox) then ran in the interpreter forever.
  it.skipIf(!requireNasm())('is translated, and the loop runs in translated code', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 2000
top:
  call 0x3000
  add eax, ebx
  dec ecx
  jnz top
  hlt
times 0x2000-($-$$) db 0x90
  mov ebx, [esp]
  ret
`);
    const { interp, jit } = runBoth(flat32(bin), 100_000);
    expect(interp.state.halted).toBe(true);
    expectSame(interp, jit, 'calls into another page');
    expect(Number(jit.jitInsns) / jit.insns, 'share of instructions run in translated code').toBeGreaterThan(0.95);
  });
});

describe('JIT: entry points that share a code-cache set', () => {
  // Regression: the code cache hashed a block's address without its lowest bit, so a loop head (inc) and the
  // instruction after it (entered from outside) shared a two-way set; the second way went to whichever was
  // seen last and reset its count, so a string scan called with short strings (busybox ash's strlen-like
  // loop) never reached the translation threshold and ran in the interpreter for ever.
  it.skipIf(!requireNasm())('are both counted up, and the scan runs in translated code', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 3000
top:
  mov eax, data
  call scan
  dec ecx
  jnz top
  hlt
data: db 'aaaaaaaaaaaaaaaaaaaa', 0
times 0x2000-($-$$) db 0x90
scan:
  jmp l2
l1:
  inc eax
l2:
  cmp byte [eax], 0
  jne l1
  ret
`);
    // The production threshold (1024 executions), more than the 21 lookups of l1 and l2 a call makes.
    const { interp, jit } = runBoth(flat32(bin), 400_000, 1024);
    expect(interp.state.halted).toBe(true);
    expectSame(interp, jit, 'string scans');
    expect(Number(jit.jitInsns) / jit.insns, 'share of instructions run in translated code').toBeGreaterThan(0.9);
  });
});

describe('JIT: a group entered at a block before its first one', () => {
  // Regression: a module's blocks are entered through one function, given the block's EIP minus the first
  // (hot) block's; a successor at a lower address has a negative one, and storing it as unsigned 16 bits sent
  // the entry 64 KiB away (its relative jump with it).
  it.skipIf(!requireNasm())('runs from the right EIP', () => {
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 100
  call f1
top:
  call f2
  call f1
  dec ecx
  jnz top
  hlt
times 0x2000-($-$$) db 0x90
f1:
  add eax, 3
  jmp back
f2:
  add ebx, 1
  test ecx, ecx
  jnz f1
  ret
times 0x4000-($-$$) db 0x90
back:
  ret
`);
    // Threshold 2: f1 has run once (it has an entry) when f2 becomes hot, so f2's module holds f1 too.
    const { interp, jit } = runBoth(flat32(bin), 10_000, 2);
    expect(interp.state.halted).toBe(true);
    expectSame(interp, jit, 'entries below the first block');
  });
});

describe('JIT: calls to a PIC thunk', () => {
  // `call __x86.get_pc_thunk.bx` (mov ebx, [esp]; ret) starts most functions of position-independent i386
  // code; the call site does the thunk in place while the thunk is unchanged (src/wasm/emit-thunk.ts).
  const program = (patchAt: number): string => `bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 1000
top:
  call thunk
  add eax, ebx
  add esi, edx
  cmp ecx, ${patchAt}
  jne next
  mov byte [thunk + 1], 0x14 ; mov ebx, [esp] -> mov edx, [esp]
next:
  dec ecx
  jnz top
  hlt
times 0x2000-($-$$) db 0x90
thunk:
  mov ebx, [esp]
  ret
`;
  it.skipIf(!requireNasm())('are done in place: the state is the interpreter\'s, without run-loop entries', () => {
    for (const threshold of [1, 256]) {
      const { interp, jit } = runBoth(flat32(assemble(program(-1))), 100_000, threshold);
      expect(interp.state.halted).toBe(true);
      expectSame(interp, jit, `threshold ${threshold}`);
    }
    const h = new CpuHarness(module, RAM, { threshold: 1 });
    flat32(assemble(program(-1)))(h);
    h.step(100_000);
    // Two entries per iteration (into the thunk and back) without the shortcut.
    expect(Number(h.core.jit.getStats().entries), 'run-loop entries').toBeLessThan(100);
  });
  it.skipIf(!requireNasm())('stop being done in place when a device rewrites the thunk', () => {
    // A DMA-like write between two runs: the call site must see the thunk's page change.
    const go = (jit: boolean): { state: ReturnType<CpuHarness['getState']>; insns: number } => {
      const h = new CpuHarness(module, RAM, jit ? { threshold: 1 } : false);
      flat32(assemble(program(-1)))(h);
      h.step(3_000);
      h.writeMem(0x3001, [0x14]);
      h.step(100_000);
      return { state: h.getState(), insns: h.insnCount() };
    };
    const interp = go(false), jit = go(true);
    expect(interp.state.halted).toBe(true);
    expect(interp.state.edx, 'the rewritten thunk ran').not.toBe(0);
    expect(jit.state).toEqual(interp.state);
    expect(jit.insns).toBe(interp.insns);
  });
  it.skipIf(!requireNasm())('stop being done in place when the thunk is rewritten', () => {
    for (const threshold of [1, 256]) {
      const { interp, jit } = runBoth(flat32(assemble(program(500))), 100_000, threshold);
      expect(interp.state.halted).toBe(true);
      expect(interp.state.edx, 'the rewritten thunk ran').not.toBe(0);
      expectSame(interp, jit, `threshold ${threshold}`);
    }
  });
});

describe('JIT: near branches against the CS limit', () => {
  // Translated code checks a near branch's target against the CS limit only where the block's mode says CS may
  // end below 4 GiB (MODE_FLAT covers CS's limit as well as flat data). Here CS ends at 0x2fff and the data
  // segments stay flat: a JMP, Jcc, CALL, RET, JMP r32 and CALL r32 to 0x3000 must each raise #GP(0) at the
  // branch (the handler goes on at EBP), as the interpreter does, and the branches inside the limit still run.
  it.skipIf(!requireNasm())('raise #GP beyond it, as the interpreter does', () => {
    const bin = assemble(`bits 32
org 0x1000
  lgdt [gdtr]
  mov eax, gp_handler
  mov [idt+13*8], ax
  shr eax, 16
  mov [idt+13*8+6], ax
  mov word [idt+13*8+2], 8
  mov word [idt+13*8+4], 0x8e00
  lidt [idtr]
  jmp dword 0x08:limited
limited:
  mov ecx, 40
top:
  mov esp, 0x9000
  mov ebp, c1
  jmp 0x3000
c1:
  mov ebp, c2
  xor eax, eax
  jz 0x3000
c2:
  mov ebp, c3
  call 0x3000
c3:
  mov esp, 0x9000
  mov ebp, c4
  push 0x3000
  ret
c4:
  mov esp, 0x9000
  mov ebp, c5
  mov eax, 0x3000
  jmp eax
c5:
  mov ebp, c6
  mov eax, 0x3000
  call eax
c6:
  mov ebp, c7
  mov eax, 0x2ffe
  call eax
c7:
  mov esp, 0x9000
  add dword [0x8008], 1
  jmp c8
c8:
  loop top
  hlt
gp_handler:
  pop eax ; the error code
  or [0x8004], eax
  mov [esp], ebp
  inc dword [0x8000]
  iretd
align 8
gdt: dq 0, 0x00409a0000002fff, 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
idt: times 14 dq 0
idtr: dw 14*8-1
  dd idt
times 0x2ffe-0x1000-($-$$) db 0x90
  ret ; at 0x2ffe, inside the limit: the last CALL EAX comes back from here
`);
    const r = runBoth(flat32(bin, (h) => h.setReg('esp', 0x9000)), 1_000_000);
    expect(bin.length, 'the program ends with the RET at 0x2ffe, inside the CS limit').toBe(0x1fff);
    expect(word(r.interp.ram, 0x8000), 'the #GPs the interpreter took').toBe(6 * 40);
    expect(word(r.interp.ram, 0x8004), 'their error codes').toBe(0);
    expect(word(r.interp.ram, 0x8008), 'passes through the branches inside the limit').toBe(40);
    expectAgreement(r, 'branches against the CS limit', 0.3);
  });
});

describe('JIT: one-operand MUL, IMUL, DIV and IDIV', () => {
  // Every 32-bit form the translator emits, on operands at the edges: products that do and do not fit, quotients
  // that do and do not fit, zero and -1 divisors. A #DE is taken by a handler that skips the instruction and
  // counts it, so the faulting cases must leave the same state too.
  const VALUES = [0, 1, 2, 3, 0x7f, 0x80, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0x8000_0001, 0xffff_fffe, 0xffff_ffff, 0x1234_5678];
  const HIGH = [0, 1, 0x7fff_ffff, 0xffff_ffff];
  it.skipIf(!requireNasm())('agree with the interpreter, #DE included', () => {
    const triples = VALUES.flatMap((a) => HIGH.flatMap((d) => VALUES.map((c) => [a, d, c])));
    const ops = ['mul ecx', 'imul ecx', 'mul dword [esi+8]', 'imul dword [esi+8]', 'div ecx', 'idiv ecx', 'div ebp', 'idiv ebp'];
    const body = ops.flatMap((o, i) => [
      'mov eax, [esi]', 'mov edx, [esi+4]', 'mov ecx, [esi+8]', 'mov ebp, ecx', 'add ebp, eax', // flags: an ADD's
      o, `mov [edi+${i * 12}], eax`, `mov [edi+${i * 12 + 4}], edx`, 'pushfd', `pop dword [edi+${i * 12 + 8}]`,
    ]);
    const bin = assemble(`bits 32
org 0x1000
  lgdt [gdtr]
  mov eax, de_handler
  mov [idt], ax
  shr eax, 16
  mov [idt+6], ax
  mov word [idt+2], 8
  mov word [idt+4], 0x8e00
  lidt [idtr]
  mov esi, triples
  mov edi, 0x100000
  mov ebx, ${triples.length}
top:
  ${body.join('\n  ')}
  add esi, 12
  add edi, ${ops.length * 12}
  dec ebx
  jnz top
  hlt
de_handler:
  add dword [esp], 2 ; every divide above is two bytes long
  inc dword [de_count]
  iretd
align 8
gdt: dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
idt: dq 0
idtr: dw 7
  dd idt
de_count: dd 0
align 4
triples: dd ${triples.flat().join(',')}
`);
    expectAgreement(runBoth(flat32(bin, (h) => h.setReg('esp', 0x9000)), 10_000_000), 'mul/div');
  });
});

describe('JIT: the cap on live modules', () => {
  // Eight functions, each in a page (a module) of its own, called in turn: with room for three modules, and
  // all of them in use (none cold), every translation is dropped again and again and the host reuses the table
  // slots. Nothing may still reach a dropped function (the run loop's entry cache is cleared with the map).
  it.skipIf(!requireNasm())('flushes everything when full, and runs on correctly', () => {
    const fns = Array.from({ length: 8 }, (_, i) => `align 4096
f${i}:
  add eax, ${i + 1}
  imul eax, eax, ${2 * i + 3}
  xor ebx, eax
  ret`);
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 300
top:
  ${fns.map((_, i) => `call f${i}`).join('\n  ')}
  dec ecx
  jnz top
  hlt
${fns.join('\n')}
`);
    const run = runBoth(flat32(bin), 100_000, 1, 3);
    expect(run.flushes, 'the cap was reached').toBeGreaterThan(10);
    expectAgreement(run, 'module cap', 0);
  });
});

describe('JIT: dropping the modules that have not run lately', () => {
  // Eight phases, each a loop in a page of its own calling two functions in pages of their own: at a cap of
  // six modules, the modules of finished phases are dropped (not everything) and their table slots reused.
  it.skipIf(!requireNasm())('keeps the running ones and runs on correctly', () => {
    const phases = Array.from({ length: 8 }, (_, i) => `align 4096
p${i}:
  mov ecx, 60
.l:
  call f${i}a
  call f${i}b
  dec ecx
  jnz .l
  jmp ${i < 7 ? `p${i + 1}` : 'done'}
align 4096
f${i}a:
  add eax, ${i + 1}
  ret
align 4096
f${i}b:
  imul eax, eax, ${2 * i + 3}
  xor ebx, eax
  ret`);
    const bin = assemble(`bits 32
org 0x1000
  mov esp, 0x80000
  jmp p0
done:
  hlt
${phases.join('\n')}
`);
    const run = runBoth(flat32(bin), 100_000, 1, 6);
    expect(run.coldDrops, 'the cap was met by dropping cold modules').toBeGreaterThan(2);
    expectAgreement(run, 'cold drops', 0.8);
  });
});

describe('JIT: INC, DEC and PUSH with an FF opcode', () => {
  // FF is also CALL and JMP (near and far, indirect): only those end a block. gzip's and wc's loops count in
  // memory (`incl 0x40(%esp)`, `incw 0x484(%eax,%ecx,4)`); ending the block there sent every iteration through
  // the run loop to code that had not run when the group was translated.
  const program = `bits 32
org 0x1000
  mov esp, 0x80000
  mov ebx, 0x40000
  mov ecx, 1000
top:
  inc dword [ebx]
  add eax, ecx
  dec word [ebx + 4]
  push dword [ebx]
  pop edx
  dec ecx
  jnz top
  hlt
`;
  it.skipIf(!requireNasm())('do not end the block: the loop runs in one function', () => {
    const { interp, jit } = runBoth(flat32(assemble(program)), 100_000, 1);
    expect(interp.state.halted).toBe(true);
    expectSame(interp, jit, 'FF /0 /1 /6 inside a block');
    const h = new CpuHarness(module, RAM, { threshold: 1 });
    flat32(assemble(program))(h);
    h.step(100_000);
    expect(h.getState().halted).toBe(true);
    // Three entries per iteration when each of them ends a block.
    expect(Number(h.core.jit.getStats().entries), 'run-loop entries').toBeLessThan(50);
  });
});

describe('JIT: a RET to a return point of its group', () => {
  // A call to a function in the same page and its return both stay in the group's function; an indirect call
  // (to code not in the group) leaves, and its return comes back through the run loop.
  const program = (indirect: boolean): string => `bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 1000
top:
  call f
  add eax, ebx
  ${indirect ? 'call [ptr]' : 'nop'}
  xor eax, edx
  dec ecx
  jnz top
  hlt
f:
  add ebx, ecx
  ret
g:
  lea edx, [eax + ecx]
  ret
ptr: dd g
`;
  it.skipIf(!requireNasm())("stays in the function, with the interpreter's state", () => {
    for (const indirect of [false, true]) {
      for (const threshold of [1, 2, 256]) {
        const { interp, jit } = runBoth(flat32(assemble(program(indirect))), 100_000, threshold);
        expect(interp.state.halted).toBe(true);
        expectSame(interp, jit, `threshold ${threshold}, indirect ${indirect}`);
      }
    }
    const h = new CpuHarness(module, RAM, { threshold: 2 });
    flat32(assemble(program(false)))(h);
    h.step(100_000);
    expect(h.getState().halted).toBe(true);
    // One entry per iteration when a RET always leaves for the run loop.
    expect(Number(h.core.jit.getStats().entries), 'run-loop entries').toBeLessThan(50);
  });
});

describe('JIT: modules found hot', () => {
  // The core counts the guest instructions each module's blocks retire; past the mark it tells the host, which
  // instantiates the module again (in Node, with V8's default tier-up budget: src/node/v8-tiering.ts) and puts the
  // new instance in the module's table slot. A loop in one page calling a function in another.
  const program = `bits 32
org 0x1000
  mov esp, 0x80000
  mov ecx, 3000
top:
  call f
  add eax, ebx
  dec ecx
  jnz top
  hlt
align 4096
f:
  lea ebx, [ebx + ecx * 2]
  xor edx, ebx
  ret
`;
  const outcome = (h: CpuHarness): Outcome => ({
    state: h.getState(), ram: h.readMem(0, RAM), insns: h.insnCount(), exit: 0, jitInsns: h.core.jit.getStats().insns,
  });
  it.skipIf(!requireNasm())('are instantiated again, once each, and run on correctly', () => {
    const bin = assemble(program);
    const interp = new CpuHarness(module, RAM, false);
    flat32(bin)(interp);
    interp.step(100_000);
    expect(interp.getState().halted).toBe(true);
    const seen: WebAssembly.Module[] = [];
    const h = new CpuHarness(module, RAM, {
      threshold: 1, hotInsns: 2000,
      instantiateHot: (m, imports) => { seen.push(m); return new WebAssembly.Instance(m, imports); },
    });
    flat32(bin)(h);
    // In slices: the host drains the core's list after each run, and later slices run the new instances.
    for (let i = 0; i < 50 && !h.getState().halted; i++) h.step(2_000);
    // The loop's page and f's (threshold 1 may split a page's blocks between modules: at least two).
    expect(seen.length, 'modules found hot').toBeGreaterThanOrEqual(2);
    expect(new Set(seen).size, 'each once').toBe(seen.length);
    expect(h.core.jit.getStats().hot).toBe(seen.length);
    expectSame(outcome(interp), outcome(h), 'after modules were instantiated again');
    // Without the hook (the browser) the core still counts, and nothing else happens.
    const plain = new CpuHarness(module, RAM, { threshold: 1, hotInsns: 2000 });
    flat32(bin)(plain);
    for (let i = 0; i < 50 && !plain.getState().halted; i++) plain.step(2_000);
    expect(plain.core.jit.getStats().hot).toBe(0);
    expectSame(outcome(interp), outcome(plain), 'no hook');
  });
});
