// The 16550A through its registers. Expected values come from the PC16550D data sheet (sections cited).
import { beforeEach, describe, expect, it } from "vitest";
import { UartReg, Uart16550 } from "../../src/devices/uart16550";
import { FakeIrq } from "./helpers";

// Bit values written out from the data sheet rather than imported, so a wrong constant in the model shows up.
const IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08;
const FCR_ENABLE = 0x01, FCR_RX_RESET = 0x02;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
// IIR values, Table IV (bits 7..6 are set when FIFOs are enabled).
const IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_CTI = 0x0c, IIR_THRE = 0x02, IIR_MSI = 0x00;
const IIR_FIFO = 0xc0;

describe("Uart16550", () => {
  let irq: FakeIrq;
  let sent: number[];
  let uart: Uart16550;
  const rd = (reg: UartReg) => uart.read(reg, 1);
  const wr = (reg: UartReg, v: number) => uart.write(reg, 1, v);

  beforeEach(() => {
    irq = new FakeIrq();
    sent = [];
    uart = new Uart16550(irq, (b) => sent.push(b));
    uart.reset();
  });

  it("resets to LSR 0x60 and IIR with no interrupt pending (Table III)", () => {
    expect(rd(UartReg.Lsr)).toBe(LSR_THRE | LSR_TEMT);
    expect(rd(UartReg.Iir)).toBe(IIR_NONE);
    expect(rd(UartReg.Ier)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it("writing THR sends the byte to the backend at once", () => {
    wr(UartReg.Data, 0x41);
    wr(UartReg.Data, 0x42);
    expect(sent).toEqual([0x41, 0x42]);
    expect(rd(UartReg.Lsr) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
  });

  it("DLAB switches offsets 0 and 1 to the divisor latch", () => {
    wr(UartReg.Lcr, LCR_DLAB);
    wr(UartReg.Data, 0x0c);
    wr(UartReg.Ier, 0x00);
    expect(sent).toEqual([]);
    expect(rd(UartReg.Data)).toBe(0x0c);
    wr(UartReg.Lcr, 0x03);
    expect(rd(UartReg.Ier)).toBe(0);
    wr(UartReg.Lcr, LCR_DLAB | 0x03);
    expect(rd(UartReg.Data)).toBe(0x0c);
  });

  it("scratch register holds what was written", () => {
    wr(UartReg.Scr, 0x5a);
    expect(rd(UartReg.Scr)).toBe(0x5a);
  });

  it("THRE interrupt is raised when ETBEI is enabled with THR empty", () => {
    wr(UartReg.Mcr, MCR_OUT2);
    wr(UartReg.Ier, IER_ETBEI);
    expect(irq.level).toBe(true);
    expect(irq.raised).toBe(1);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
  });

  it("reading IIR clears a THRE interrupt and re-enabling ETBEI raises it again", () => {
    wr(UartReg.Mcr, MCR_OUT2);
    wr(UartReg.Ier, IER_ETBEI);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
    // Table IV: THRE is reset by reading IIR when it is the source.
    expect(rd(UartReg.Iir)).toBe(IIR_NONE);
    expect(irq.level).toBe(false);
    // Linux's UART_BUG_THRE test: IER=0 then IER=THRI must report THRE again.
    wr(UartReg.Ier, 0);
    wr(UartReg.Ier, IER_ETBEI);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
    expect(irq.raised).toBe(2);
  });

  it("writing THR re-arms the THRE interrupt for the next byte", () => {
    wr(UartReg.Mcr, MCR_OUT2);
    wr(UartReg.Ier, IER_ETBEI);
    rd(UartReg.Iir);
    expect(irq.level).toBe(false);
    wr(UartReg.Data, 0x31);
    expect(irq.level).toBe(true);
    expect(irq.raised).toBe(2);
  });

  it("the interrupt line stays low without OUT2, while IIR still reports the source", () => {
    wr(UartReg.Ier, IER_ETBEI);
    expect(irq.level).toBe(false);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
  });

  it("received data sets DR and raises RDA in 16450 mode", () => {
    wr(UartReg.Mcr, MCR_OUT2);
    wr(UartReg.Ier, IER_ERBFI);
    uart.receive([0x61]);
    expect(rd(UartReg.Lsr) & LSR_DR).toBe(LSR_DR);
    expect(rd(UartReg.Iir)).toBe(IIR_RDA);
    expect(irq.level).toBe(true);
    expect(rd(UartReg.Data)).toBe(0x61);
    expect(rd(UartReg.Lsr) & LSR_DR).toBe(0);
    expect(irq.level).toBe(false);
  });

  it("host input that does not fit waits and drains as the guest reads, without overrun", () => {
    uart.receive([1, 2, 3]);
    expect(uart.rxSpace()).toBe(0);
    const got = [];
    while (rd(UartReg.Lsr) & LSR_DR) got.push(rd(UartReg.Data));
    expect(got).toEqual([1, 2, 3]);
    expect(rd(UartReg.Lsr) & LSR_OE).toBe(0);
    expect(uart.rxSpace()).toBe(1);
  });

  it("the receiver FIFO holds 16 bytes and rxSpace counts down", () => {
    wr(UartReg.Iir, FCR_ENABLE);
    expect(uart.rxSpace()).toBe(16);
    uart.receive(new Uint8Array(10));
    expect(uart.rxSpace()).toBe(6);
    uart.receive(new Uint8Array(10));
    expect(uart.rxSpace()).toBe(0);
    for (let i = 0; i < 20; i++) rd(UartReg.Data);
    expect(rd(UartReg.Lsr) & (LSR_DR | LSR_OE)).toBe(0);
  });

  it("IIR reports FIFOs enabled in bits 7..6 (§8.6)", () => {
    wr(UartReg.Iir, FCR_ENABLE);
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_NONE);
    wr(UartReg.Iir, 0);
    expect(rd(UartReg.Iir)).toBe(IIR_NONE);
  });

  it("RDA is reported at the trigger level and character timeout below it (§8.10)", () => {
    wr(UartReg.Iir, FCR_ENABLE | 0b0100_0000); // trigger level 4
    wr(UartReg.Ier, IER_ERBFI);
    uart.receive([1, 2, 3]);
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_CTI);
    uart.receive([4]);
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_RDA);
    rd(UartReg.Data); // below the trigger level again: RDA resets, the timeout remains
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_CTI);
  });

  it("trigger level 14 needs fourteen characters", () => {
    wr(UartReg.Iir, FCR_ENABLE | 0b1100_0000);
    wr(UartReg.Ier, IER_ERBFI);
    uart.receive(new Uint8Array(13));
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_CTI);
    uart.receive([0]);
    expect(rd(UartReg.Iir)).toBe(IIR_FIFO | IIR_RDA);
  });

  it("FCR receiver reset empties the FIFO (§8.5)", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    wr(UartReg.Iir, FCR_ENABLE);
    wr(UartReg.Data, 1);
    wr(UartReg.Data, 2);
    wr(UartReg.Iir, FCR_ENABLE | FCR_RX_RESET);
    expect(rd(UartReg.Lsr) & LSR_DR).toBe(0);
  });

  it("loopback returns transmitted bytes to the receiver instead of the line", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    wr(UartReg.Data, 0x55);
    expect(sent).toEqual([]);
    expect(rd(UartReg.Lsr) & LSR_DR).toBe(LSR_DR);
    expect(rd(UartReg.Data)).toBe(0x55);
  });

  it("loopback keeps host input waiting until loopback ends", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    uart.receive([0x7a]);
    expect(rd(UartReg.Lsr) & LSR_DR).toBe(0);
    wr(UartReg.Mcr, 0);
    expect(rd(UartReg.Data)).toBe(0x7a);
  });

  it("an overrun in 16450 mode sets OE, keeps the newest byte and raises line status first", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    wr(UartReg.Ier, IER_ELSI | IER_ERBFI | IER_ETBEI);
    wr(UartReg.Data, 1);
    wr(UartReg.Data, 2);
    // Table IV: receiver line status has the highest priority.
    expect(rd(UartReg.Iir)).toBe(IIR_RLS);
    expect(rd(UartReg.Lsr) & LSR_OE).toBe(LSR_OE);
    expect(rd(UartReg.Lsr) & LSR_OE).toBe(0); // cleared by the previous read
    expect(rd(UartReg.Iir)).toBe(IIR_RDA);
    expect(rd(UartReg.Data)).toBe(2);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
  });

  it("an overrun in FIFO mode keeps the sixteen bytes and loses the seventeenth (§8.4)", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    wr(UartReg.Iir, FCR_ENABLE);
    for (let i = 0; i < 17; i++) wr(UartReg.Data, i);
    expect(rd(UartReg.Lsr) & LSR_OE).toBe(LSR_OE);
    const got = [];
    while (rd(UartReg.Lsr) & LSR_DR) got.push(rd(UartReg.Data));
    expect(got).toEqual([...Array(16).keys()]);
  });

  it("loopback reflects MCR bits in MSR: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2 (§8.8)", () => {
    // Linux's autoconfig test: MCR = LOOP | OUT2 | RTS must read MSR bits 7..4 as 1001.
    wr(UartReg.Mcr, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    rd(UartReg.Msr);
    wr(UartReg.Mcr, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    expect(rd(UartReg.Msr) & 0xf0).toBe(0x90);
    wr(UartReg.Mcr, MCR_LOOP | MCR_DTR | MCR_OUT1);
    expect(rd(UartReg.Msr) & 0xf0).toBe(0x60);
  });

  it("MSR delta bits record changes and clear on read, TERI only on the trailing edge of RI (§8.9)", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    rd(UartReg.Msr);
    wr(UartReg.Mcr, MCR_LOOP | MCR_RTS | MCR_OUT1);
    expect(rd(UartReg.Msr)).toBe(0x10 | 0x40 | 0x01); // CTS, RI, DCTS; no TERI on RI's leading edge
    expect(rd(UartReg.Msr)).toBe(0x10 | 0x40);
    wr(UartReg.Mcr, MCR_LOOP | MCR_RTS);
    expect(rd(UartReg.Msr)).toBe(0x10 | 0x04);
    wr(UartReg.Mcr, MCR_LOOP | MCR_DTR | MCR_OUT2 | MCR_RTS);
    expect(rd(UartReg.Msr) & 0x0f).toBe(0x02 | 0x08);
  });

  it("modem status interrupt has the lowest priority and clears on MSR read", () => {
    wr(UartReg.Mcr, MCR_LOOP);
    rd(UartReg.Msr);
    wr(UartReg.Ier, IER_EDSSI | IER_ETBEI);
    wr(UartReg.Mcr, MCR_LOOP | MCR_DTR);
    expect(rd(UartReg.Iir)).toBe(IIR_THRE);
    expect(rd(UartReg.Iir)).toBe(IIR_MSI);
    rd(UartReg.Msr);
    expect(rd(UartReg.Iir)).toBe(IIR_NONE);
  });

  it("loopback gates the interrupt output even with OUT2 set (§8.8: OUT2 pin forced inactive)", () => {
    wr(UartReg.Mcr, MCR_LOOP | MCR_OUT2);
    wr(UartReg.Ier, IER_ETBEI);
    expect(irq.level).toBe(false);
    wr(UartReg.Mcr, MCR_OUT2);
    expect(irq.level).toBe(true);
  });

  it("garbage in any register never throws and reads outside the block float high", () => {
    for (let reg = 0; reg < 8; reg++) {
      for (const v of [0, 0xff, 0x1234, -1]) uart.write(reg, 1, v);
      uart.read(reg, 1);
    }
    expect(uart.read(9, 1)).toBe(0xff);
    uart.write(3, 2, 0x0300); // a 16-bit write covers LCR and MCR
    expect(rd(UartReg.Lcr)).toBe(0);
    expect(rd(UartReg.Mcr)).toBe(0x03);
  });
});
