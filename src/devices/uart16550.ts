// The 16550A UART (National Semiconductor PC16550D data sheet, June 1995), as COM1..COM4 of a PC.
//
// Transmission is instantaneous, as in QEMU and v86: a byte written to THR goes straight to the backend and THR
// is empty again at once, so THRE and TEMT always read 1 and the transmitter FIFO never holds anything.
// Reception has back-pressure instead of overruns: bytes from the host wait in a pending queue on the "wire"
// and enter the receiver FIFO (or the RBR in 16450 mode) only as the guest makes room, so a console never
// loses input. Overruns can still happen in loopback, where the guest itself is the sender.
import { ByteRegisters, type IrqLine } from './device';

/** Register offsets from the base port (PC16550D Table II). Values are the A2..A0 encoding. */
export const enum UartReg {
  /** RBR on read, THR on write; DLL when LCR.DLAB = 1. */
  Data = 0,
  /** IER; DLM when LCR.DLAB = 1. */
  Ier = 1,
  /** IIR on read, FCR on write. */
  Iir = 2,
  Lcr = 3,
  Mcr = 4,
  Lsr = 5,
  Msr = 6,
  Scr = 7,
}
/** Number of consecutive ports a bus maps for one UART. */
export const UART_REGISTER_COUNT = 8;

// IER (§8.7)
export const IER_ERBFI = 0b0000_0001; // received data available (and character timeout)
export const IER_ETBEI = 0b0000_0010; // transmitter holding register empty
export const IER_ELSI = 0b0000_0100; // receiver line status
export const IER_EDSSI = 0b0000_1000; // modem status
const IER_WRITABLE = 0b0000_1111; // bits 7..4 are always 0

// IIR (§8.6, Table IV): bit 0 is 0 while an interrupt is pending; bits 3..1 identify it; bits 7..6 copy FCR0.
export const IIR_NO_INT = 0b0000_0001;
export const IIR_FIFOS_ENABLED = 0b1100_0000;

/** Interrupt identification codes, IIR bits 3..0 (Table IV), in the order of their priority. */
export const enum UartIntId {
  LineStatus = 0b0110,
  RxData = 0b0100,
  CharTimeout = 0b1100,
  Thre = 0b0010,
  ModemStatus = 0b0000,
  None = 0b0001,
}

// FCR (§8.5)
export const FCR_ENABLE = 0b0000_0001;
export const FCR_RX_RESET = 0b0000_0010;
export const FCR_TX_RESET = 0b0000_0100;
export const FCR_DMA_MODE = 0b0000_1000;
export const FCR_TRIGGER_MASK = 0b1100_0000;
const FCR_TRIGGER_SHIFT = 6;
/** Receiver FIFO trigger levels selected by FCR bits 7..6 (§8.5). */
const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const FIFO_DEPTH = 16;

// LCR (§8.1)
export const LCR_DLAB = 0b1000_0000;

// MCR (§8.8)
export const MCR_DTR = 0b0000_0001;
export const MCR_RTS = 0b0000_0010;
export const MCR_OUT1 = 0b0000_0100;
export const MCR_OUT2 = 0b0000_1000;
export const MCR_LOOP = 0b0001_0000;
const MCR_WRITABLE = 0b0001_1111; // bits 7..5 are always 0

// LSR (§8.4)
export const LSR_DR = 0b0000_0001;
export const LSR_OE = 0b0000_0010;
export const LSR_PE = 0b0000_0100;
export const LSR_FE = 0b0000_1000;
export const LSR_BI = 0b0001_0000;
export const LSR_THRE = 0b0010_0000;
export const LSR_TEMT = 0b0100_0000;
/** Error conditions that raise the receiver line status interrupt and clear when LSR is read. */
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

// MSR (§8.9): bits 3..0 are the delta detectors, bits 7..4 the complements of the modem inputs.
export const MSR_DCTS = 0b0000_0001;
export const MSR_DDSR = 0b0000_0010;
export const MSR_TERI = 0b0000_0100;
export const MSR_DDCD = 0b0000_1000;
export const MSR_CTS = 0b0001_0000;
export const MSR_DSR = 0b0010_0000;
export const MSR_RI = 0b0100_0000;
export const MSR_DCD = 0b1000_0000;
const MSR_DELTAS = MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD;

/** What the modem inputs show outside loopback: a null-modem peer that is always ready (as QEMU reports). */
const HOST_MODEM_INPUTS = MSR_CTS | MSR_DSR | MSR_DCD;

/** Compact the pending queue once this many consumed bytes sit at its head. */
const PENDING_COMPACT_AT = 4096;

