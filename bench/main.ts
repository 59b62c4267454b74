// `npm run bench`: boots images/debian-i686 with wasmpc.bench=1 in each emulator, times the guest's serial
// markers from the host, and prints one table (see --help). `bench.js --v86-child ...` is the v86 runner.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IO_BYTES, IO_WORKLOADS } from '../src/images/init-script';
import type { Manifest } from '../src/images/manifest';
import { imagePaths, repoRoot } from '../src/images/paths';
import { missingGnuTime, runChild, type ChildRun } from './child';
import { EMULATORS, type Emulator, type Guest } from './emulators';
import { parseBenchOutput, timedLines } from './markers';
import { formatTable, medianMetrics, type Column, type Metrics } from './table';
import { V86_CHILD_FLAG, runV86Child } from './v86-child';
import { formatMicro, runMicro } from './micro';

const USAGE = `usage: npm run bench [-- options]

Boots images/debian-i686 (built first if missing) with wasmpc.bench=1 in wasmpc, v86 and QEMU (TCG), and
times each guest workload between its serial markers. A second boot of wasmpc and QEMU (wasmpc.bench=io) adds a
virtio disk, an AHCI disk and a virtio NIC on the user network, and times reading 64 MiB from each disk and
downloading 64 MiB from this process over HTTP.
  --only LIST     emulators to run, comma-separated: wasmpc,v86,qemu (default: all)
  --no-io         skip the device boot
  --no-jit        run wasmpc and v86 with their interpreters alone (wasmpc --no-jit, v86's disable_jit); QEMU's
                  TCG has no such mode and is left out; implies --no-io
  --runs N        boots per emulator, in rounds of one boot each; the table shows medians (default 1)
  --timeout S     seconds one boot may take before it counts as hung (default 1800)
  --json FILE     also write the numbers as JSON`;

const APPEND = 'console=ttyS0 wasmpc.bench=1';
/** The device boot skips the kernel's crypto self-tests: only the transfers are timed. */
const IO_APPEND = 'console=ttyS0 cryptomgr.notests wasmpc.bench=io';
/** What `dd if=/dev/zero bs=1M count=8 | sha256sum` must print: a wrong hash means a wrong CPU, not a slow one. */
const SHA256_OF_ZEROS = createHash('sha256').update(Buffer.alloc(8 * 1024 * 1024)).digest('hex');

interface Options {
  only: ReadonlySet<Emulator['id']>;
  runs: number;
  timeoutMs: number;
  json: string | null;
  io: boolean;
  jit: boolean;
}

/** The device boot's inputs: two raw disk images and an HTTP server on the loopback, each IO_BYTES of noise. */
interface IoSetup {
  disks: { vda: string; sda: string };
  port: number;
  close(): Promise<void>;
}

interface EmulatorResult {
  status: 'ok' | 'failed' | 'unavailable';
  note?: string;
  runs: Metrics[];
  median?: Metrics;
  /** Bytes the gzip workload produced: equal on every emulator that computes correctly. */
  gzipBytes?: string;
}

