// The cpio writer, checked against GNU cpio's reading of what it wrote.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CpioWriter } from '../../src/images/cpio';
import { itWhen, missingTool } from './host-tools';

const noCpio = missingTool('cpio', 'cpio');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function cpio(args: string[], input: Buffer, cwd?: string): string {
  const result = spawnSync('cpio', args, { input, cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cpio ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** One line of `cpio -t -v`: `crw-------   1 root     root       5,   1 Jan  1  1970 dev/console`. */
function parseListing(line: string): { mode: string; nlink: string; owner: string; size: string; name: string } {
  const match = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.+?)\s+[A-Z][a-z]{2}\s+\d+\s+(?:\d{4}|\d\d:\d\d)\s(.+)$/.exec(line);
  if (!match) throw new Error(`unexpected cpio -t -v line: ${line}`);
  const [, mode = '', nlink = '', user = '', group = '', size = '', name = ''] = match;
  return { mode, nlink, owner: `${user} ${group}`, size: size.replace(/\s+/g, ' '), name };
}

/** Files whose data and name lengths hit every remainder mod 4, so every padding case is exercised. */
function sampleArchive(): CpioWriter {
  const writer = new CpioWriter();
  writer.file('a', Buffer.from(''), 0o644);
  writer.file('bin/bb', Buffer.from('x'), 0o755);
  writer.file('etc/conf', Buffer.from('xy'), 0o600);
  writer.file('etc/three', Buffer.from('xyz'), 0o640);
  writer.file('usr/lib/four', Buffer.from('wxyz'), 0o644);
  writer.symlink('bin/sh', 'bb');
  writer.directory('tmp', 0o1777);
  return writer;
}

describe('CpioWriter', () => {
  itWhen([noCpio], 'writes an archive whose listing cpio reads back, device nodes included', () => {
    const writer = new CpioWriter();
    writer.characterDevice('dev/console', 5, 1, 0o600);
    writer.characterDevice('dev/ttyS0', 4, 64, 0o620);
    writer.file('bin/busybox', Buffer.alloc(1001, 0x90), 0o755);
    writer.symlink('bin/sh', 'busybox');
    const entries = cpio(['-t', '-v', '--quiet'], writer.finish()).trim().split('\n').map(parseListing);
    expect(entries).toEqual([
      { mode: 'drwxr-xr-x', nlink: '2', owner: 'root root', size: '0', name: 'dev' },
      { mode: 'crw-------', nlink: '1', owner: 'root root', size: '5, 1', name: 'dev/console' },
      { mode: 'crw--w----', nlink: '1', owner: 'root root', size: '4, 64', name: 'dev/ttyS0' },
      { mode: 'drwxr-xr-x', nlink: '2', owner: 'root root', size: '0', name: 'bin' },
      { mode: '-rwxr-xr-x', nlink: '1', owner: 'root root', size: '1001', name: 'bin/busybox' },
      { mode: 'lrwxrwxrwx', nlink: '1', owner: 'root root', size: '7', name: 'bin/sh -> busybox' },
    ]);
  });

  itWhen([noCpio], 'writes files, modes and symlinks that cpio -i extracts intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmpc-cpio-'));
    dirs.push(dir);
    cpio(['-i', '-d', '--quiet', '--no-absolute-filenames'], sampleArchive().finish(), dir);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'bin/bb'), 'utf8')).toBe('x');
    expect(readFileSync(join(dir, 'etc/conf'), 'utf8')).toBe('xy');
    expect(readFileSync(join(dir, 'etc/three'), 'utf8')).toBe('xyz');
    expect(readFileSync(join(dir, 'usr/lib/four'), 'utf8')).toBe('wxyz');
    expect(statSync(join(dir, 'bin/bb')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dir, 'etc/conf')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dir, 'etc/three')).mode & 0o7777).toBe(0o640);
    expect(statSync(join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(dir, 'bin/sh')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'bin/sh'))).toBe('bb');
  });

  it('pads every header and every data block to a multiple of 4 and ends with TRAILER!!!', () => {
    const archive = sampleArchive().finish();
    let offset = 0;
    const names: string[] = [];
    while (offset < archive.length) {
      expect(offset % 4).toBe(0);
      expect(archive.toString('ascii', offset, offset + 6)).toBe('070701');
      const field = (index: number): number => parseInt(archive.toString('ascii', offset + 6 + index * 8, offset + 14 + index * 8), 16);
      const nameSize = field(11);
      const fileSize = field(6);
      names.push(archive.toString('utf8', offset + 110, offset + 110 + nameSize - 1));
      offset += Math.ceil((110 + nameSize) / 4) * 4;
      offset += Math.ceil(fileSize / 4) * 4;
      if (names.at(-1) === 'TRAILER!!!') break;
    }
    expect(offset).toBe(archive.length);
    expect(names).toEqual(['a', 'bin', 'bin/bb', 'etc', 'etc/conf', 'etc/three', 'usr', 'usr/lib', 'usr/lib/four', 'bin/sh', 'tmp', 'TRAILER!!!']);
  });

  it('gives equal archives for equal input', () => {
    expect(sampleArchive().finish().equals(sampleArchive().finish())).toBe(true);
  });

  it('refuses absolute paths, ".." and duplicates', () => {
    expect(() => new CpioWriter().file('/etc/passwd', Buffer.alloc(0))).toThrow(/must be relative/);
    expect(() => new CpioWriter().file('etc/../x', Buffer.alloc(0))).toThrow(/must be relative/);
    expect(() => new CpioWriter().file('x', Buffer.alloc(0)).symlink('x', 'y')).toThrow(/already in the archive/);
  });
});