export class Uart16550 extends ByteRegisters {
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  /** FCR as programmed: enable, DMA mode and trigger bits (the reset bits are self-clearing). */
  private fcr = 0;
  /** Scratch register; the master reset leaves it alone (Table III). */
  private scr = 0;
  /** Divisor latch; the master reset leaves it alone (Table III). */
  private dll = 0;
  private dlm = 0;
  /** Sticky LSR error bits (OE, PE, FE, BI) since the last LSR read. */
  private lsrErrors = 0;
  /** The THRE interrupt latch: set when THR empties or ETBEI is enabled, cleared by IIR read or THR write. */
  private threPending = false;
  /** MSR bits 7..4 as last sampled, and the delta bits 3..0 accumulated since the last MSR read. */
  private msrInputs = HOST_MODEM_INPUTS;
  private msrDeltas = 0;
  /** Receiver FIFO (one entry deep in 16450 mode, where it is the RBR). */
  private rx: number[] = [];
  /** The last character read from RBR: an empty RBR reads it again. */
  private rbr = 0;
  /** Host bytes not yet received by the chip; `pendingHead` indexes the next one. */
  private pending: number[] = [];
  private pendingHead = 0;
  private irqLevel = false;

  constructor(
    private readonly irq: IrqLine,
    private readonly tx: (byte: number) => void,
  ) {
    super();
  }

  /** Master reset (Table III): IER, FCR, LCR, MCR and the status bits go to their reset values. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.fcr = 0;
    this.lsrErrors = 0;
    this.threPending = false;
    this.msrDeltas = 0;
    this.msrInputs = HOST_MODEM_INPUTS;
    this.rx = [];
    this.pump();
    this.updateIrq();
  }

  /** Queue bytes from the host side of the line. Nothing is dropped; see rxSpace() to pace a backend. */
  receive(bytes: Uint8Array | number[]): void {
    for (const b of bytes) this.pending.push(b & 0xff);
    this.pump();
    this.updateIrq();
  }

  /** How many more bytes the receiver can take before host input starts waiting in the pending queue. */
  rxSpace(): number {
    return Math.max(0, this.rxCapacity() - this.rx.length - this.pendingCount());
  }

  protected readByte(offset: number): number {
    switch (offset as UartReg) {
      case UartReg.Data:
        return this.lcr & LCR_DLAB ? this.dll : this.readRbr();
      case UartReg.Ier:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case UartReg.Iir:
        return this.readIir();
      case UartReg.Lcr:
        return this.lcr;
      case UartReg.Mcr:
        return this.mcr;
      case UartReg.Lsr:
        return this.readLsr();
      case UartReg.Msr:
        return this.readMsr();
      case UartReg.Scr:
        return this.scr;
      default:
        return 0xff; // outside the eight registers: an undriven ISA bus
    }
  }

  protected writeByte(offset: number, value: number): void {
    switch (offset as UartReg) {
      case UartReg.Data:
        if (this.lcr & LCR_DLAB) this.dll = value;
        else this.writeThr(value);
        break;
      case UartReg.Ier:
        if (this.lcr & LCR_DLAB) this.dlm = value;
        else this.writeIer(value & IER_WRITABLE);
        break;
      case UartReg.Iir:
        this.writeFcr(value);
        break;
      case UartReg.Lcr:
        this.lcr = value;
        break;
      case UartReg.Mcr:
        this.writeMcr(value & MCR_WRITABLE);
        break;
      case UartReg.Scr:
        this.scr = value;
        break;
      default:
        // LSR and MSR are for factory test only (§8.4); writes there and outside the block are ignored.
        break;
    }
  }

  /** §8.6 Table IV: RDA resets when the FIFO drops below the trigger level, CTI when RBR is read. */
  private readRbr(): number {
    const byte = this.rx.shift();
    if (byte !== undefined) this.rbr = byte;
    this.pump();
    this.updateIrq();
    return this.rbr;
  }

  /** Table IV: reading IIR resets the THRE interrupt when THRE is the source it reports. */
  private readIir(): number {
    const id = this.interruptId();
    if (id === UartIntId.Thre) {
      this.threPending = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled() ? IIR_FIFOS_ENABLED : 0);
  }

