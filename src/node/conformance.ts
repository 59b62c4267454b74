// `wasmpc conformance sst`: run the SingleStepTests vectors (shared/conformance) through the CPU harness and
// report what passed. Node side: finds and inflates the files, then hands them to src/conformance/sst.ts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CpuHarness } from '../machine/harness';
import { isGzip, parseMoo, type MooFile } from '../conformance/moo';
import { SstRunner, parseRevocationList, summarize, type FileResult, type SstSummary } from '../conformance/sst';
import type { SstMetadata } from '../conformance/sst-skips';
import { loadCoreModule, packageRoot } from './core-module';

/** One MOO file to run: `id` names it in reports (`80.1` for 80.1.MOO.gz, `386:00` for the 386 sample). */
export interface SuiteFile {
  id: string;
  path: string;
}

/** Where the 286 vectors live unless --dir says otherwise. */
export function defaultSstDir(): string {
  return resolve(packageRoot(), '..', 'shared', 'conformance', 'sst80286');
}

/** The 286 files in `dir` (sorted) and the 386 sample beside it, if present. */
export function listSuiteFiles(dir: string): SuiteFile[] {
  const files: SuiteFile[] = readdirSync(dir)
    .filter((f) => /\.MOO(\.gz)?$/i.test(f))
    .sort()
    .map((f) => ({ id: f.replace(/\.MOO(\.gz)?$/i, ''), path: join(dir, f) }));
  const sample = join(dirname(dir), 'sst80386-sample', '00.MOO');
  if (existsSync(sample)) files.push({ id: '386:00', path: sample });
  return files;
}

export function readMooFile(path: string): MooFile {
  let data = new Uint8Array(readFileSync(path));
  if (isGzip(data)) data = new Uint8Array(gunzipSync(data));
  return parseMoo(data);
}

export interface SstRun {
  results: FileResult[];
  summary: SstSummary;
}

/**
 * Run every file (or those whose id or file name is in `only`) in `dir` on one harness (a new one unless
 * given: each maps 32+ MiB, so callers that run more than once pass theirs).
 */
export function runSst(dir: string, only?: readonly string[], harness?: CpuHarness): SstRun {
  const metaPath = join(dir, 'metadata.json');
  if (!existsSync(metaPath)) throw new Error(`wasmpc: ${metaPath} is missing; pass --dir with the sst80286 folder`);
  const metadata = JSON.parse(readFileSync(metaPath, 'utf8')) as SstMetadata;
  const revPath = join(dir, 'revocation_list.txt');
  const revoked = existsSync(revPath) ? parseRevocationList(readFileSync(revPath, 'utf8')) : new Set<string>();
  let files = listSuiteFiles(dir);
  if (only?.length) {
    files = files.filter((f) => only.some((o) => o === f.id || o === basename(f.path)));
    if (!files.length) throw new Error(`wasmpc: no MOO file in ${dir} matches ${only.join(', ')} (use e.g. 80.1 or 00.MOO.gz)`);
  }
  const runner = new SstRunner(harness ?? new CpuHarness(loadCoreModule()), { metadata, revoked });
  const results = files.map((f) => runner.runFile(f.id, readMooFile(f.path)));
  return { results, summary: summarize(results) };
}

const USAGE = 'usage: wasmpc conformance sst [--json] [--dir PATH] [--only OPCODEFILE]...';

function table(run: SstRun): string {
  const lines: string[] = [];
  const { summary: s } = run;
  const failing = run.results.filter((r) => r.failed);
  if (failing.length) {
    lines.push(`${'file'.padEnd(8)} ${'mnemonic'.padEnd(9)} ${'failed'.padStart(6)} ${'of'.padStart(4)}  first failure`);
    for (const r of failing) {
      const f = r.failures[0]!;
      lines.push(`${r.file.padEnd(8)} ${r.mnemonic.padEnd(9)} ${String(r.failed).padStart(6)} ${String(r.total - r.skipped).padStart(4)}  #${f.index} ${f.name}: ${f.diffs!.slice(0, 3).join('; ')}`);
    }
    lines.push('');
  }
  const skips = Object.entries(s.skips).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`${run.results.length} files, ${s.total} tests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${skips ? ` (${skips})` : ''}`);
  return lines.join('\n');
}

/** `wasmpc conformance ...`; returns the process exit code (0: nothing failed). */
export async function conformanceMain(args: string[]): Promise<number> {
  const [suite, ...rest] = args;
  if (suite !== 'sst') {
    process.stderr.write(`wasmpc conformance: unknown suite '${suite ?? ''}'\n${USAGE}\n`);
    return 2;
  }
  let json = false;
  let dir = defaultSstDir();
  const only: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json') json = true;
    else if ((a === '--dir' || a === '--only') && i + 1 < rest.length) {
      if (a === '--dir') dir = resolve(rest[++i]!);
      else only.push(rest[++i]!);
    } else {
      process.stderr.write(`wasmpc conformance sst: unexpected argument '${a}'\n${USAGE}\n`);
      return 2;
    }
  }
  if (!existsSync(dir)) {
    process.stderr.write(`wasmpc conformance sst: ${dir} does not exist; pass --dir with the sst80286 folder\n`);
    return 2;
  }
  let run: SstRun;
  try {
    run = runSst(dir, only);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const { summary: s } = run;
  if (json) {
    process.stdout.write(`${JSON.stringify({ total: s.total, passed: s.passed, failed: s.failed, skipped: s.skipped, failures: s.failures })}\n`);
  } else {
    process.stdout.write(`${table(run)}\n`);
  }
  return s.failed ? 1 : 0;
}
