// The 8042 keyboard controller of a PC/AT with a PS/2 auxiliary port, an MF2 keyboard behind it and no mouse
// (IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device Controller" and "Keyboard";
// bit and command names as in Linux's i8042.h and atkbd.c). Also the PS/2 "port A" at 0x92 (fast A20/reset).
//
// Linux's i8042 probe (self-test, AUX loopback, interface tests, CTR read/write) and atkbd probe (reset, get
// ID, set LEDs, scan-code set, enable) succeed against it; psmouse finds no mouse at once, because a byte
// sent to the absent AUX device comes back as 0xFE with the timeout bit set.
import { ByteRegisters, type AccessSize, type IoDevice, type IrqLine } from './device';

/** Port offsets from 0x60 (the bus maps 0x60 and 0x64 separately: 0x61 belongs to port B). */
export const enum KbcPort {
  Data = 0,
  /** Status register on read, command register on write. */
  Command = 4,
}

// Status register
export const STATUS_OBF = 0b0000_0001;
export const STATUS_IBF = 0b0000_0010; // never set: commands are taken at once
export const STATUS_SYS = 0b0000_0100;
export const STATUS_CMD = 0b0000_1000; // last write was to the command port
export const STATUS_UNLOCKED = 0b0001_0000; // keyboard not inhibited by the key lock
export const STATUS_AUX_OBF = 0b0010_0000;
export const STATUS_TIMEOUT = 0b0100_0000;
// Command byte (controller RAM byte 0)
export const CB_KBD_INT = 0b0000_0001;
export const CB_AUX_INT = 0b0000_0010;
export const CB_SYS = 0b0000_0100;
export const CB_KBD_DISABLE = 0b0001_0000;
export const CB_AUX_DISABLE = 0b0010_0000;
export const CB_XLATE = 0b0100_0000;
/** Power-on command byte: interrupts on and set 2 translated to set 1, which is what BIOS-less guests expect. */
const CB_DEFAULT = CB_KBD_INT | CB_AUX_INT | CB_XLATE;
// Output port
export const OUTPORT_RESET = 0b0000_0001; // 0 holds the CPU in reset
export const OUTPORT_A20 = 0b0000_0010;
export const OUTPORT_KBD_OBF = 0b0001_0000;
export const OUTPORT_AUX_OBF = 0b0010_0000;
/** Reset line high, A20 on, keyboard clock and data high, unused lines high (as QEMU). */
const OUTPORT_DEFAULT = 0b1100_1111;
const OUTPORT_OBF_BITS = OUTPORT_KBD_OBF | OUTPORT_AUX_OBF;

/** Controller commands written to port 0x64. */
export const enum KbcCommand {
  ReadRam = 0x20, // ..0x3F: RAM byte (cmd & 0x1F); 0x20 is the command byte
  WriteRam = 0x60, // ..0x7F
  DisableAux = 0xa7,
  EnableAux = 0xa8,
  TestAux = 0xa9,
  SelfTest = 0xaa,
  TestKbd = 0xab,
  DisableKbd = 0xad,
  EnableKbd = 0xae,
  ReadOutputPort = 0xd0,
  WriteOutputPort = 0xd1,
  WriteKbdBuffer = 0xd2,
  WriteAuxBuffer = 0xd3,
  WriteAux = 0xd4,
  DisableA20 = 0xdd,
  EnableA20 = 0xdf,
  ReadTestInputs = 0xe0,
  Pulse = 0xf0, // ..0xFF: pulse output port bits 3..0 that are 0 in the command
}
const RAM_COMMAND_MASK = 0b1110_0000;
const RAM_INDEX_MASK = 0b0001_1111;
const RAM_SIZE = 32;
const PULSE_MASK = 0b1111_0000;
const SELF_TEST_OK = 0x55;
const INTERFACE_OK = 0x00;