  /** §8.4: the error bits are cleared by reading LSR, which also resets the line status interrupt. */
  private readLsr(): number {
    const value = (this.rx.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
    this.lsrErrors = 0;
    this.updateIrq();
    return value;
  }

  /** §8.9: the delta bits clear when MSR is read, which resets the modem status interrupt. */
  private readMsr(): number {
    const value = this.msrInputs | this.msrDeltas;
    this.msrDeltas = 0;
    this.updateIrq();
    return value;
  }

  /**
   * The byte goes out whole whatever the word length in LCR: guests that never program LCR (it resets to
   * 5 bits) still print, as on QEMU.
   */
  private writeThr(byte: number): void {
    if (this.mcr & MCR_LOOP) this.lineReceive(byte); // §8.8: the shift register feeds the receiver
    else this.tx(byte);
    // Writing THR resets the THRE interrupt (Table IV); the instantaneous transmitter empties THR at once,
    // which sets it again.
    this.threPending = (this.ier & IER_ETBEI) !== 0;
    this.updateIrq();
  }

  private writeIer(value: number): void {
    const enabling = value & ~this.ier & IER_ETBEI;
    this.ier = value;
    // A 16550 asserts THRE whenever ETBEI goes on with THR empty (Linux's UART_BUG_THRE probe relies on it).
    if (enabling) this.threPending = true;
    if (!(value & IER_ETBEI)) this.threPending = false;
    this.updateIrq();
  }

  /** §8.5: FCR0 must be set for the other bits to take; changing FCR0 clears both FIFOs. */
  private writeFcr(value: number): void {
    if ((value ^ this.fcr) & FCR_ENABLE) this.rx = [];
    if (value & FCR_ENABLE) {
      if (value & FCR_RX_RESET) this.rx = [];
      // FCR_TX_RESET has nothing to clear: the transmitter FIFO is always empty here.
      this.fcr = value & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER_MASK);
    } else {
      this.fcr = 0;
    }
    this.pump();
    this.updateIrq();
  }

  private writeMcr(value: number): void {
    const leavingLoop = this.mcr & ~value & MCR_LOOP;
    this.mcr = value;
    this.sampleModemInputs();
    if (leavingLoop) this.pump(); // the host line is connected again
    this.updateIrq();
  }

  /**
   * §8.8: in loopback the modem inputs are wired to MCR outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2).
   * §8.9: a change on an input sets its delta bit; TERI is set when RI goes from on to off.
   */
  private sampleModemInputs(): void {
    let inputs = HOST_MODEM_INPUTS;
    if (this.mcr & MCR_LOOP) {
      inputs = (this.mcr & MCR_RTS ? MSR_CTS : 0) | (this.mcr & MCR_DTR ? MSR_DSR : 0) |
        (this.mcr & MCR_OUT1 ? MSR_RI : 0) | (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
    }
    const changed = inputs ^ this.msrInputs;
    if (changed & MSR_CTS) this.msrDeltas |= MSR_DCTS;
    if (changed & MSR_DSR) this.msrDeltas |= MSR_DDSR;
    if (changed & MSR_DCD) this.msrDeltas |= MSR_DDCD;
    if (changed & this.msrInputs & MSR_RI) this.msrDeltas |= MSR_TERI;
    this.msrInputs = inputs;
  }

  /**
   * A character arrives from the line. §8.4 OE: in FIFO mode the full FIFO keeps its contents and the new
   * character is lost; in 16450 mode it overwrites the unread RBR.
   */
  private lineReceive(byte: number): void {
    if (this.rx.length < this.rxCapacity()) {
      this.rx.push(byte);
    } else {
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled()) this.rx[0] = byte;
    }
  }

  /** Move host bytes from the wire into the receiver while there is room (never in loopback: SIN is cut). */
  private pump(): void {
    if (this.mcr & MCR_LOOP) return;
    const room = this.rxCapacity() - this.rx.length;
    for (let i = 0; i < room && this.pendingHead < this.pending.length; i++) {
      this.rx.push(this.pending[this.pendingHead++]!);
    }
    if (this.pendingHead === this.pending.length) {
      this.pending = [];
      this.pendingHead = 0;
    } else if (this.pendingHead >= PENDING_COMPACT_AT) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /**
   * The highest-priority pending interrupt (Table IV). The character timeout needs four idle character
   * times; transmission here is instantaneous, so a FIFO below its trigger level with nothing more on the
   * wire has timed out already.
   */
  private interruptId(): UartIntId {
    if (this.ier & IER_ELSI && this.lsrErrors & LSR_ERRORS) return UartIntId.LineStatus;
    if (this.ier & IER_ERBFI && this.rx.length > 0) {
      if (!this.fifoEnabled() || this.rx.length >= this.rxTrigger()) return UartIntId.RxData;
      return UartIntId.CharTimeout;
    }
    if (this.ier & IER_ETBEI && this.threPending) return UartIntId.Thre;
    if (this.ier & IER_EDSSI && this.msrDeltas & MSR_DELTAS) return UartIntId.ModemStatus;
    return UartIntId.None;
  }

  /**
   * On a PC the INTR pin reaches the PIC through a buffer enabled by OUT2. §8.8: loopback forces the OUT2
   * pin inactive, so the line stays low in loopback even though IIR reports interrupts.
   */
  private updateIrq(): void {
    const level = this.interruptId() !== UartIntId.None && (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irq.raise();
    else this.irq.lower();
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? FIFO_DEPTH : 1;
  }

  private rxTrigger(): number {
    return RX_TRIGGER_LEVELS[(this.fcr & FCR_TRIGGER_MASK) >> FCR_TRIGGER_SHIFT]!;
  }

  private pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }
}
