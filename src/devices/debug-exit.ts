// QEMU's isa-debug-exit (hw/misc/debugexit.c), enabled by `--debug-exit`: a guest ends the emulator with a
// status of its choosing, which is how test kernels report pass or fail.
//
// QEMU takes any write of 1 to 4 bytes anywhere in the region and exits with `(value << 1) | 1`, so a guest
// can never produce status 0, and status 1 (QEMU's own failure) means the guest wrote 0. Reads return 0
// (debug_exit_read). The register is 1 byte, but the machine inserts the device with DEBUG_EXIT_LENGTH bytes at
// 0xF4, as `-device isa-debug-exit,iobase=0xf4,iosize=0x04`, so that an `out dx, eax` reaches it whole instead
// of being split by the bus into one byte here and three unclaimed ones.
import type { AccessSize, IoDevice } from "./device";

/** Bytes the machine reserves at the device's base: the widest access QEMU accepts (valid.max_access_size). */
export const DEBUG_EXIT_LENGTH = 4;

export class DebugExit implements IoDevice {
  /**
   * @param onExit receives `(value << 1) | 1` as an unsigned 32-bit number; QEMU passes it to exit(), so the
   *   host process status is its low 8 bits
   */
  constructor(private readonly onExit: (status: number) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  write(_offset: number, _size: AccessSize, value: number): void {
    this.onExit(((value << 1) | 1) >>> 0);
  }
}
