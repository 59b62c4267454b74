// Micro benchmarks of the wasmpc core alone, through the CPU harness: interpreter speed in MIPS on a memory
// loop with paging off and on (the TLB-hit path; issue target: paging on within 1.3x of paging off).
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
const ITERATIONS = 2_000_000;

// A loop over 64 KiB of data: 7 instructions per iteration, two memory accesses.
//   mov ecx, ITERATIONS ; xor esi, esi
// l: mov eax, [esi + DATA] ; add eax, ecx ; mov [esi + DATA + 4], eax ; add esi, 8 ; and esi, 0xfff8 ; dec ecx ; jnz l
function loopCode(): number[] {
  const d = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
  return [
    0xb9, ...d(ITERATIONS), 0x31, 0xf6,
    0x8b, 0x86, ...d(DATA), 0x01, 0xc8, 0x89, 0x86, ...d(DATA + 4),
    0x83, 0xc6, 0x08, 0x81, 0xe6, ...d(0xfff8), 0x49, 0x75, 0xe6, 0xf4,
  ];
}

function measure(paging: boolean): MicroResult {
  const h = new CpuHarness(loadCoreModule(), 4 * 1024 * 1024, false); // interpreter only: the target is about its TLB path
  h.setFlat32();
  h.writeMem(CODE, loopCode());
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
  while (!h.getState().halted && executed < 100_000_000) executed += h.step(10_000_000).executed;
  const c = process.cpuUsage(c0);
  const seconds = (c.user + c.system) / 1e6;
  return { name: paging ? 'memory loop, paging on' : 'memory loop, paging off', mips: executed / seconds / 1e6, seconds };
}

export function runMicro(): MicroResult[] {
  measure(false); // warm up the engine's tiers
  return [measure(false), measure(true)];
}

export function formatMicro(results: MicroResult[]): string {
  const lines = ['micro benchmark (wasmpc interpreter, one core; MIPS per CPU second)', ''];
  for (const r of results) lines.push(`${r.name.padEnd(28)} ${r.mips.toFixed(1).padStart(7)} MIPS  ${r.seconds.toFixed(3)} CPU s`);
  const off = results.find((r) => r.name.endsWith('off'));
  const on = results.find((r) => r.name.endsWith('on'));
  if (off && on) lines.push(`${'paging on / off (time)'.padEnd(28)} ${(on.seconds / off.seconds).toFixed(2).padStart(7)}x  (target <= 1.30)`);
  return lines.join('\n');
}
