// The guest tools busybox lacks, built the way `npm run images` builds them and run natively: an x86-64 host
// with IA32 emulation runs static i386 binaries (elsewhere those tests are skipped), and its own sysfs is the
// reference for lspci.
import { describe, expect, beforeAll, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuestTools, GUEST_TOOLS_BINARY } from '../../src/images/guest-tools';
import { repoRoot } from '../../src/images/paths';
import { itWhen, missingTool, cannotRunI386 } from './host-tools';

const missing = [missingTool('gcc', 'gcc-multilib'), existsSync('/usr/lib/gcc/x86_64-linux-gnu') && existsSync('/usr/lib32/libc.a') ? null : 'the 32-bit static C runtime is missing (apt-get install gcc-multilib)'];
const dir = mkdtempSync(join(tmpdir(), 'wasmpc-tools-test-'));

const noI386 = cannotRunI386(dir);
/** A test that runs the tools natively: skipped (under CI too) on a host that cannot run i386 executables. */
function itRuns(name: string, body: () => void): void {
  if (noI386 !== null) it.skip(`${name} (skipped: ${noI386})`, body);
  else itWhen(missing, name, body);
}

function tool(name: string, args: string[] = []) {
  return spawnSync(join(dir, name), args, { encoding: 'utf8' });
}

describe('guest tools (tools/guest)', () => {
  beforeAll(() => {
    if (missing.some((m) => m !== null)) return;
    writeFileSync(join(dir, GUEST_TOOLS_BINARY), buildGuestTools(repoRoot(), () => {}), { mode: 0o755 });
    for (const name of ['lspci', 'eject']) symlinkSync(GUEST_TOOLS_BINARY, join(dir, name));
  }, 120_000);

  itWhen(missing, 'is one static i386 executable', () => {
    const elf = readFileSync(join(dir, GUEST_TOOLS_BINARY));
    expect([...elf.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(elf[4]).toBe(1); // ELFCLASS32
    expect(elf.readUInt16LE(18)).toBe(3); // EM_386
    // Static: no program header asks for a dynamic loader (PT_INTERP, type 3).
    const phoff = elf.readUInt32LE(28), phentsize = elf.readUInt16LE(42), phnum = elf.readUInt16LE(44);
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types).toContain(1); // PT_LOAD
    expect(types).not.toContain(3);
  });

  itRuns('lspci lists every PCI function sysfs has, with its class and IDs', () => {
    const r = tool('lspci');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').filter((l) => l !== '');
    const functions = existsSync('/sys/bus/pci/devices') ? readdirSync('/sys/bus/pci/devices').sort() : [];
    expect(lines.length).toBe(functions.length);
    functions.forEach((f, i) => {
      const attr = (a: string) => parseInt(readFileSync(`/sys/bus/pci/devices/${f}/${a}`, 'utf8'), 16);
      const hex = (v: number) => v.toString(16).padStart(4, '0');
      expect(lines[i]).toContain(`${f.slice(5)} `);
      expect(lines[i]).toContain(`[${hex(attr('class') >> 8)}]: Device [${hex(attr('vendor'))}:${hex(attr('device'))}]`);
    });
  });

  itRuns('eject names the device it cannot open and refuses unknown options', () => {
    const r = tool('eject', ['/nonexistent/sr9']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/nonexistent/sr9');
    expect(tool('eject', ['-x']).status).toBe(2);
  });

  itRuns('refuses to run under another name', () => {
    const r = tool(GUEST_TOOLS_BINARY);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('call me as lspci or eject');
  });
});
