// Fakes for testing device models through their registers: an interrupt line that records what the chip did
// with it, and a clock whose time only moves when the test says so.
import type { Clock, IrqLine, VirtualTimer } from "../../src/devices/device";

/** An IrqLine that tracks its level and counts rising edges (raise() while low). */
export class FakeIrq implements IrqLine {
  level = false;
  /** Number of low-to-high transitions; a raise() on a line already high is not an edge. */
  raised = 0;

  raise(): void {
    if (!this.level) this.raised++;
    this.level = true;
  }

  lower(): void {
    this.level = false;
  }
}

interface ManualTimer {
  readonly callback: (nowNs: number) => void;
  deadlineNs: number | undefined;
  /** Order of arming, so that timers with equal deadlines fire in the order they were armed. */
  armedSeq: number;
}

/** A Clock whose virtual time advances only through advance()/advanceTo(), firing due timers in deadline order. */
export class ManualClock implements Clock {
  private now = 0;
  private seq = 0;
  private readonly timers: ManualTimer[] = [];

  constructor(private readonly wallAtZeroMs = Date.UTC(2024, 0, 1, 12, 0, 0)) {}

  nowNs(): number {
    return this.now;
  }

  wallMs(): number {
    return this.wallAtZeroMs + this.now / 1e6;
  }

  timer(callback: (nowNs: number) => void): VirtualTimer {
    const t: ManualTimer = { callback, deadlineNs: undefined, armedSeq: 0 };
    this.timers.push(t);
    return {
      arm: (deadlineNs: number) => {
        t.deadlineNs = deadlineNs;
        t.armedSeq = this.seq++;
      },
      disarm: () => {
        t.deadlineNs = undefined;
      },
    };
  }

  advance(ns: number): void {
    this.advanceTo(this.now + ns);
  }

  /** Move time to `targetNs`, firing every timer whose deadline is reached, earliest first, at its deadline. */
  advanceTo(targetNs: number): void {
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.deadlineNs === undefined || t.deadlineNs > targetNs) continue;
        if (next === undefined || t.deadlineNs < next.deadlineNs! ||
            (t.deadlineNs === next.deadlineNs && t.armedSeq < next.armedSeq)) next = t;
      }
      if (next === undefined) break;
      this.now = Math.max(this.now, next.deadlineNs!);
      next.deadlineNs = undefined;
      next.callback(this.now);
    }
    this.now = Math.max(this.now, targetNs);
  }

  /** The earliest armed deadline, or undefined when no timer is armed. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) {
      if (t.deadlineNs !== undefined && (min === undefined || t.deadlineNs < min)) min = t.deadlineNs;
    }
    return min;
  }
}
