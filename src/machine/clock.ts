// The machine's clock and timer queue. Virtual time follows a time source (the host's monotonic clock in
// normal runs; a manual source in tests) and timers fire from the machine loop, never from host callbacks,
// so device code runs only between CPU slices.
import type { Clock, VirtualTimer } from '../devices/device';

export interface TimeSource {
  /** Monotonic nanoseconds. */
  nowNs(): number;
  /** Wall-clock milliseconds since the epoch. */
  wallMs(): number;
}

class Timer implements VirtualTimer {
  deadline = Infinity;
  constructor(private readonly queue: MachineClock, readonly callback: (nowNs: number) => void) {}
  arm(deadlineNs: number): void {
    this.deadline = deadlineNs;
    this.queue.changed(this);
  }
  disarm(): void {
    this.deadline = Infinity;
    this.queue.changed(this);
  }
}

export class MachineClock implements Clock {
  private readonly timers = new Set<Timer>();
  private readonly armed = new Set<Timer>();
  private origin: number;

  constructor(private readonly source: TimeSource) {
    this.origin = source.nowNs();
  }

  nowNs(): number { return this.source.nowNs() - this.origin; }

  /**
   * Run `work` outside virtual time: the host time it takes is not the guest's (compiling translated code), so
   * timers do not come due during it and the TSC does not advance.
   */
  offClock(work: () => void): void {
    const t0 = this.source.nowNs();
    try {
      work();
    } finally {
      this.origin += this.source.nowNs() - t0;
    }
  }
  wallMs(): number { return this.source.wallMs(); }

  timer(callback: (nowNs: number) => void): VirtualTimer {
    const t = new Timer(this, callback);
    this.timers.add(t);
    return t;
  }

  /** @internal */
  changed(t: Timer): void {
    if (t.deadline === Infinity) this.armed.delete(t);
    else this.armed.add(t);
  }

  /** The earliest armed deadline, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const t of this.armed) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /** Fire every timer whose deadline has passed, earliest first. Returns how many fired. */
  runDue(): number {
    let fired = 0;
    for (;;) {
      const now = this.nowNs();
      let due: Timer | undefined;
      for (const t of this.armed) if (t.deadline <= now && (!due || t.deadline < due.deadline)) due = t;
      if (!due) return fired;
      this.armed.delete(due);
      due.deadline = Infinity;
      due.callback(now);
      fired++;
    }
  }
}

/** The host's clocks, through the standard `performance` and `Date` globals (Node and browsers alike). */
export const hostTime: TimeSource = {
  nowNs: () => performance.now() * 1e6,
  wallMs: () => Date.now(),
};