/** Commands of the keyboard itself, written to port 0x60. */
export const enum KbdCommand {
  SetLeds = 0xed,
  Echo = 0xee,
  ScanCodeSet = 0xf0,
  GetId = 0xf2,
  SetTypematic = 0xf3,
  Enable = 0xf4,
  ResetDisable = 0xf5,
  ResetEnable = 0xf6,
  SetAllTypematic = 0xf7, // 0xF7..0xFD: set-3 key attribute commands, acknowledged and ignored
  SetAllMakeBreakTypematic = 0xfd,
  Resend = 0xfe,
  Reset = 0xff,
}
export const KBD_ACK = 0xfa;
export const KBD_RESEND = 0xfe;
export const KBD_BAT_OK = 0xaa;
const KBD_ECHO = 0xee;
/** MF2 keyboard identification: 0xAB 0x83 (0xAB 0x41 after translation). */
const KBD_ID = [0xab, 0x83] as const;
const SCAN_SET_DEFAULT = 2;
const SCAN_SET_MAX = 3;
const SET2_BREAK_PREFIX = 0xf0;
const TRANSLATED_BREAK = 0b1000_0000;

/**
 * The 8042's set 2 to set 1 translation of bytes from the keyboard (IBM PS/2 Technical Reference); bytes
 * from 0x88 up pass unchanged.
 */
const SET2_TO_SET1 = [
  0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
  0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
  0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
  0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
  0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
  0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
  0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
  0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
  0x80, 0x81, 0x82, 0x41, 0x54, 0x85, 0x86, 0x87,
] as const;

function translate(byte: number): number {
  return SET2_TO_SET1[byte] ?? byte;
}

/** A byte the controller itself places in the output buffer. */
interface ControllerByte {
  value: number;
  aux: boolean;
  timeout: boolean;
}

export interface I8042Wiring {
  irq1: IrqLine;
  irq12: IrqLine;
  /** Output port bit 1 changed. */
  onA20: (enabled: boolean) => void;
  /** The controller pulsed or held the CPU's reset line. */
  onReset: () => void;
}

export class I8042 extends ByteRegisters {
  private readonly ram = new Uint8Array(RAM_SIZE);
  private outport = OUTPORT_DEFAULT;
  private sysFlag = false;
  private lastWriteWasCommand = false;
  /** A controller command waiting for its data byte on port 0x60. */
  private pendingCommand: number | undefined;
  /** The output buffer: valid while `obf`; `obfAux` and `obfTimeout` are its status bits. */
  private output = 0;
  private obf = false;
  private obfAux = false;
  private obfTimeout = false;
  private controllerQueue: ControllerByte[] = [];
  /** Bytes the keyboard has to send, untranslated: answers to commands first, then key codes (set 2). */
  private kbdReplies: number[] = [];
  private kbdKeys: number[] = [];
  /** Translation saw a set-2 break prefix: the next byte goes out with bit 7 set. */
  private breakPrefix = false;
  private irq1Level = false;
  private irq12Level = false;
  // The keyboard
  private kbdPendingCommand: number | undefined;
  private scanning = true;
  private scanSet = SCAN_SET_DEFAULT;
  private leds = 0;
  private lastKbdByte = KBD_BAT_OK;

  constructor(private readonly wiring: I8042Wiring) {
    super();
    this.reset();
  }

  reset(): void {
    this.ram.fill(0);
    this.ram[0] = CB_DEFAULT;
    this.outport = OUTPORT_DEFAULT;
    this.sysFlag = false;
    this.lastWriteWasCommand = false;
    this.pendingCommand = undefined;
    this.obf = false;
    this.obfAux = false;
    this.obfTimeout = false;
    this.controllerQueue = [];
    this.breakPrefix = false;
    this.resetKeyboard();
    this.updateIrqs();
  }

  /** Scan codes from the host keyboard, in set 2 (the controller translates them when CB_XLATE is set). */
  keyboardInput(bytes: Uint8Array | number[]): void {
    if (!this.scanning) return; // a keyboard with scanning disabled sends no key codes
    for (const b of bytes) this.kbdKeys.push(b & 0xff);
    this.refill();
  }

