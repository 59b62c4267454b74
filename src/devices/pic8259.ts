// The two cascaded 8259A programmable interrupt controllers of a PC (Intel 8259A data sheet, order 231468),
// with the PIIX edge/level control registers (ELCR, Intel 82371AB PIIX4 data sheet §4.1.13).
//
// The master sits at 0x20/0x21, the slave at 0xA0/0xA1 with its INT on master IR2, and the ELCR at
// 0x4D0/0x4D1. The PC wiring is fixed: whatever ICW3 says, the slave answers the master's IR2 (ICW3 is
// accepted and ignored), and the x86 is the only processor (the 8080 fields of ICW1/ICW4 are ignored).
import type { AccessSize, IoDevice, IrqLine } from "./device";

/** Register offsets of one 8259A: the A0 address line. */
export const enum PicReg {
  /** ICW1, OCW2, OCW3 on write; IRR, ISR or the poll word on read. */
  Command = 0,
  /** ICW2..ICW4 during initialisation, then OCW1 (IMR); IMR on read. */
  Data = 1,
}

// ICW1 (data sheet "Initialization Command Words"): A0 = 0 and D4 = 1.
export const ICW1_IC4 = 0b0000_0001; // ICW4 follows
export const ICW1_SNGL = 0b0000_0010; // single: no ICW3
export const ICW1_LTIM = 0b0000_1000; // level-triggered inputs
export const ICW1_SELECT = 0b0001_0000;
// ICW4
export const ICW4_AEOI = 0b0000_0010;
export const ICW4_SFNM = 0b0001_0000; // special fully nested mode
// OCW3: A0 = 0, D4 = 0, D3 = 1.
export const OCW3_RIS = 0b0000_0001; // with RR: read ISR (1) or IRR (0)
export const OCW3_RR = 0b0000_0010;
export const OCW3_POLL = 0b0000_0100;
export const OCW3_SELECT = 0b0000_1000;
export const OCW3_SMM = 0b0010_0000; // with ESMM: set (1) or reset (0) special mask mode
export const OCW3_ESMM = 0b0100_0000;
/** OCW2 bits 2..0: the IR level of a specific EOI or set-priority command. */
const OCW2_LEVEL_MASK = 0b0000_0111;
const OCW2_COMMAND_SHIFT = 5;
/** Poll word (data sheet "The Poll Command"): I = 1 when a request is pending, W2..W0 its level. */
export const POLL_INTERRUPT = 0b1000_0000;
const ICW2_VECTOR_MASK = 0b1111_1000;

/** OCW2 bits 7..5 (R, SL, EOI). */
export const enum Ocw2Command {
  ClearRotateInAeoi = 0b000,
  NonSpecificEoi = 0b001,
  Nop = 0b010,
  SpecificEoi = 0b011,
  SetRotateInAeoi = 0b100,
  RotateOnNonSpecificEoi = 0b101,
  SetPriority = 0b110,
  RotateOnSpecificEoi = 0b111,
}

/** What the next write to the data port means. */
const enum InitStep {
  Ready,
  Icw2,
  Icw3,
  Icw4,
}

const IR_COUNT = 8;
const SPURIOUS_IR = 7;
/** Master input wired to the slave's INT. */
const CASCADE_IR = 2;
/** On the ISA bus the IRQ2 pin goes to the slave's IR1 (IRQ9), since IR2 of the master is the cascade. */
const ISA_IRQ2_REDIRECT = 9;
/** PIIX4 §4.1.13: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are always edge-triggered. */
const ELCR_MASTER_WRITABLE = 0b1111_1000;
const ELCR_SLAVE_WRITABLE = 0b1101_1110;

/** One 8259A. It reports nothing by itself; the DualPic8259 re-evaluates the outputs after every access. */
export class Pic8259 implements IoDevice {
  private irr = 0;
  private isr = 0;
  private imr = 0;
  /** Current level of each IR input, for edge detection. */
  private lines = 0;
  private elcr = 0;
  private ltim = false;
  private vectorBase = 0;
  private autoEoi = false;
  private specialFullyNested = false;
  private rotateInAeoi = false;
  /** IR level with the highest priority; rotation moves it (lowest priority is the one before it). */
  private highestPriority = 0;
  private readIsr = false;
  private pollPending = false;
  private specialMask = false;
  private initStep = InitStep.Ready;
  private single = false;
  private icw4Needed = false;

