// A machine: the core, the I/O and MMIO buses, the interrupt line into the CPU, and the clock. It runs the
// core in slices so the host's event loop stays responsive, fires device timers between slices, and sleeps
// while the guest is halted until the next timer or external event.
import * as L from '../layout/memory';
import type { AccessSize } from '../devices/device';
import { Core, Exit } from './core';
import type { JitOptions } from './jit';
import { IoBus, MmioBus } from './bus';
import { MachineClock, type TimeSource } from './clock';

/** The CPU's view of the interrupt controller (the PIC, later the LAPIC). */
export interface InterruptController {
  /** INTA: the vector of the highest-priority pending interrupt, or -1 if none remains. */
  acknowledge(): number;
}

/** How the machine waits: host-provided so the same loop runs in Node and in a browser Worker. */
export interface HostScheduler {
  /** Let other host work run (I/O callbacks, UI), then continue. */
  yield(): Promise<void>;
  /** Sleep up to `ms` milliseconds; resolves early when wake() is called. */
  sleep(ms: number): Promise<void>;
  /** End a sleep() early (an external event arrived: console input, network packet). */
  wake(): void;
}

export interface MachineOptions {
  module: WebAssembly.Module;
  memoryBytes: number;
  romBytes?: number;
  /**
   * Where virtual time comes from: a time source (the host's clock), or 'icount': instructions retired, one
   * nanosecond each, and a halted CPU skips ahead to the next timer. With 'icount' a run repeats exactly (as
   * QEMU's -icount): same input, same interrupts at the same instructions, with or without the JIT.
   */
  time: TimeSource | 'icount';
  scheduler: HostScheduler;
  /** Translate hot guest code to wasm (default true); options tune the translator (check mode). */
  jit?: boolean | JitOptions;
}

export type MachineExit =
  | { kind: 'poweroff' }
  | { kind: 'debug-exit'; status: number }
  | { kind: 'shutdown'; reason: string }
  | { kind: 'stopped' };

/** Instructions per slice at most: long enough to amortise the call, short enough that the host stays responsive. */
const SLICE_INSNS = 100_000;
/** A slice never ends before this many instructions, however close the next timer is. */
const MIN_SLICE_INSNS = 1_000;
/** Give the host event loop a turn at least this often (ms). */
const YIELD_EVERY_MS = 10;
/** Virtual nanoseconds per instruction retired with `time: 'icount'`. */
export const ICOUNT_NS = 1;

export class Machine {
  readonly core: Core;
  readonly io = new IoBus();
  readonly mmio = new MmioBus();
  readonly clock: MachineClock;
  interruptController: InterruptController | undefined;
  /** Called on a machine reset (triple fault, reset request) after the core was reset: devices reset here. */
  readonly resetHandlers: Array<() => void> = [];
  /** Called after every slice of CPU execution: devices that follow CPU state (FERR#) look here. */
  readonly afterSlice: Array<() => void> = [];
  private readonly scheduler: HostScheduler;
  private readonly cpu: DataView;
  private exitRequest: MachineExit | undefined;
  private resetRequested = false;
  resets = 0;
  /** Measured guest instructions per host nanosecond, to end slices at the next timer deadline. */
  private insnsPerNs = 0.02;
  /** With icount: virtual time counts instructions, plus the time skipped while halted. */
  private readonly icount: boolean;
  private skippedNs = 0;

  constructor(opts: MachineOptions) {
    this.icount = opts.time === 'icount';
    if (opts.time === 'icount') {
      const wall0 = Date.now();
      // The core (and its instruction counter) is made below; nothing reads the clock before it is.
      const nowNs = () => (this.cpu ? this.insnCount() * ICOUNT_NS : 0) + this.skippedNs;
      this.clock = new MachineClock({ nowNs, wallMs: () => wall0 + nowNs() / 1e6 });
    } else {
      this.clock = new MachineClock(opts.time);
    }
    this.scheduler = opts.scheduler;
    const io = this.io, mmio = this.mmio;
    this.core = Core.create({
      module: opts.module,
      ramBytes: opts.memoryBytes,
      romBytes: opts.romBytes ?? 0,
      jit: opts.jit ?? true,
      host: {
        ioRead: (port, size) => io.read(port, size as AccessSize),
        ioWrite: (port, size, value) => io.write(port, size as AccessSize, value),
        mmioRead: (addr, size) => mmio.read(addr, size as AccessSize),
        mmioWrite: (addr, size, value) => mmio.write(addr, size as AccessSize, value),
        intrAck: () => this.interruptController?.acknowledge() ?? -1,
        nowNs: () => this.clock.nowNs(),
        offClock: (work) => this.clock.offClock(work),
      },
    });
    this.cpu = this.core.cpuView();
  }

