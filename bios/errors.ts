// Typed errors for boot images and firmware options. Every message is one line that names the thing and, where
// there is one, the fix; the CLI prints `wasmpc: ${error.message}`. Nothing in bios/ throws anything else on
// bad input files.

/** The base class: `instanceof FirmwareError` catches every error that bios/ raises on purpose. */
export class FirmwareError extends Error {
  override name = 'FirmwareError';
}

/** The kernel file is not a Linux bzImage (no "HdrS" setup header at 0x202, or a truncated setup area). */
export class NotBzImageError extends FirmwareError {
  override name = 'NotBzImageError';
}

/** The bzImage speaks a boot protocol older than this loader requires (boot.rst: protocol 2.06). */
export class ProtocolTooOldError extends FirmwareError {
  override name = 'ProtocolTooOldError';
  constructor(message: string, readonly version: number) { super(message); }
}

/** The kernel image, its decompression footprint, the initrd or a multiboot module does not fit in guest RAM. */
export class DoesNotFitError extends FirmwareError {
  override name = 'DoesNotFitError';
  constructor(message: string, readonly what: 'kernel' | 'initrd' | 'module' | 'firmware') { super(message); }
}

/** The command line is longer than the kernel accepts (setup header cmdline_size, boot.rst "cmdline_size"). */
export class CmdlineTooLongError extends FirmwareError {
  override name = 'CmdlineTooLongError';
  constructor(message: string, readonly limit: number) { super(message); }
}

/** A multiboot kernel this loader cannot boot: no header, bad checksum, unsupported required flags, bad ELF. */
export class MultibootError extends FirmwareError {
  override name = 'MultibootError';
}

/** Machine options that contradict each other (a PCI window over RAM, too many CPUs, ...). */
export class FirmwareConfigError extends FirmwareError {
  override name = 'FirmwareConfigError';
}

/** Hex with a 0x prefix, for messages. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** A size in the unit people read: "12.5 MiB", "640 KiB", "37 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20) return `${+(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${+(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
