// The MOO reader against hand-built buffers (every chunk kind, unknown chunks, damage) and against the real
// SingleStepTests files, whose test counts must agree with manifest.tsv.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MooFormatError, parseMoo } from '../../src/conformance/moo';
import { defaultSstDir, listSuiteFiles, readMooFile } from '../../src/node/conformance';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const chunk = (type: string, ...body: number[][]) => {
  const payload = body.flat();
  return [...ascii(type), ...u32(payload.length), ...payload];
};
const file = (...chunks: number[][]) => new Uint8Array(chunks.flat());

const header = (count: number, cpu = 'C286') => chunk('MOO ', [1, 1, 0, 0], u32(count), ascii(cpu));
const meta = chunk('META', u16(1), [6], u32(0x01), ascii('add     '), u32(1), u32(0xdeadbeef), u32(0), [0, 0, 0, 0]);

// REGS bit order: ax bx cx dx cs ss ds es sp bp si di ip flags.
const AX = 1 << 0, CS = 1 << 4, IP = 1 << 12, FLAGS = 1 << 13;

const oneTest = chunk(
  'TEST', u32(7),
  chunk('NAME', u32(11), ascii('add ax,1234')),
  chunk('BYTS', u32(4), [0x05, 0x34, 0x12, 0xf4]),
  chunk('GMET', [1, 2, 3]), // unknown: skipped by length
  chunk('INIT',
    chunk('REGS', u16(AX | CS | IP | FLAGS), u16(0x0001), u16(0x1000), u16(0x0100), u16(0xf002)),
    chunk('RAM ', u32(2), u32(0x10100), [0x05], u32(0x10101), [0x34]),
    chunk('QUEU', u32(0))),
  chunk('FINA',
    chunk('REGS', u16(AX | IP), u16(0x1235), u16(0x0104)),
    chunk('RMSK', u16(AX), u16(0x00ff)),
    chunk('RAM ', u32(0))),
  chunk('CYCL', u32(0)),
  chunk('EXCP', [0x0d], u32(0x2fffa)),
  chunk('HASH', Array.from({ length: 20 }, (_, i) => i)),
);

describe('the MOO reader', () => {
  it('reads the header, META, and every chunk of a test, skipping unknown ones', () => {
    const m = parseMoo(file(header(1), meta, chunk('XTRA', [9, 9]), oneTest));
    expect(m).toMatchObject({ major: 1, minor: 1, headerTestCount: 1, cpu: 'C286' });
    expect(m.meta).toMatchObject({ collectionVersion: 1, cpuType: 6, opcode: 1, mnemonic: 'add', testCount: 1, seed: 0xdeadbeefn, cpuMode: 0 });
    expect(m.tests).toHaveLength(1);
    const t = m.tests[0]!;
    expect(t.index).toBe(7);
    expect(t.name).toBe('add ax,1234');
    expect(Array.from(t.bytes)).toEqual([0x05, 0x34, 0x12, 0xf4]);
    expect(t.init.regs).toEqual({ width: 16, regs: { ax: 1, cs: 0x1000, ip: 0x100, flags: 0xf002 } });
    expect(t.init.ram).toEqual([[0x10100, 0x05], [0x10101, 0x34]]);
    expect(t.final.regs).toEqual({ width: 16, regs: { ax: 0x1235, ip: 0x104 } });
    expect(t.final.mask).toEqual({ width: 16, regs: { ax: 0xff } });
    expect(t.final.ram).toEqual([]);
    expect(t.exception).toEqual({ vector: 13, flagsAddress: 0x2fffa });
    expect(t.hash).toBe('000102030405060708090a0b0c0d0e0f10111213');
  });

  it('reads 32-bit RG32 registers and a file-wide RM32 mask', () => {
    // RG32 bit order: cr0 cr3 eax ebx ecx edx esi edi ebp esp cs ds es fs gs ss eip eflags dr6 dr7.
    const EAX = 1 << 2, FS = 1 << 13, EIP = 1 << 16;
    const t = chunk('TEST', u32(0), chunk('INIT', chunk('RG32', u32(EAX | FS | EIP), u32(0xdeadbeef), u32(0x1234), u32(0x89abcdef))));
    const m = parseMoo(file(header(1, '386E'), chunk('RM32', u32(EAX), u32(0xffff0000)), t));
    expect(m.cpu).toBe('386E');
    expect(m.mask).toEqual({ width: 32, regs: { eax: 0xffff0000 } });
    expect(m.tests[0]!.init.regs).toEqual({ width: 32, regs: { eax: 0xdeadbeef, fs: 0x1234, eip: 0x89abcdef } });
    expect(m.tests[0]!.final).toEqual({ ram: [] });
  });

  it('refuses a chunk that claims more bytes than the file has, naming the offset', () => {
    const bytes = file(header(1), oneTest).slice(0, 60);
    expect(() => parseMoo(bytes)).toThrow(MooFormatError);
    expect(() => parseMoo(bytes)).toThrow(/chunk 'TEST' claims \d+ bytes, \d+ left at byte 20/);
  });

  it('refuses a file that does not start with a MOO header', () => {
    expect(() => parseMoo(file(meta))).toThrow(/expected a 'MOO ' header chunk, found 'META'/);
    expect(() => parseMoo(new Uint8Array(0))).toThrow(/no header chunk/);
  });

  it('refuses a register bitmap with bits past the known registers', () => {
    const t = chunk('TEST', u32(0), chunk('INIT', chunk('REGS', u16(1 << 14), u16(0))));
    expect(() => parseMoo(file(header(1), t))).toThrow(/unknown bits/);
  });
});

const dir = defaultSstDir();

describe.skipIf(!existsSync(dir) && process.env.CI !== 'true')('the SingleStepTests files', () => {
  const manifest = readFileSync(join(dir, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));

  it('hold as many tests, and tests with exceptions, as manifest.tsv says', () => {
    expect(manifest.length).toBe(325);
    for (const [name, cpu, mnemonic, , kept, excKept] of manifest) {
      const m = readMooFile(join(dir, name!));
      expect({ name, cpu: m.cpu, mnemonic: m.meta?.mnemonic, header: m.headerTestCount, tests: m.tests.length, exc: m.tests.filter((t) => t.exception).length })
        .toEqual({ name, cpu, mnemonic, header: Number(kept), tests: Number(kept), exc: Number(excKept) });
      for (const t of m.tests) expect(t.init.regs?.width).toBe(16);
    }
  });

  it('include the 386EX sample with 500 tests of 32-bit registers', () => {
    const sample = listSuiteFiles(dir).find((f) => f.id === '386:00');
    expect(sample).toBeDefined();
    const m = readMooFile(sample!.path);
    expect({ cpu: m.cpu, header: m.headerTestCount, tests: m.tests.length }).toEqual({ cpu: '386E', header: 500, tests: 500 });
    for (const t of m.tests) expect(t.init.regs?.width).toBe(32);
  });
});
