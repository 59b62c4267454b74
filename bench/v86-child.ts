// `bench.js --v86-child`: boots a kernel in v86 (the npm package) in this process, copies the guest's first serial
// port to stdout, and exits once the guest kernel says the machine stopped. A child process of its own, so the
// bench measures v86's memory alone.
import { readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { V86, type V86Image } from 'v86';

const MEMORY_BYTES = 256 * 1024 * 1024;
/** The guest kernel's last words after poweroff -f: "reboot: Power down", or "System halted" without ACPI. */
const STOPPED = /reboot: (Power down|System halted)/;

export interface V86ChildOptions {
  kernel: string;
  initrd: string;
  append: string;
  bios: string;
  vgaBios: string;
  /** false: v86's interpreter alone (its disable_jit option). */
  jit: boolean;
}

export const V86_CHILD_FLAG = '--v86-child';

/** The child's command line after the flag, as main() receives it. */
export function v86ChildArgs(options: V86ChildOptions): string[] {
  return [V86_CHILD_FLAG, options.kernel, options.initrd, options.append, options.bios, options.vgaBios, options.jit ? 'jit' : 'no-jit'];
}

function image(path: string): V86Image {
  const data = readFileSync(path);
  return { buffer: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer };
}

export function runV86Child(args: readonly string[]): void {
  const [kernel, initrd, append, bios, vgaBios, jit] = args;
  if (kernel === undefined || initrd === undefined || append === undefined || bios === undefined || vgaBios === undefined ||
    (jit !== 'jit' && jit !== 'no-jit')) {
    throw new Error(`${V86_CHILD_FLAG} needs KERNEL INITRD APPEND BIOS VGA_BIOS jit|no-jit`);
  }
  const emulator = new V86({
    wasm_path: createRequire(import.meta.url).resolve('v86/build/v86.wasm'),
    bios: image(bios),
    vga_bios: image(vgaBios),
    bzimage: image(kernel),
    initrd: image(initrd),
    cmdline: append,
    memory_size: MEMORY_BYTES,
    disable_jit: jit === 'no-jit',
    autostart: true,
  });
  let pending: number[] = [];
  let line = '';
  const flush = (): void => {
    if (pending.length === 0) return;
    writeSync(1, Buffer.from(pending));
    pending = [];
  };
  emulator.add_listener('serial0-output-byte', (byte: number) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(byte);
    if (byte !== 0x0a) {
      line += String.fromCharCode(byte);
      return;
    }
    if (STOPPED.test(line)) {
      flush();
      process.exit(0);
    }
    line = '';
  });
}