function log(message: string): void {
  process.stderr.write(`wasmpc bench: ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options | string {
  const options: Options = { only: new Set(EMULATORS.map((emulator) => emulator.id)), runs: 1, timeoutMs: 1_800_000, json: null, io: true, jit: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const arg = argv[i + 1];
    if (flag === undefined) break;
    if (flag === '--no-io') {
      options.io = false;
      continue;
    }
    if (flag === '--no-jit') {
      options.jit = false;
      options.io = false;
      continue;
    }
    if (arg === undefined || !['--only', '--runs', '--timeout', '--json'].includes(flag)) return `unknown argument ${flag}`;
    i++;
    if (flag === '--only') {
      const ids = arg.split(',');
      const unknown = ids.find((id) => !EMULATORS.some((emulator) => emulator.id === id));
      if (unknown !== undefined) return `--only: no emulator "${unknown}" (choose from ${EMULATORS.map((emulator) => emulator.id).join(', ')})`;
      options.only = new Set(ids as Emulator['id'][]);
    } else if (flag === '--runs' || flag === '--timeout') {
      const number = Number(arg);
      if (!Number.isInteger(number) || number < 1) return `${flag} needs a whole number above 0, not "${arg}"`;
      if (flag === '--runs') options.runs = number;
      else options.timeoutMs = number * 1000;
    } else {
      options.json = arg;
    }
  }
  return options;
}

/** Builds the images with the images tool unless its manifest is there. */
function ensureImages(repo: string): Manifest {
  const paths = imagePaths(repo);
  if (!existsSync(paths.manifest)) {
    const tool = join(repo, 'build/node/images.js');
    if (!existsSync(tool)) throw new Error(`${tool} not found: run npm run build:host first`);
    log(`${paths.manifest} is missing; running the images tool`);
    const result = spawnSync(process.execPath, [tool], { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`npm run images failed (exit ${String(result.status)}); see its message above`);
  }
  return JSON.parse(readFileSync(paths.manifest, 'utf8')) as Manifest;
}

/** One boot's metrics, or why the boot does not count. */
function analyze(run: ChildRun, timeoutMs: number): { metrics: Metrics; gzipBytes: string } | { error: string } {
  const lastLine = (): string => timedLines(run.serial).map((line) => line.text.trim()).filter((text) => text !== '').at(-1) ?? '(none)';
  if (run.timedOut) return { error: `no exit within ${timeoutMs / 1000} s (last serial line: ${lastLine()})` };
  const timings = parseBenchOutput(run.serial);
  const exit = run.status === 0 ? '' : `exited with status ${String(run.status)}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`;
  if ('error' in timings) return { error: exit === '' ? timings.error : `${timings.error}; ${exit}` };
  if (exit !== '') return { error: `${exit} (after the guest was done)` };
  const sha = (timings.workloadOutput.sha256 ?? []).join(' ').trim().split(/\s+/)[0] ?? '';
  if (sha !== SHA256_OF_ZEROS) return { error: `sha256 workload printed "${sha}", expected ${SHA256_OF_ZEROS}` };
  return {
    metrics: {
      userspace: Math.round(timings.userspaceMs),
      sha256: Math.round(timings.workloadMs.sha256 ?? NaN),
      gzip: Math.round(timings.workloadMs.gzip ?? NaN),
      loop: Math.round(timings.workloadMs.loop ?? NaN),
      exit: Math.round(run.exitMs),
      rss: run.peakRssKiB,
      vda: null,
      sda: null,
      http: null,
    },
    gzipBytes: (timings.workloadOutput.gzip ?? []).join(' ').trim(),
  };
}

/** The device boot's metrics, or why they do not count: each workload must have moved exactly IO_BYTES. */
function analyzeIo(run: ChildRun, timeoutMs: number): Pick<Metrics, 'vda' | 'sda' | 'http'> | { error: string } {
  if (run.timedOut) return { error: `the device boot did not exit within ${timeoutMs / 1000} s` };
  const timings = parseBenchOutput(run.serial, IO_WORKLOADS);
  if ('error' in timings) return { error: `device boot: ${timings.error}` };
  if (run.status !== 0) return { error: `device boot exited with status ${String(run.status)}: ${run.stderr.trim().split('\n').at(-1) ?? ''}` };
  const metrics = { vda: 0, sda: 0, http: 0 };
  for (const workload of IO_WORKLOADS) {
    // dd (bs=1M) prints "64+0 records out" when it read every block whole; stat prints the download's size. A
    // kernel message may land between the markers too, so one line must be exactly that.
    const lines = (timings.workloadOutput[workload] ?? []).map((line) => line.trim());
    const expected = workload === 'http' ? `${IO_BYTES}` : `${IO_BYTES >> 20}+0 records out`;
    if (!lines.includes(expected)) return { error: `the ${workload} workload printed "${lines.join(' ')}", not "${expected}"` };
    metrics[workload] = Math.round(timings.workloadMs[workload] ?? NaN);
  }
  return metrics;
}

async function startIo(): Promise<IoSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmpc-bench-io-'));
  const disks = { vda: join(dir, 'vda.raw'), sda: join(dir, 'sda.raw') };
  for (const disk of Object.values(disks)) writeFileSync(disk, randomBytes(IO_BYTES));
  const blob = randomBytes(IO_BYTES);
  const server: Server = createServer((_request, response) => {
    response.setHeader('content-length', blob.length);
    response.end(blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    disks,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One boot of `emulator` with the workloads, and its device boot where it has one: the metrics, or why not. */
async function bootOnce(emulator: Emulator, repo: string, guest: Guest, options: Options, io: IoSetup | null, i: number):
  Promise<{ metrics: Metrics; gzipBytes: string } | { error: string }> {
  log(`${emulator.title}: boot ${i} of ${options.runs}`);
  const analysis = analyze(await runChild(emulator.command(repo, guest, options.jit), options.timeoutMs), options.timeoutMs);
  if ('error' in analysis) return analysis;
  log(`${emulator.title}: guest done, exited after ${((analysis.metrics.exit ?? 0) / 1000).toFixed(1)} s`);
  if (io !== null && emulator.ioArgs) {
    log(`${emulator.title}: device boot ${i} of ${options.runs}`);
    const command = emulator.command(repo, { ...guest, append: `${IO_APPEND} wasmpc.bench.http=${io.port}` });
    const ioAnalysis = analyzeIo(await runChild({ ...command, args: [...command.args, ...emulator.ioArgs(io.disks)] }, options.timeoutMs), options.timeoutMs);
    if ('error' in ioAnalysis) return ioAnalysis;
    Object.assign(analysis.metrics, ioAnalysis);
  }
  return analysis;
}

/**
 * Every emulator's boots, in rounds: each round boots every emulator once, in turn, so that a change in the
 * host's load during the benchmark weighs on all of them alike (run one emulator's boots after another's, the
 * ratios moved with whichever emulator the load fell on: v86's total was 32.6 s in one run and 40-42 s in the
 * next, ten minutes later). An emulator that fails is not booted again.
 */
async function benchmark(emulators: readonly Emulator[], repo: string, guest: Guest, options: Options, io: IoSetup | null):
  Promise<Map<Emulator['id'], EmulatorResult>> {
  const results = new Map<Emulator['id'], EmulatorResult>();
  for (const emulator of emulators) {
    const unavailable = !options.jit && !emulator.hasNoJitMode ? 'no JIT-off mode' : emulator.unavailable(repo);
    if (unavailable !== null) log(`${emulator.title}: ${unavailable}`);
    results.set(emulator.id, unavailable !== null ? { status: 'unavailable', note: unavailable, runs: [] } : { status: 'ok', runs: [] });
  }
  for (let i = 1; i <= options.runs; i++) {
    for (const emulator of emulators) {
      const result = results.get(emulator.id)!;
      if (result.status !== 'ok') continue;
      const outcome = await bootOnce(emulator, repo, guest, options, io, i);
      if ('error' in outcome) {
        log(`${emulator.title}: ${outcome.error}`);
        result.status = 'failed';
        result.note = outcome.error;
        continue;
      }
      result.runs.push(outcome.metrics);
      result.gzipBytes = outcome.gzipBytes;
    }
  }
  for (const result of results.values()) if (result.status === 'ok') result.median = medianMetrics(result.runs);
  return results;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parseOptions(argv);
  if (typeof options === 'string') {
    process.stderr.write(`wasmpc bench: ${options}\n${USAGE}\n`);
    return 1;
  }
  const noTime = missingGnuTime();
  if (noTime !== null) {
    process.stderr.write(`wasmpc bench: ${noTime}\n`);
    return 1;
  }
  const repo = repoRoot();
  const manifest = ensureImages(repo);
  const paths = imagePaths(repo);
  const guest: Guest = { kernel: paths.vmlinuz, initrd: paths.initrd, append: APPEND };

  const micro = runMicro();
  const io = options.io ? await startIo() : null;
  let results: Map<Emulator['id'], EmulatorResult>;
  try {
    results = await benchmark(EMULATORS.filter((candidate) => options.only.has(candidate.id)), repo, guest, options, io);
  } finally {
    await io?.close();
  }

  const columns = new Map<Emulator['id'], Column>();
  for (const [id, result] of results) {
    columns.set(id, result.median !== undefined ? { metrics: result.median } : { note: result.status === 'failed' ? 'failed' : (result.note ?? '') });
  }
  process.stdout.write(`guest: ${manifest.kernel.package} ${manifest.kernel.version}, ${manifest.busybox.package} ${manifest.busybox.version}; ` +
    `${options.runs === 1 ? '1 boot' : `median of ${options.runs} boots`} per emulator${options.jit ? '' : ', JITs off (interpreters alone)'}; ` +
    `host: ${cpus()[0]?.model ?? 'unknown CPU'}\n\n`);
  process.stdout.write(`${formatTable(EMULATORS, columns)}\n`);
  process.stdout.write(`\n${formatMicro(micro)}\n`);
  const failures = [...results].filter(([, result]) => result.status === 'failed');
  for (const [id, result] of failures) process.stdout.write(`\n${id} failed: ${result.note ?? ''}\n`);
  const gzipSizes = new Set([...results.values()].map((result) => result.gzipBytes).filter((size) => size !== undefined));
  if (gzipSizes.size > 1) process.stdout.write(`\nwarning: the gzip workload produced different sizes: ${[...gzipSizes].join(', ')} bytes\n`);

  if (options.json !== null) {
    const json = {
      date: new Date().toISOString(),
      host: { cpu: cpus()[0]?.model ?? null, cpus: cpus().length, node: process.version },
      jit: options.jit,
      guest: { kernel: manifest.kernel, busybox: manifest.busybox, initrdSha256: manifest.files.initrd.sha256, append: APPEND },
      units: { times: 'ms, from the emulator process start (userspace, exit) or between markers', rss: 'KiB' },
      emulators: Object.fromEntries(results),
      micro,
    };
    writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
  return failures.length === 0 ? 0 : 1;
}

const argv = process.argv.slice(2);
if (argv[0] === V86_CHILD_FLAG) {
  runV86Child(argv.slice(1));
} else {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    process.stderr.write(`wasmpc bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
