// Every SingleStepTests vector (80286 real mode, plus the 386EX sample) through the core. Each opcode file
// must pass all its non-skipped tests, except the files in sst-known-failures.json, which must fail exactly
// as often as listed: more is a regression, fewer means a fix landed and the list must shrink with it.
// Regenerate the list after fixing the core: SST_UPDATE_KNOWN_FAILURES=1 npx vitest run test/conformance/sst.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MooTest } from '../../src/conformance/moo';
import { SstRunner, type FileResult, type SstSummary } from '../../src/conformance/sst';
import { CpuHarness } from '../../src/machine/harness';
import { loadCoreModule } from '../../src/node/core-module';
import { defaultSstDir, listSuiteFiles, runSst } from '../../src/node/conformance';

const dir = defaultSstDir();
const KNOWN = join(fileURLToPath(new URL('.', import.meta.url)), 'sst-known-failures.json');
const known: Record<string, number> = JSON.parse(readFileSync(KNOWN, 'utf8'));
const update = process.env.SST_UPDATE_KNOWN_FAILURES === '1';

/** One harness for the whole file: each instance maps 32+ MiB. */
let harness: CpuHarness;
beforeAll(() => { harness = new CpuHarness(loadCoreModule()); });

/** `mov ax, 1234h` at 1000:0100 with the given final AX. */
function movAx(finalAx: number): MooTest {
  return {
    index: 0,
    name: 'mov ax,1234h',
    bytes: new Uint8Array([0xb8, 0x34, 0x12, 0xf4]),
    init: {
      regs: { width: 16, regs: { ax: 0, bx: 0, cx: 0, dx: 0, cs: 0x1000, ss: 0x2000, ds: 0, es: 0, sp: 0x100, bp: 0, si: 0, di: 0, ip: 0x100, flags: 0x0002 } },
      ram: [[0x10100, 0xb8], [0x10101, 0x34], [0x10102, 0x12], [0x10103, 0xf4]],
    },
    final: { regs: { width: 16, regs: { ax: finalAx, ip: 0x104 } }, ram: [] },
  };
}

describe('the SingleStepTests runner', () => {
  it('passes a test whose final state matches and fails one whose does not, naming the register', () => {
    const runner = new SstRunner(harness, { metadata: { opcodes: {} } });
    expect(runner.runTest(movAx(0x1234)).status).toBe('pass');
    const bad = runner.runTest(movAx(0x1235));
    expect(bad.status).toBe('fail');
    expect(bad.diffs).toEqual(['ax: expected 0x1235, got 0x1234']);
  });

  it('skips a revoked test by its hash', () => {
    const t = { ...movAx(0x1235), hash: 'ab'.repeat(20) };
    const runner = new SstRunner(harness, { metadata: { opcodes: {} }, revoked: new Set(['ab'.repeat(20)]) });
    expect(runner.runTest(t)).toMatchObject({ status: 'skip', skip: 'revoked' });
  });
});

describe.skipIf(!existsSync(dir) && process.env.CI !== 'true')('the SingleStepTests vectors', () => {
  const files = listSuiteFiles(dir);
  let results: Map<string, FileResult>;
  let summary: SstSummary;

  beforeAll(() => {
    const run = runSst(dir, undefined, harness);
    results = new Map(run.results.map((r) => [r.file, r]));
    summary = run.summary;
    if (update) writeFileSync(KNOWN, `${JSON.stringify(summary.failures, null, 2)}\n`);
  }, 120_000);

  afterAll(() => {
    if (!summary) return;
    const s = summary;
    const failing = Object.entries(s.failures).map(([f, n]) => `${f}:${n}`).join(' ');
    console.log(`SingleStepTests: ${s.total} tests, ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped` +
      `${failing ? `; failing files ${failing}` : ''}`);
  });

  it('runs every file in the folder and the 386 sample', () => {
    expect(files.length).toBe(326);
    expect(results.size).toBe(files.length);
  });

  it('lists known failures only for files that exist', () => {
    expect(Object.keys(known).filter((f) => !files.some((x) => x.id === f))).toEqual([]);
  });

  it.each(files.map((f) => f.id))('opcode file %s fails no more and no less than the known-failures list says', (id) => {
    const r = results.get(id)!;
    const expected = update ? r.failed : known[id] ?? 0;
    const firstFailures = r.failures.slice(0, 3).map((c) => `#${c.index} ${c.name}: ${c.diffs!.join('; ')}`);
    const why = r.failed > expected
      ? `${id}: ${r.failed - expected} more failure(s) than sst-known-failures.json lists: a regression`
      : `${id}: ${expected - r.failed} fewer failure(s) than sst-known-failures.json lists: shrink the list`;
    expect({ file: id, failed: r.failed, firstFailures: r.failed === expected ? [] : firstFailures }, why)
      .toEqual({ file: id, failed: expected, firstFailures: [] });
  });
});
