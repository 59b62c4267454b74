// `wasmpc img create|info|convert`: qemu-img's basic verbs for raw and qcow2 images, on the same image code
// the disks use (src/block). Exit status 0 on success, 1 when reading or writing an image fails midway, 2 on
// bad usage or input (a missing file, an image that does not open).
import { stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { BlockError } from '../block/backend';
import { ImageError } from '../block/image-file';
import type { DiskImage, ImageFormat } from '../block/image';
import { detectFormat, parseFormat } from '../block/open';
import { DEFAULT_CLUSTER_BITS, MAX_CLUSTER_BITS, MIN_CLUSTER_BITS, newQcow2, readQcow2Header } from '../block/qcow2-format';
import { NodeImageFile, openDiskImage } from './block-image';

export const IMG_HELP = `usage: wasmpc img <verb> [options]

  create [-f raw|qcow2] [-b BACKING [-F raw|qcow2]] [-o cluster_size=BYTES,compat=0.10|1.1] FILE [SIZE]
                 make an empty image (default raw). SIZE in bytes or with k, M, G, T (binary units),
                 rounded up to 512; with -b it defaults to the backing file's size. A relative
                 BACKING is relative to FILE's directory, and is stored as given.
  info [-f raw|qcow2] FILE
                 format, virtual size, disk size, cluster size and backing file of an image
  convert [-f raw|qcow2] [-O raw|qcow2] IN OUT
                 copy the disk IN (with its backing chain) into a new image OUT (default raw);
                 zero stretches are left unallocated
`;

class UsageError extends Error {}

const CHUNK = 1 << 20;

export async function imgMain(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'create': return await create(rest);
      case 'info': return await info(rest);
      case 'convert': return await convert(rest);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(IMG_HELP);
        return verb === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown verb '${verb}' (create, info, convert)`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ImageError) { process.stderr.write(`wasmpc img: ${e.message}\n`); return 2; }
    if (e instanceof BlockError) { process.stderr.write(`wasmpc img: ${e.message}\n`); return 1; }
    throw e;
  }
}

/** Options that take a value, then the positional arguments; any other dash argument is an error. */
function parseOptions(argv: string[], valued: readonly string[], verb: string): { opts: Map<string, string>; args: string[] } {
  const opts = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-') && a.length > 1) {
      if (!valued.includes(a)) throw new UsageError(`${verb}: unknown option '${a}' (see wasmpc img --help)`);
      if (i + 1 >= argv.length) throw new UsageError(`${verb}: ${a} needs a value`);
      opts.set(a, argv[++i]!);
    } else {
      args.push(a);
    }
  }
  return { opts, args };
}

function format(value: string | undefined, what: string): ImageFormat | undefined {
  if (value === undefined) return undefined;
  try {
    return parseFormat(value);
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
}

/** qemu-img's sizes: bytes, or a number with a k/K, M, G, T suffix (binary units); rounded up to 512. */
export function parseImageSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKMGT]?)$/.exec(text);
  if (!m) throw new UsageError(`invalid size '${text}' (bytes, or with a k, M, G or T suffix)`);
  const unit = { '': 1, k: 2 ** 10, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2] as '' | 'k' | 'K' | 'M' | 'G' | 'T'];
  const bytes = Math.ceil((Number(m[1]) * unit) / 512) * 512;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`invalid size '${text}'`);
  return bytes;
}

interface Qcow2Options { clusterBits: number; version: 2 | 3 }

function parseCreateOptions(text: string | undefined): Qcow2Options {
  const out: Qcow2Options = { clusterBits: DEFAULT_CLUSTER_BITS, version: 3 };
  if (text === undefined) return out;
  for (const item of text.split(',')) {
    const [key, value = ''] = item.split('=');
    if (key === 'cluster_size') {
      const n = parseImageSize(value);
      const bits = Math.log2(n);
      if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
        throw new UsageError(`cluster_size must be a power of two from 512 to 2M (got '${value}')`);
      }
      out.clusterBits = bits;
    } else if (key === 'compat') {
      if (value !== '0.10' && value !== '1.1') throw new UsageError(`compat must be 0.10 or 1.1 (got '${value}')`);
      out.version = value === '0.10' ? 2 : 3;
    } else {
      throw new UsageError(`unknown -o option '${key}' (cluster_size, compat)`);
    }
  }
  return out;
}

async function create(argv: string[]): Promise<number> {
  const { opts, args } = parseOptions(argv, ['-f', '-b', '-F', '-o'], 'create');
  if (args.length < 1 || args.length > 2) throw new UsageError('create: expected FILE [SIZE]');
  const [file, sizeText] = args as [string, string | undefined];
  const fmt = format(opts.get('-f'), '-f') ?? 'raw';
  const backing = opts.get('-b');
  let backingFormat = format(opts.get('-F'), '-F');
  if (fmt === 'raw' && (backing !== undefined || opts.has('-o'))) throw new UsageError('create: -b and -o need -f qcow2');
  if (backingFormat !== undefined && backing === undefined) throw new UsageError('create: -F needs -b');
  const qopts = parseCreateOptions(opts.get('-o'));
  let size = sizeText === undefined ? undefined : parseImageSize(sizeText);
  if (backing !== undefined) {
    // The backing file must open now, as the new image will open it: relative to the new file's directory.
    const where = isAbsolute(backing) ? backing : resolve(dirname(file), backing);
    const base = await openDiskImage(where, { readOnly: true, ...(backingFormat ? { format: backingFormat } : {}) }).catch((e: Error) => {
      throw new ImageError(`create: backing file ${backing}: ${e.message}`);
    });
    backingFormat ??= base.format;
    size ??= base.size;
    await base.close();
  }
  if (size === undefined) throw new UsageError('create: a SIZE is needed without -b');
  if (fmt === 'raw') {
    await writeFile(file, new Uint8Array(0)).catch((e) => { throw new ImageError(`cannot create ${file}: ${(e as Error).message}`); });
    await truncate(file, size);
  } else {
    const bytes = newQcow2({ size, version: qopts.version, clusterBits: qopts.clusterBits,
      ...(backing !== undefined ? { backingFile: backing, backingFormat } : {}) });
    await writeFile(file, bytes).catch((e) => { throw new ImageError(`cannot create ${file}: ${(e as Error).message}`); });
  }
  const extra = backing !== undefined ? ` backing_file=${backing} backing_fmt=${backingFormat}` : '';
  process.stdout.write(`Formatting '${file}', fmt=${fmt} size=${size}${extra}\n`);
  return 0;
}

async function info(argv: string[]): Promise<number> {
  const { opts, args } = parseOptions(argv, ['-f'], 'info');
  if (args.length !== 1) throw new UsageError('info: expected one FILE');
  const path = args[0]!;
  const file = await NodeImageFile.open(path, false);
  const lines = [`image: ${path}`];
  try {
    const fmt = format(opts.get('-f'), '-f') ?? await detectFormat(file);
    const st = await stat(path);
    lines.push(`file format: ${fmt}`);
    // The header alone: info works on an overlay whose backing file is missing.
    if (fmt === 'raw') {
      lines.push(`virtual size: ${human(st.size)} (${st.size} bytes)`, `disk size: ${human(st.blocks * 512)}`);
    } else {
      const h = await readQcow2Header(file);
      lines.push(`virtual size: ${human(h.size)} (${h.size} bytes)`, `disk size: ${human(st.blocks * 512)}`,
        `cluster_size: ${2 ** h.clusterBits}`);
      if (h.backingFile !== undefined) lines.push(`backing file: ${h.backingFile}`);
      if (h.backingFormat !== undefined) lines.push(`backing file format: ${h.backingFormat}`);
      lines.push('Format specific information:', `    compat: ${h.version === 2 ? '0.10' : '1.1'}`,
        `    refcount bits: ${2 ** h.refcountOrder}`);
    }
  } finally {
    await file.close();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function convert(argv: string[]): Promise<number> {
  const { opts, args } = parseOptions(argv, ['-f', '-O'], 'convert');
  if (args.length !== 2) throw new UsageError('convert: expected IN OUT');
  const [input, output] = args as [string, string];
  const inFormat = format(opts.get('-f'), '-f');
  const outFormat = format(opts.get('-O'), '-O') ?? 'raw';
  const src = await openDiskImage(input, { readOnly: true, ...(inFormat ? { format: inFormat } : {}) });
  let dst: DiskImage | undefined;
  try {
    const create = outFormat === 'raw'
      ? async () => { await writeFile(output, new Uint8Array(0)); await truncate(output, src.size); }
      : () => writeFile(output, newQcow2({ size: src.size, version: 3, clusterBits: DEFAULT_CLUSTER_BITS }));
    await create().catch((e: Error) => { throw new ImageError(`cannot create ${output}: ${e.message}`); });
    dst = await openDiskImage(output, { format: outFormat });
    const buf = new Uint8Array(CHUNK);
    const piece = 1 << DEFAULT_CLUSTER_BITS;
    for (let at = 0; at < src.size; at += CHUNK) {
      const n = Math.min(CHUNK, src.size - at);
      await src.read(at, buf.subarray(0, n));
      for (let p = 0; p < n; p += piece) {
        const part = buf.subarray(p, Math.min(n, p + piece));
        if (part.some((b) => b !== 0)) await dst.write(at + p, part);
      }
    }
    await dst.flush();
  } finally {
    await dst?.close();
    await src.close();
  }
  return 0;
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${Number.isInteger(v) ? v : v.toFixed(3).replace(/0+$/, '')} ${units[u]}`;
}