  /** Drive the CPU's INTR input (level). */
  setIntr(level: boolean): void {
    this.cpu.setUint32(L.CPU_INTR, level ? 1 : 0, true);
    if (level) this.scheduler.wake();
  }

  /** Drive the CPU's NMI input (edge). */
  raiseNmi(): void {
    this.cpu.setUint32(L.CPU_NMI, 1, true);
    this.scheduler.wake();
  }

  /** End run() with `exit` after the current instruction (power off from a device, a host request). */
  requestExit(exit: MachineExit): void {
    this.exitRequest ??= exit;
    this.cpu.setUint32(L.CPU_STOP, 1, true);
    this.scheduler.wake();
  }

  /** Reset the machine after the current instruction (a reset line from the keyboard controller or port 0xCF9). */
  requestReset(): void {
    this.resetRequested = true;
    this.cpu.setUint32(L.CPU_STOP, 1, true);
    this.scheduler.wake();
  }

  private reset(): void {
    this.resets++;
    this.core.reset();
    for (const h of this.resetHandlers) h();
  }

  /** Run until the guest powers off, the machine shuts down, or requestExit() is called. */
  async run(): Promise<MachineExit> {
    let lastYield = performance.now();
    for (;;) {
      this.clock.runDue();
      if (this.resetRequested) {
        this.resetRequested = false;
        this.reset();
      }
      if (this.exitRequest) return this.finish();
      this.cpu.setUint32(L.CPU_STOP, 0, true);
      // End the slice near the next timer deadline, so each timer edge (a PIT tick, an APIC timer) is delivered
      // on its own instead of several collapsing into one while the CPU runs on.
      const before = this.clock.nowNs();
      const next = this.clock.nextDeadline();
      let budget = SLICE_INSNS;
      const insnsPerNs = this.icount ? 1 / ICOUNT_NS : this.insnsPerNs;
      if (next !== Infinity) budget = Math.max(MIN_SLICE_INSNS, Math.min(SLICE_INSNS, Math.ceil((next - before) * insnsPerNs)));
      const count0 = this.insnCount();
      const exit = this.core.run(budget);
      const ran = this.insnCount() - count0;
      const took = this.clock.nowNs() - before;
      if (ran >= MIN_SLICE_INSNS && took > 0) this.insnsPerNs = 0.8 * this.insnsPerNs + 0.2 * (ran / took);
      for (const f of this.afterSlice) f();
      switch (exit) {
        case Exit.Reset:
          this.reset();
          break;
        case Exit.Shutdown:
          if (!this.exitRequest) return { kind: 'shutdown', reason: 'the CPU halted with interrupts disabled' };
          break;
        case Exit.Hlt: {
          this.clock.runDue();
          if (this.exitRequest || this.resetRequested || this.cpu.getUint32(L.CPU_INTR, true)) break;
          const next = this.clock.nextDeadline();
          if (this.icount && next !== Infinity) {
            // Nothing happens until the next timer: skip to it.
            this.skippedNs += Math.max(0, next - this.clock.nowNs());
            break;
          }
          const waitMs = next === Infinity ? 1000 : Math.max(0, (next - this.clock.nowNs()) / 1e6);
          await this.scheduler.sleep(waitMs);
          lastYield = performance.now();
          break;
        }
        default:
          break;
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await this.scheduler.yield();
        lastYield = performance.now();
      }
    }
  }

  private insnCount(): number { return Number(this.cpu.getBigUint64(L.CPU_INSN_COUNT, true)); }

  private finish(): MachineExit {
    const e = this.exitRequest!;
    this.exitRequest = undefined;
    return e;
  }
}
