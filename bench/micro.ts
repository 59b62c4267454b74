// Micro benchmarks of the wasmpc core alone, through the CPU harness: interpreter speed in MIPS on a memory
// loop with paging off and on (the TLB-hit path; issue target: paging on within 1.3x of paging off), and the
// translated code's speed on the same loop and on loops of stack, structure and array accesses, as compiled C is.
import { CpuHarness } from '../src/machine/harness';
import { loadCoreModule } from '../src/node/core-module';

export interface MicroResult {
  name: string;
  mips: number;
  /** CPU seconds (user + system) of the measured run: on a shared machine, wall time mostly measures the neighbours. */
  seconds: number;
}

const CODE = 0x10000;
const DATA = 0x200000;
const PD = 0x100000;
const PT = 0x101000;
const STACK = 0x300000;
const ITERATIONS = 2_000_000;
/** Translated code runs this many times more iterations, so that compiling is a small share of the time. */
const JIT_FACTOR = 20;

const d = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];

// A loop over 64 KiB of data: 7 instructions per iteration, two memory accesses.
//   mov ecx, iterations ; xor esi, esi
// l: mov eax, [esi + DATA] ; add eax, ecx ; mov [esi + DATA + 4], eax ; add esi, 8 ; and esi, 0xfff8 ; dec ecx ; jnz l
function memoryLoop(iterations: number): number[] {
  return [
    0xb9, ...d(iterations), 0x31, 0xf6,
    0x8b, 0x86, ...d(DATA), 0x01, 0xc8, 0x89, 0x86, ...d(DATA + 4),
    0x83, 0xc6, 0x08, 0x81, 0xe6, ...d(0xfff8), 0x49, 0x75, 0xe6, 0xf4,
  ];
}

// Locals on the stack and fields of a structure, with a data-dependent branch, as a C compiler writes them
// (the shape of the kernel's LZMA decoder): 11 or 12 instructions per iteration, six memory accesses.
//   mov esp, STACK ; mov edi, DATA ; mov ecx, iterations ; mov dword [esp], 0 ; mov dword [esp+4], 3 ; mov dword [esp+8], 5
// l: mov eax, [esp+4] ; mov edx, [edi+8] ; add eax, edx ; mov [esp+4], eax ; mov ebx, [esp+8] ; imul ebx, eax
//    mov [edi+12], ebx ; cmp ebx, 0x80000000 ; jb s ; inc dword [esp]
// s: dec ecx ; jnz l ; hlt
function stackLoop(iterations: number): number[] {
  return [
    0xbc, ...d(STACK), 0xbf, ...d(DATA), 0xb9, ...d(iterations),
    0xc7, 0x04, 0x24, ...d(0), 0xc7, 0x44, 0x24, 0x04, ...d(3), 0xc7, 0x44, 0x24, 0x08, ...d(5),
    0x8b, 0x44, 0x24, 0x04, 0x8b, 0x57, 0x08, 0x01, 0xd0, 0x89, 0x44, 0x24, 0x04, 0x8b, 0x5c, 0x24, 0x08,
    0x0f, 0xaf, 0xd8, 0x89, 0x5f, 0x0c, 0x81, 0xfb, ...d(0x80000000), 0x72, 0x03, 0xff, 0x04, 0x24,
    0x49, 0x75, 0xdb, 0xf4,
  ];
}

// Two arrays walked through one address register (EAX holds each pointer in turn) and the loop's variables in a
// stack frame, the shape of the kernel's mpihelp_submul_1 (module signature checks at boot): 11 instructions per
// iteration, six memory accesses on three pages, a read-modify-write among them.
//   mov ebp, STACK ; mov ecx, iterations ; mov dword [ebp-8], DATA ; mov dword [ebp-12], DATA + 0x10000
//   mov dword [ebp-16], 0
// l: mov edi, ecx ; and edi, 0x1fff ; mov eax, [ebp-8] ; mov edx, [eax+edi*4] ; imul edx, edx, 0x9e3779b1
//    add edx, [ebp-16] ; mov eax, [ebp-12] ; sub [eax+edi*4], edx ; mov [ebp-16], edx ; dec ecx ; jnz l ; hlt
function arraysLoop(iterations: number): number[] {
  return [
    0xbd, ...d(STACK), 0xb9, ...d(iterations), 0xc7, 0x45, 0xf8, ...d(DATA), 0xc7, 0x45, 0xf4, ...d(DATA + 0x10000),
    0xc7, 0x45, 0xf0, ...d(0),
    0x89, 0xcf, 0x81, 0xe7, ...d(0x1fff), 0x8b, 0x45, 0xf8, 0x8b, 0x14, 0xb8, 0x69, 0xd2, ...d(0x9e3779b1),
    0x03, 0x55, 0xf0, 0x8b, 0x45, 0xf4, 0x29, 0x14, 0xb8, 0x89, 0x55, 0xf0, 0x49, 0x75, 0xdd, 0xf4,
  ];
}