  /** LED state last set by the guest: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
  keyboardLeds(): number {
    return this.leds;
  }

  protected readByte(offset: number): number {
    switch (offset as KbcPort) {
      case KbcPort.Data: {
        // Reading an empty buffer returns the last byte again, as the real latch does.
        // IRQ1/IRQ12 drop with OBF, so the next byte makes a fresh edge for the edge-triggered PIC.
        const value = this.output;
        this.obf = false;
        this.updateIrqs();
        this.refill();
        return value;
      }
      case KbcPort.Command:
        return (this.obf ? STATUS_OBF : 0) | (this.sysFlag ? STATUS_SYS : 0) |
          (this.lastWriteWasCommand ? STATUS_CMD : 0) | STATUS_UNLOCKED |
          (this.obf && this.obfAux ? STATUS_AUX_OBF : 0) | (this.obf && this.obfTimeout ? STATUS_TIMEOUT : 0);
      default:
        return 0xff;
    }
  }

  protected writeByte(offset: number, value: number): void {
    if (offset === KbcPort.Command) {
      this.lastWriteWasCommand = true;
      this.pendingCommand = undefined;
      this.command(value);
    } else if (offset === KbcPort.Data) {
      this.lastWriteWasCommand = false;
      const pending = this.pendingCommand;
      this.pendingCommand = undefined;
      if (pending === undefined) {
        // Sending to the keyboard enables its interface again (as QEMU, and as Linux's atkbd expects).
        this.ram[0] &= ~CB_KBD_DISABLE;
        this.keyboardWrite(value);
      } else {
        this.commandData(pending, value);
      }
    }
    this.refill();
  }

  private command(cmd: number): void {
    if ((cmd & RAM_COMMAND_MASK) === KbcCommand.ReadRam) {
      this.respond(this.ram[cmd & RAM_INDEX_MASK]);
      return;
    }
    if ((cmd & RAM_COMMAND_MASK) === KbcCommand.WriteRam) {
      this.pendingCommand = cmd;
      return;
    }
    if ((cmd & PULSE_MASK) === KbcCommand.Pulse) {
      // 0xFE pulses bit 0, the CPU reset line; 0xFF pulses nothing.
      if (!(cmd & OUTPORT_RESET)) this.wiring.onReset();
      return;
    }
    switch (cmd as KbcCommand) {
      case KbcCommand.DisableAux:
        this.ram[0] |= CB_AUX_DISABLE;
        break;
      case KbcCommand.EnableAux:
        this.ram[0] &= ~CB_AUX_DISABLE;
        break;
      case KbcCommand.TestAux:
      case KbcCommand.TestKbd:
        this.respond(INTERFACE_OK);
        break;
      case KbcCommand.SelfTest:
        this.sysFlag = true;
        this.respond(SELF_TEST_OK);
        break;
      case KbcCommand.DisableKbd:
        this.ram[0] |= CB_KBD_DISABLE;
        break;
      case KbcCommand.EnableKbd:
        this.ram[0] &= ~CB_KBD_DISABLE;
        break;
      case KbcCommand.ReadOutputPort:
        this.respond((this.outport & ~OUTPORT_OBF_BITS) | this.outportObfBits());
        break;
      case KbcCommand.WriteOutputPort:
      case KbcCommand.WriteKbdBuffer:
      case KbcCommand.WriteAuxBuffer:
      case KbcCommand.WriteAux:
        this.pendingCommand = cmd;
        break;
      case KbcCommand.DisableA20:
        this.setOutport(this.outport & ~OUTPORT_A20);
        break;
      case KbcCommand.EnableA20:
        this.setOutport(this.outport | OUTPORT_A20);
        break;
      case KbcCommand.ReadTestInputs:
        this.respond(0);
        break;
      default:
        break; // unknown commands are ignored, as by an 8042 without that firmware feature
    }
  }

  private commandData(cmd: number, value: number): void {
    if ((cmd & RAM_COMMAND_MASK) === KbcCommand.WriteRam) {
      const index = cmd & RAM_INDEX_MASK;
      this.ram[index] = value;
      if (index === 0) this.sysFlag = (value & CB_SYS) !== 0;
      return;
    }
    switch (cmd as KbcCommand) {
      case KbcCommand.WriteOutputPort:
        this.setOutport(value);
        break;
      case KbcCommand.WriteKbdBuffer:
        this.controllerQueue.push({ value, aux: false, timeout: false });
        break;
      case KbcCommand.WriteAuxBuffer:
        this.controllerQueue.push({ value, aux: true, timeout: false });
        break;
      case KbcCommand.WriteAux:
        // No AUX device answers: the controller reports a timeout with 0xFE from the AUX port.
        this.controllerQueue.push({ value: KBD_RESEND, aux: true, timeout: true });
        break;
      default:
        break;
    }
  }

  /** Output port bits 4 and 5 are the IRQ1 and IRQ12 outputs: a full buffer of each kind. */
  private outportObfBits(): number {
    if (!this.obf) return 0;
    return this.obfAux ? OUTPORT_AUX_OBF : OUTPORT_KBD_OBF;
  }

