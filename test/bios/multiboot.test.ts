import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E820Type, pcMemoryMap } from '../../bios/e820';
import { DoesNotFitError, MultibootError } from '../../bios/errors';
import { CMDLINE } from '../../bios/layout';
import { BOOTLOADER_MAGIC, loadMultiboot } from '../../bios/multiboot';
import { itWhen, missingTool } from '../images/host-tools';
import { inTempDir } from './acpica';

const MIB = 1 << 20;
const MAGIC = 0x1bad_b002;

function machine(ramBytes = 64 * MIB): { ram: Uint8Array; e820: ReturnType<typeof pcMemoryMap>['e820'] } {
  return { ram: new Uint8Array(ramBytes), e820: pcMemoryMap({ ramBytes, pciHoleStart: 0xb000_0000 }).e820 };
}

function mbHeader(v: DataView, at: number, flags: number): void {
  v.setUint32(at, MAGIC, true);
  v.setUint32(at + 4, flags, true);
  v.setUint32(at + 8, (-(MAGIC + flags)) >>> 0, true);
}

/**
 * An ELF32 i386 executable with one PT_LOAD segment: file offset 0x1000, linked at virtual 0xC0100000 and
 * loaded at physical 0x100000 (a higher-half kernel), 0x2000 bytes of data then bss up to `memsz`.
 */
function fakeElf(flags = 0b11, memsz = 0x3000): Uint8Array {
  const file = new Uint8Array(0x3000);
  const v = new DataView(file.buffer);
  v.setUint32(0, 0x464c_457f, true);
  file[4] = 1; file[5] = 1; file[6] = 1;
  v.setUint16(0x10, 2, true);
  v.setUint16(0x12, 3, true);
  v.setUint32(0x14, 1, true);
  v.setUint32(0x18, 0xc010_0010, true);
  v.setUint32(0x1c, 52, true);
  v.setUint16(0x28, 52, true);
  v.setUint16(0x2a, 32, true);
  v.setUint16(0x2c, 1, true);
  const ph = 52;
  v.setUint32(ph, 1, true);
  v.setUint32(ph + 4, 0x1000, true);
  v.setUint32(ph + 8, 0xc010_0000, true);
  v.setUint32(ph + 12, 0x10_0000, true);
  v.setUint32(ph + 16, 0x2000, true);
  v.setUint32(ph + 20, memsz, true);
  mbHeader(v, 0x1000, flags);
  for (let i = 0x1010; i < 0x3000; i++) file[i] = 0x90;
  return file;
}

/** A flat binary using the a.out kludge: the header at file offset 0x40 describes where everything goes. */
function fakeAout(): Uint8Array {
  const file = new Uint8Array(0x800).fill(0xcc);
  const v = new DataView(file.buffer);
  const hdr = 0x40;
  mbHeader(v, hdr, 0x1_0003);
  v.setUint32(hdr + 12, 0x20_0040, true); // header_addr: the file is loaded from 0x200000
  v.setUint32(hdr + 16, 0x20_0000, true); // load_addr
  v.setUint32(hdr + 20, 0x20_0800, true); // load_end_addr
  v.setUint32(hdr + 24, 0x20_1000, true); // bss_end_addr
  v.setUint32(hdr + 28, 0x20_0100, true); // entry_addr
  return file;
}