// Calls through three functions, each on a page of its own, the shape of a kernel's calls among small functions
// (the page cache's, reading a disk: 9-10 instructions per entry into translated code): 18 instructions per
// iteration, six entries into translated code (each call and each return crosses a page).
//   mov esp, STACK ; mov ecx, iterations ; xor eax, eax
// l: call f1 ; dec ecx ; jnz l ; hlt
// f1 (CODE+0x1000): push ebx ; mov ebx, ecx ; call f2 ; add eax, ebx ; pop ebx ; ret
// f2 (CODE+0x2000): push esi ; lea esi, [eax+ecx] ; call f3 ; xor eax, esi ; pop esi ; ret
// f3 (CODE+0x3000): mov edx, [esp+4] ; add eax, edx ; ret
function callsLoop(iterations: number): number[] {
  const code = new Array<number>(0x3007).fill(0);
  const put = (at: number, bytes: number[]): void => { bytes.forEach((b, i) => { code[at + i] = b; }); };
  put(0, [0xbc, ...d(STACK), 0xb9, ...d(iterations), 0x31, 0xc0, 0xe8, ...d(0x0fef), 0x49, 0x75, 0xf8, 0xf4]);
  put(0x1000, [0x53, 0x89, 0xcb, 0xe8, ...d(0x0ff8), 0x01, 0xd8, 0x5b, 0xc3]);
  put(0x2000, [0x56, 0x8d, 0x34, 0x08, 0xe8, ...d(0x0ff7), 0x31, 0xf0, 0x5e, 0xc3]);
  put(0x3000, [0x8b, 0x54, 0x24, 0x04, 0x01, 0xd0, 0xc3]);
  return code;
}

type Loop = 'memory' | 'stack' | 'arrays' | 'calls';
const LOOPS: Record<Loop, (iterations: number) => number[]> = {
  memory: memoryLoop, stack: stackLoop, arrays: arraysLoop, calls: callsLoop,
};

function measure(loop: Loop, paging: boolean, jit: boolean): MicroResult {
  // The interpreter's runs are about its TLB path; translated code runs with the JIT's defaults.
  const h = new CpuHarness(loadCoreModule(), 4 * 1024 * 1024, jit);
  h.setFlat32();
  // The calls loop's iterations are longer (18 instructions, six entries into translated code).
  const iterations = jit ? (ITERATIONS * JIT_FACTOR) / (loop === 'calls' ? 8 : 1) : ITERATIONS;
  h.writeMem(CODE, LOOPS[loop](iterations));
  if (paging) {
    // Identity-map the first 4 MiB with 4 KiB pages.
    const pt = new Uint8Array(4096);
    const v = new DataView(pt.buffer);
    for (let i = 0; i < 1024; i++) v.setUint32(i * 4, (i << 12) | 0x7, true);
    h.writeMem(PT, pt);
    const pd = new Uint8Array(4096);
    new DataView(pd.buffer).setUint32(0, PT | 0x7, true);
    h.writeMem(PD, pd);
    h.setControl('cr3', PD);
    h.setControl('cr0', 0x8000_0011);
  }
  h.setReg('eip', CODE);
  const c0 = process.cpuUsage();
  let executed = 0;
  while (!h.getState().halted && executed < 1_000_000_000) executed += h.step(10_000_000).executed;
  const c = process.cpuUsage(c0);
  const seconds = (c.user + c.system) / 1e6;
  const name = jit ? `${loop} loop, translated` : `${loop} loop, paging ${paging ? 'on' : 'off'}`;
  return { name, mips: executed / seconds / 1e6, seconds };
}

export function runMicro(): MicroResult[] {
  measure('memory', false, false); // warm up the engine's tiers
  return [
    measure('memory', false, false), measure('memory', true, false),
    measure('memory', true, true), measure('stack', true, true), measure('arrays', true, true),
    measure('calls', true, true),
  ];
}

export function formatMicro(results: MicroResult[]): string {
  const lines = ['micro benchmark (wasmpc core, one core; MIPS per CPU second; translated: paging on)', ''];
  for (const r of results) lines.push(`${r.name.padEnd(28)} ${r.mips.toFixed(1).padStart(7)} MIPS  ${r.seconds.toFixed(3)} CPU s`);
  const off = results.find((r) => r.name.endsWith('off'));
  const on = results.find((r) => r.name.endsWith('on'));
  if (off && on) lines.push(`${'paging on / off (time)'.padEnd(28)} ${(on.seconds / off.seconds).toFixed(2).padStart(7)}x  (target <= 1.30)`);
  return lines.join('\n');
}