  private setOutport(value: number): void {
    const changed = this.outport ^ value;
    this.outport = value;
    if (changed & OUTPORT_A20) this.wiring.onA20((value & OUTPORT_A20) !== 0);
    // Output port bit 0 low holds the CPU in reset.
    if (!(value & OUTPORT_RESET)) this.wiring.onReset();
  }

  private respond(value: number): void {
    this.controllerQueue.push({ value, aux: false, timeout: false });
  }

  /** A byte from the host to the keyboard. */
  private keyboardWrite(value: number): void {
    const pending = this.kbdPendingCommand;
    this.kbdPendingCommand = undefined;
    switch (pending) {
      case KbdCommand.SetLeds:
        this.leds = value & 0b111;
        this.kbdSend(KBD_ACK);
        return;
      case KbdCommand.SetTypematic:
        this.kbdSend(KBD_ACK);
        return;
      case KbdCommand.ScanCodeSet:
        if (value === 0) {
          this.kbdSend(KBD_ACK, this.scanSet);
        } else if (value <= SCAN_SET_MAX) {
          this.scanSet = value;
          this.kbdSend(KBD_ACK);
        } else {
          this.kbdSend(KBD_RESEND);
        }
        return;
      default:
        break;
    }
    switch (value as KbdCommand) {
      case KbdCommand.SetLeds:
      case KbdCommand.SetTypematic:
      case KbdCommand.ScanCodeSet:
        this.kbdPendingCommand = value;
        this.kbdSend(KBD_ACK);
        break;
      case KbdCommand.Echo:
        this.kbdSend(KBD_ECHO);
        break;
      case KbdCommand.GetId:
        this.kbdSend(KBD_ACK, ...KBD_ID);
        break;
      case KbdCommand.Enable:
        this.scanning = true;
        this.kbdSend(KBD_ACK);
        break;
      case KbdCommand.ResetDisable:
        this.resetKeyboardDefaults();
        this.scanning = false;
        this.kbdSend(KBD_ACK);
        break;
      case KbdCommand.ResetEnable:
        this.resetKeyboardDefaults();
        this.scanning = true;
        this.kbdSend(KBD_ACK);
        break;
      case KbdCommand.Resend:
        this.kbdSend(this.lastKbdByte);
        break;
      case KbdCommand.Reset:
        this.resetKeyboard();
        this.kbdSend(KBD_ACK, KBD_BAT_OK); // ACK, then the basic assurance test passed
        break;
      default:
        if (value >= KbdCommand.SetAllTypematic && value <= KbdCommand.SetAllMakeBreakTypematic) {
          this.kbdSend(KBD_ACK);
        } else {
          this.kbdSend(KBD_RESEND);
        }
        break;
    }
  }

