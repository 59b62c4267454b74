// The guest tools busybox lacks (lspci, eject): tools/guest/*.c built with the host's `gcc -m32 -static` into one
// multi-call binary for the initramfs. Debian's gcc-multilib provides the 32-bit runtime; the builder installs
// it the way it installs kmod when it is missing.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installHostPackage } from './debian';
import { ImagesError, findExecutable, lastLine, runCommand } from './exec';

/** The names the binary answers to; each becomes a symlink in the guest's /bin. */
export const GUEST_TOOLS = ['lspci', 'eject'] as const;
export const GUEST_TOOLS_BINARY = 'wasmpc-tools';

/** The C sources, by file name, in a fixed order (they are part of the image recipe). */
export function guestToolSources(repo: string): Array<{ name: string; text: string }> {
  const dir = join(repo, 'tools', 'guest');
  return readdirSync(dir).filter((f) => f.endsWith('.c')).sort().map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

function compile(repo: string, out: string): ReturnType<typeof runCommand> {
  const dir = join(repo, 'tools', 'guest');
  const sources = guestToolSources(repo).map((s) => join(dir, s.name));
  return runCommand('gcc', ['-m32', '-static', '-Os', '-s', '-Wall', '-Wextra', '-o', out, ...sources]);
}

/** Builds the multi-call binary and returns its bytes. */
export function buildGuestTools(repo: string, log: (message: string) => void): Uint8Array {
  const work = mkdtempSync(join(tmpdir(), 'wasmpc-guest-tools-'));
  try {
    const out = join(work, GUEST_TOOLS_BINARY);
    let result = findExecutable('gcc') === null ? undefined : compile(repo, out);
    if (result === undefined || result.status !== 0) {
      // No gcc, or no 32-bit static runtime (gcc-multilib brings both gcc and libc6-dev-i386).
      installHostPackage('gcc-multilib', 'gcc -m32 -static (for the guest tools lspci and eject)', log);
      result = compile(repo, out);
    }
    if (result.status !== 0) throw new ImagesError(`gcc -m32 -static tools/guest/*.c failed: ${lastLine(result.stderr)}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
