// The small seams every device model sits behind. A device is a chip: it knows its registers, not where a bus
// placed it, and it has no timers, files or sockets of its own; the machine passes those in.

/** Width of one register access. The buses split wider or unaligned accesses into these. */
export type AccessSize = 1 | 2 | 4;

/** A block of I/O ports or MMIO registers that does not know its base address. */
export interface IoDevice {
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

/** An interrupt request line into an interrupt controller. Level semantics; an edge is raise() then lower(). */
export interface IrqLine {
  raise(): void;
  lower(): void;
}

/** A one-shot timer on the machine's virtual clock. */
export interface VirtualTimer {
  /** Fire once at `deadlineNs` (virtual nanoseconds); re-arming replaces the previous deadline. */
  arm(deadlineNs: number): void;
  disarm(): void;
}

/** The machine's notion of time. Virtual time follows the host's monotonic clock while the machine runs. */
export interface Clock {
  nowNs(): number;
  /** Wall-clock time of the host in milliseconds since the epoch (what an RTC shows at power-on). */
  wallMs(): number;
  timer(callback: (nowNs: number) => void): VirtualTimer;
}

/**
 * A chip whose registers are bytes, as the ISA chips are: a wider access is split into consecutive byte
 * accesses, lowest address first (the ISA bus's byte lanes).
 */
export abstract class ByteRegisters implements IoDevice {
  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.readByte(offset + i) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  protected abstract readByte(offset: number): number;
  protected abstract writeByte(offset: number, value: number): void;
}
