// Host prerequisites of the image tests. Under CI=true a missing prerequisite fails the test that needs it;
// elsewhere that test is skipped, with the reason in its title.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';

export const IN_CI = process.env.CI === 'true';

/** null when `command` runs on this host, else what to install. */
export function missingTool(command: string, debianPackage: string): string | null {
  const result = spawnSync(command, ['--version'], { stdio: 'ignore' });
  return result.error ? `${command} is not installed (apt-get install ${debianPackage})` : null;
}

/**
 * `it`, unless a prerequisite is missing (`missing` is the first non-null reason): then outside CI the test is
 * skipped and says why, and under CI it runs only to fail with that reason.
 */
export function itWhen(missing: readonly (string | null)[], name: string, body: () => void | Promise<void>, timeoutMs?: number): void {
  const reason = missing.find((item): item is string => item !== null);
  if (reason === undefined) it(name, body, timeoutMs);
  else if (IN_CI) it(name, () => { throw new Error(`CI=true and ${reason}`); });
  else it.skip(`${name} (skipped: ${reason})`, body);
}

/**
 * null when this host's kernel runs static i386 executables, else why not. A tiny ELF (exit(42) through
 * int 0x80) is run: a kernel without IA32 emulation refuses it (ENOEXEC, after which the shell's fallback
 * fails on it as a script). That is a property of the host, not a package to install, so it skips under
 * CI=true too, as the host-CPU oracle's regeneration does (tools/oracle/ci-regenerate.sh).
 */
export function cannotRunI386(dir: string): string | null {
  const code = [0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80]; // mov eax, 1; mov ebx, 42; int 0x80
  const elf = Buffer.alloc(84 + code.length);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]); // ELFCLASS32, little-endian, version 1
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(3, 18); // EM_386
  elf.writeUInt32LE(1, 20);
  elf.writeUInt32LE(0x0804_8054, 24); // entry: the code after the headers
  elf.writeUInt32LE(52, 28); // program headers right after this one
  elf.writeUInt16LE(52, 40);
  elf.writeUInt16LE(32, 42);
  elf.writeUInt16LE(1, 44);
  // PT_LOAD of the whole file at 0x08048000, read + execute.
  for (const [off, v] of [[52, 1], [56, 0], [60, 0x0804_8000], [64, 0x0804_8000], [68, elf.length], [72, elf.length], [76, 5], [80, 0x1000]] as const) elf.writeUInt32LE(v, off);
  elf.set(code, 84);
  const file = join(dir, 'i386-probe');
  writeFileSync(file, elf, { mode: 0o755 });
  const r = spawnSync(file, [], { stdio: 'ignore' });
  return r.status === 42 ? null : 'this host\'s kernel does not run i386 executables (no IA32 emulation)';
}
