// Two one-byte ports that firmware and kernels write for people, not for the machine:
//
// - Port 0x80, the POST code port. On the PC/AT it is one of the DMA controller's extra page registers (0x80,
//   0x84-0x86, 0x88, 0x8C-0x8E: storage that drives no DMA; Ralf Brown's PORTS.LST "extra page register
//   (temporary storage)"), so a read returns the last byte written, and that is what this model does. QEMU
//   differs: its ioport80_read (hw/i386/pc.c) returns all ones and drops the write. BIOSes write progress codes
//   here and Linux writes it as an I/O delay (outb_p), so a write is one store and an optional callback.
// - Port 0xE9, the Bochs/QEMU debug console ("e9 hack", QEMU hw/char/debugcon.c): each byte written goes to the
//   host's output; a read returns 0xE9 (QEMU's default `readback`), which is how a guest detects the port.
import type { AccessSize, IoDevice } from "./device";

/** The POST code port at 0x80, length 1. */
export class PostCodePort implements IoDevice {
  /** The last byte written (0 at power-on, and kept across machine resets so a reboot loop shows where it was). */
  lastCode = 0;

  constructor(private readonly onCode?: (code: number) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return this.lastCode;
  }

  write(_offset: number, _size: AccessSize, value: number): void {
    this.lastCode = value & 0xff;
    this.onCode?.(this.lastCode);
  }
}

/** What a read of the debug console returns: its own port number, as QEMU's isa-debugcon `readback` default. */
export const DEBUGCON_READBACK = 0xe9;

/** The debug console at 0xE9, length 1. */
export class DebugCon implements IoDevice {
  constructor(private readonly out: (byte: number) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return DEBUGCON_READBACK;
  }

  write(_offset: number, _size: AccessSize, value: number): void {
    this.out(value & 0xff);
  }
}