describe('the Multiboot v1 loader', () => {
  it('loads an ELF kernel at its physical addresses, zeroes bss and enters at the physical entry', () => {
    const m = machine();
    m.ram.fill(0xee, 0x10_0000, 0x10_4000);
    const r = loadMultiboot({ kernel: fakeElf(), cmdline: 'root=/dev/vda', ...m });
    expect(r.entry.eip).toBe(0x10_0010);
    expect(r.entry.eax).toBe(BOOTLOADER_MAGIC);
    expect(r.entry.ebx).toBe(r.info);
    expect(r.entry.eflags & 0x200).toBe(0);
    expect(r.kernelRange).toEqual({ start: 0x10_0000, end: 0x10_3000 });
    expect(m.ram[0x10_0010]).toBe(0x90);
    expect(m.ram[0x10_2000]).toBe(0);
    expect(m.ram[0x10_3000]).toBe(0xee);
  });

  it('fills the information structure: memory sizes, command line, memory map, module and loader name', () => {
    const m = machine();
    const initrd = new Uint8Array(10_000).fill(0x42);
    const r = loadMultiboot({ kernel: fakeElf(), initrd, cmdline: 'hello', ...m });
    const v = new DataView(m.ram.buffer);
    const info = r.info;
    const flags = v.getUint32(info, true);
    expect(flags).toBe((1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
    expect(v.getUint32(info + 4, true)).toBe(639);
    expect(v.getUint32(info + 8, true)).toBe((64 * MIB - 0x11_0000) / 1024);
    const str = (at: number): string => { let e = at; while (m.ram[e]) e++; return String.fromCharCode(...m.ram.subarray(at, e)); };
    expect(v.getUint32(info + 16, true)).toBe(CMDLINE);
    expect(str(CMDLINE)).toBe('hello');
    expect(str(v.getUint32(info + 64, true))).toBe('wasmpc');
    expect(v.getUint32(info + 20, true)).toBe(1);
    const mod = v.getUint32(info + 24, true);
    const start = v.getUint32(mod, true);
    expect(start % 4096).toBe(0);
    expect(v.getUint32(mod + 4, true) - start).toBe(10_000);
    expect(str(v.getUint32(mod + 8, true))).toBe('initrd');
    expect(m.ram[start + 9_999]).toBe(0x42);
    const mmapLength = v.getUint32(info + 44, true);
    const mmap = v.getUint32(info + 48, true);
    expect(mmapLength).toBe(m.e820.length * 24);
    const types: number[] = [];
    for (let at = mmap; at < mmap + mmapLength; at += v.getUint32(at, true) + 4) {
      expect(v.getUint32(at, true)).toBe(20);
      types.push(v.getUint32(at + 20, true));
    }
    expect(types).toEqual(m.e820.map((e) => e.type));
    expect(types).toContain(E820Type.Acpi);
  });

  it('loads a flat image by the a.out kludge addresses', () => {
    const m = machine();
    const r = loadMultiboot({ kernel: fakeAout(), cmdline: '', ...m });
    expect(r.entry.eip).toBe(0x20_0100);
    expect(r.kernelRange).toEqual({ start: 0x20_0000, end: 0x20_1000 });
    expect(new DataView(m.ram.buffer).getUint32(0x20_0040, true)).toBe(MAGIC);
    expect(m.ram[0x20_0900]).toBe(0);
  });

  it('refuses what it cannot boot, with typed errors', () => {
    const m = machine();
    const load = (kernel: Uint8Array, initrd?: Uint8Array): unknown => loadMultiboot({ kernel, cmdline: '', ...m, ...(initrd ? { initrd } : {}) });
    expect(() => load(new Uint8Array(16384))).toThrow(/no multiboot header/);
    expect(() => load(fakeElf(0b111))).toThrow(/flags 0x4 that wasmpc does not support \(bit 2: a video mode/);
    expect(() => load(fakeElf(0b1000_0011))).toThrow(MultibootError);
    const notElf = fakeElf();
    notElf[0] = 0;
    expect(() => load(notElf)).toThrow(/neither ELF nor marked with the a.out kludge/);
    expect(() => load(fakeElf(0b11, 0x1000_0000))).toThrow(DoesNotFitError);
    expect(() => load(fakeElf(), new Uint8Array(63 * MIB))).toThrow(/module of 63 MiB does not fit/);
    const badChecksum = fakeElf();
    badChecksum[0x1008]! ^= 1;
    expect(() => load(badChecksum)).toThrow(/no multiboot header/);
  });
});

const MISSING_NASM = missingTool('nasm', 'nasm');
const MISSING_LD = missingTool('ld', 'binutils');

describe('a multiboot kernel linked by GNU ld', () => {
  itWhen([MISSING_NASM, MISSING_LD], 'loads at the addresses the linker chose, with the bss zeroed', () => {
    const source = `
bits 32
section .text
align 4
    dd 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)
global _start
_start:
    mov esp, stack_top
    cmp eax, 0x2BADB002
    hlt
section .bss
align 16
stack_bottom: resb 8192
stack_top:
`;
    const elf = inTempDir((dir) => {
      writeFileSync(join(dir, 'k.asm'), source);
      const as = spawnSync('nasm', ['-f', 'elf32', '-o', 'k.o', 'k.asm'], { cwd: dir, encoding: 'utf8' });
      expect(as.status, as.stderr).toBe(0);
      const link = spawnSync('ld', ['-m', 'elf_i386', '-Ttext-segment=0x100000', '-e', '_start', '-o', 'k.elf', 'k.o'], { cwd: dir, encoding: 'utf8' });
      expect(link.status, link.stderr).toBe(0);
      const nm = spawnSync('nm', ['k.elf'], { cwd: dir, encoding: 'utf8' }).stdout;
      return { file: new Uint8Array(readFileSync(join(dir, 'k.elf'))), symbols: nm };
    });
    const symbol = (n: string): number => parseInt(new RegExp(`^([0-9a-f]+) \\w ${n}$`, 'm').exec(elf.symbols)![1]!, 16);
    const m = machine();
    m.ram.fill(0xee, 0x10_0000, 0x20_0000);
    const r = loadMultiboot({ kernel: elf.file, cmdline: '', ...m });
    expect(r.entry.eip).toBe(symbol('_start'));
    expect(m.ram[symbol('_start')]).toBe(0xbc); // mov esp, imm32
    expect(r.kernelRange.end).toBe(symbol('stack_top'));
    expect(m.ram.subarray(symbol('stack_bottom'), symbol('stack_top')).every((b) => b === 0)).toBe(true);
  });
});