  private resetKeyboard(): void {
    this.kbdReplies = [];
    this.kbdKeys = [];
    this.kbdPendingCommand = undefined;
    this.scanning = true;
    this.resetKeyboardDefaults();
  }

  private resetKeyboardDefaults(): void {
    this.scanSet = SCAN_SET_DEFAULT;
    this.leds = 0;
  }

  /** Answers to commands go ahead of key codes still queued, so a driver's command gets its answer first. */
  private kbdSend(...bytes: number[]): void {
    this.kbdReplies.push(...bytes);
    this.lastKbdByte = bytes[bytes.length - 1] ?? KBD_RESEND;
  }

  /** Load the next byte into an empty output buffer: controller bytes first, then keyboard. */
  private refill(): void {
    if (!this.obf) {
      const fromController = this.controllerQueue.shift();
      if (fromController !== undefined) {
        this.load(fromController.value, fromController.aux, fromController.timeout);
      } else if (!(this.ram[0] & CB_KBD_DISABLE)) {
        this.loadFromKeyboard();
      }
    }
    this.updateIrqs();
  }

  private loadFromKeyboard(): void {
    const xlate = (this.ram[0] & CB_XLATE) !== 0;
    const reply = this.kbdReplies.shift();
    if (reply !== undefined) {
      this.load(xlate ? translate(reply) : reply, false, false);
      return;
    }
    for (;;) {
      const byte = this.kbdKeys.shift();
      if (byte === undefined) return;
      if (!xlate) {
        this.load(byte, false, false);
        return;
      }
      // Translation folds the set-2 break prefix into bit 7 of the next code.
      if (byte === SET2_BREAK_PREFIX) {
        this.breakPrefix = true;
        continue;
      }
      this.load(translate(byte) | (this.breakPrefix ? TRANSLATED_BREAK : 0), false, false);
      this.breakPrefix = false;
      return;
    }
  }

  private load(value: number, aux: boolean, timeout: boolean): void {
    this.output = value;
    this.obf = true;
    this.obfAux = aux;
    this.obfTimeout = timeout;
  }

  /** IRQ1 (keyboard) and IRQ12 (AUX) follow a full output buffer of their kind when enabled in the command byte. */
  private updateIrqs(): void {
    const cb = this.ram[0];
    const irq1 = this.obf && !this.obfAux && (cb & CB_KBD_INT) !== 0;
    const irq12 = this.obf && this.obfAux && (cb & CB_AUX_INT) !== 0;
    if (irq1 !== this.irq1Level) {
      this.irq1Level = irq1;
      if (irq1) this.wiring.irq1.raise();
      else this.wiring.irq1.lower();
    }
    if (irq12 !== this.irq12Level) {
      this.irq12Level = irq12;
      if (irq12) this.wiring.irq12.raise();
      else this.wiring.irq12.lower();
    }
  }
}

// Port 0x92, system control port A (Intel PIIX4 data sheet §4.2.1, "Port 92 Register").
export const PORT92_RESET = 0b0000_0001; // a 0-to-1 transition resets the CPU
export const PORT92_A20 = 0b0000_0010;
const PORT92_WRITABLE = PORT92_RESET | PORT92_A20;

export class Port92 implements IoDevice {
  private value = 0;

  constructor(
    private readonly onA20: (enabled: boolean) => void,
    private readonly onReset: () => void,
  ) {}

  /** Cleared on reset; the machine sets the A20 state of a reset itself. */
  reset(): void {
    this.value = 0;
  }

  read(offset: number, size: AccessSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= (offset + i === 0 ? this.value : 0xff) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset !== 0) return;
    const next = value & PORT92_WRITABLE;
    const changed = next ^ this.value;
    this.value = next;
    if (changed & PORT92_A20) this.onA20((next & PORT92_A20) !== 0);
    if (changed & next & PORT92_RESET) this.onReset();
  }
}