  constructor(
    private readonly isMaster: boolean,
    private readonly elcrWritable: number,
    private readonly changed: () => void,
  ) {}

  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0;
    this.elcr = 0;
    this.ltim = false;
    this.vectorBase = 0;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.rotateInAeoi = false;
    this.highestPriority = 0;
    this.readIsr = false;
    this.pollPending = false;
    this.specialMask = false;
    this.initStep = InitStep.Ready;
    this.single = false;
    this.icw4Needed = false;
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.readByte(offset + i) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
    this.changed();
  }

  /** Drive IR input `ir`. Edge mode latches a rising edge into IRR; level mode makes IRR follow the input. */
  setLine(ir: number, level: boolean): void {
    const bit = 1 << ir;
    if (level) {
      if (this.levelTriggered() & bit || !(this.lines & bit)) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.levelTriggered() & bit) this.irr &= ~bit;
    }
  }

  /** The INT output: an unmasked request with a higher priority than anything in service. */
  output(): boolean {
    return this.pendingRequest() >= 0;
  }

  /** First INTA pulse: the request moves from IRR to ISR (not in auto-EOI mode). Returns the vector. */
  acknowledge(ir: number): number {
    const bit = 1 << ir;
    if (this.autoEoi) {
      if (this.rotateInAeoi) this.highestPriority = (ir + 1) & 7;
    } else {
      this.isr |= bit;
    }
    // A level-triggered request stays in IRR while its input is high.
    if (!(this.levelTriggered() & bit)) this.irr &= ~bit;
    return this.vectorBase + ir;
  }

  /** Data sheet "Interrupt Sequence" step 4 note: with no request left at INTA the 8259A answers IR7. */
  spuriousVector(): number {
    return this.vectorBase + SPURIOUS_IR;
  }

  /** The IR that would be acknowledged now, or -1. */
  pendingRequest(): number {
    if (this.specialMask) {
      // Special mask mode: every unmasked level not in service may interrupt, whatever its priority.
      return this.highest(this.irr & ~this.imr & ~this.isr);
    }
    const request = this.highest(this.irr & ~this.imr);
    if (request < 0) return -1;
    let inService = this.isr;
    // Special fully nested mode: the master lets a higher-priority slave request through while IR2 is in service.
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << CASCADE_IR);
    const current = this.highest(inService);
    return current < 0 || this.rank(request) < this.rank(current) ? request : -1;
  }

  readElcr(): number {
    return this.elcr;
  }

  writeElcr(value: number): void {
    this.elcr = value & this.elcrWritable;
    this.resampleLevelInputs();
  }

  private readByte(offset: number): number {
    if (offset > PicReg.Data) return 0xff;
    // Data sheet "The Poll Command": the next read after OCW3 with P = 1 is the poll word.
    if (this.pollPending) {
      this.pollPending = false;
      const ir = this.pendingRequest();
      if (ir < 0) return 0;
      this.acknowledge(ir);
      return POLL_INTERRUPT | ir;
    }
    if (offset === PicReg.Data) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  private writeByte(offset: number, value: number): void {
    if (offset === PicReg.Command) {
      if (value & ICW1_SELECT) this.writeIcw1(value);
      else if (value & OCW3_SELECT) this.writeOcw3(value);
      else this.writeOcw2(value);
    } else if (offset === PicReg.Data) {
      this.writeData(value);
    }
  }

  /**
   * ICW1 starts initialisation: the edge sense circuit is reset (an input must go low-to-high again), IMR is
   * cleared, IR7 gets the lowest priority, special mask mode is cleared and reads return IRR; without IC4
   * every ICW4 function is zero.
   */
  private writeIcw1(value: number): void {
    this.ltim = (value & ICW1_LTIM) !== 0;
    this.single = (value & ICW1_SNGL) !== 0;
    this.icw4Needed = (value & ICW1_IC4) !== 0;
    this.imr = 0;
    this.isr = 0;
    this.irr = this.lines & this.levelTriggered();
    this.highestPriority = 0;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    this.rotateInAeoi = false;
    if (!this.icw4Needed) {
      this.autoEoi = false;
      this.specialFullyNested = false;
    }
    this.initStep = InitStep.Icw2;
  }

  private writeData(value: number): void {
    switch (this.initStep) {
      case InitStep.Icw2:
        this.vectorBase = value & ICW2_VECTOR_MASK;
        this.initStep = !this.single ? InitStep.Icw3 : this.afterIcw3();
        break;
      case InitStep.Icw3:
        this.initStep = this.afterIcw3();
        break;
      case InitStep.Icw4:
        this.autoEoi = (value & ICW4_AEOI) !== 0;
        this.specialFullyNested = (value & ICW4_SFNM) !== 0;
        this.initStep = InitStep.Ready;
        break;
      case InitStep.Ready:
        this.imr = value; // OCW1
        break;
    }
  }

  private afterIcw3(): InitStep {
    return this.icw4Needed ? InitStep.Icw4 : InitStep.Ready;
  }

  private writeOcw2(value: number): void {
    const level = value & OCW2_LEVEL_MASK;
    const command = (value >> OCW2_COMMAND_SHIFT) as Ocw2Command;
    switch (command) {
      case Ocw2Command.NonSpecificEoi:
      case Ocw2Command.RotateOnNonSpecificEoi: {
        // The non-specific EOI clears the highest-priority ISR bit: the one being serviced.
        const ir = this.highest(this.isr);
        if (ir < 0) break;
        this.isr &= ~(1 << ir);
        if (command === Ocw2Command.RotateOnNonSpecificEoi) this.highestPriority = (ir + 1) & 7;
        break;
      }
      case Ocw2Command.SpecificEoi:
        this.isr &= ~(1 << level);
        break;
      case Ocw2Command.RotateOnSpecificEoi:
        this.isr &= ~(1 << level);
        this.highestPriority = (level + 1) & 7;
        break;
      case Ocw2Command.SetPriority:
        // L2..L0 becomes the lowest priority.
        this.highestPriority = (level + 1) & 7;
        break;
      case Ocw2Command.SetRotateInAeoi:
        this.rotateInAeoi = true;
        break;
      case Ocw2Command.ClearRotateInAeoi:
        this.rotateInAeoi = false;
        break;
      case Ocw2Command.Nop:
        break;
    }
  }

  private writeOcw3(value: number): void {
    if (value & OCW3_ESMM) this.specialMask = (value & OCW3_SMM) !== 0;
    if (value & OCW3_POLL) this.pollPending = true;
    if (value & OCW3_RR) this.readIsr = (value & OCW3_RIS) !== 0;
  }

  /** Inputs that are level-triggered: all of them with ICW1.LTIM, else those selected in ELCR. */
  private levelTriggered(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  private resampleLevelInputs(): void {
    const level = this.levelTriggered();
    this.irr = (this.irr & ~level) | (this.lines & level);
  }

  /** Position of `ir` in the current priority order, 0 being the highest. */
  private rank(ir: number): number {
    return (ir - this.highestPriority) & 7;
  }

  /** The highest-priority IR among the bits of `mask`, or -1. */
  private highest(mask: number): number {
    for (let i = 0; i < IR_COUNT; i++) {
      const ir = (this.highestPriority + i) & 7;
      if (mask & (1 << ir)) return ir;
    }
    return -1;
  }
}

/** Master and slave 8259A as wired in a PC, with the CPU's INTR/INTA side and the ISA IRQ lines. */
export class DualPic8259 {
  readonly master: Pic8259;
  readonly slave: Pic8259;
  /** ELCR1 (0x4D0, master) at offset 0 and ELCR2 (0x4D1, slave) at offset 1. */
  readonly elcr: IoDevice;
  private readonly lines: IrqLine[] = [];
  private intr = false;

  constructor(private readonly onIntr: (level: boolean) => void) {
    const update = () => this.update();
    this.master = new Pic8259(true, ELCR_MASTER_WRITABLE, update);
    this.slave = new Pic8259(false, ELCR_SLAVE_WRITABLE, update);
    this.elcr = {
      read: (offset, size) => {
        let value = 0;
        for (let i = 0; i < size; i++) value |= this.readElcr(offset + i) << (8 * i);
        return value >>> 0;
      },
      write: (offset, size, value) => {
        for (let i = 0; i < size; i++) this.writeElcr(offset + i, (value >>> (8 * i)) & 0xff);
        this.update();
      },
    };
    for (let irq = 0; irq < 2 * IR_COUNT; irq++) {
      const target = irq === CASCADE_IR ? ISA_IRQ2_REDIRECT : irq;
      const pic = target < IR_COUNT ? this.master : this.slave;
      const ir = target % IR_COUNT;
      this.lines.push({
        raise: () => { pic.setLine(ir, true); this.update(); },
        lower: () => { pic.setLine(ir, false); this.update(); },
      });
    }
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.update();
  }

  /**
   * ISA interrupt line `irq` (0..15) for a device. IRQ2 is the ISA pin, which a PC routes to IRQ9: lines 2
   * and 9 drive the same input, so two devices must not share them.
   */
  irqLine(irq: number): IrqLine {
    const line = this.lines[irq];
    if (line === undefined) throw new RangeError(`wasmpc: pic: no IRQ line ${irq} (the dual 8259A has IRQ 0..15)`);
    return line;
  }

  /** Level of the INTR output to the CPU. */
  hasInterrupt(): boolean {
    return this.intr;
  }

  /**
   * The INTA sequence: returns the vector and moves the request into service. A request that went away
   * before INTA gives the spurious vector of IR7 on the master, or of IR15 when the master had taken IR2.
   */
  acknowledge(): number {
    const ir = this.master.pendingRequest();
    let vector: number;
    if (ir < 0) {
      vector = this.master.spuriousVector();
    } else if (ir === CASCADE_IR) {
      this.master.acknowledge(ir);
      // The slave drops INT while it is acknowledged; a request still waiting there gives a fresh edge.
      this.master.setLine(CASCADE_IR, false);
      const slaveIr = this.slave.pendingRequest();
      vector = slaveIr < 0 ? this.slave.spuriousVector() : this.slave.acknowledge(slaveIr);
    } else {
      vector = this.master.acknowledge(ir);
    }
    this.update();
    return vector;
  }

  private readElcr(offset: number): number {
    if (offset === 0) return this.master.readElcr();
    if (offset === 1) return this.slave.readElcr();
    return 0xff;
  }

  private writeElcr(offset: number, value: number): void {
    if (offset === 0) this.master.writeElcr(value);
    else if (offset === 1) this.slave.writeElcr(value);
  }

  /** Propagate the slave's INT to master IR2, then report a change of INTR. */
  private update(): void {
    this.master.setLine(CASCADE_IR, this.slave.output());
    const intr = this.master.output();
    if (intr === this.intr) return;
    this.intr = intr;
    this.onIntr(intr);
  }
}
