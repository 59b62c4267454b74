// The timer half of a HostScheduler, the same in Node and in a browser Worker: sleep() on setTimeout, cut
// short by wake(), or blocking once the host has been quiet for a while (deep idle). How to yield differs per
// host, so subclasses supply hostYield().
import type { HostScheduler } from './machine';

/** Deep idle begins after this long without an event from the host (console input, a packet, a message). */
export const QUIET_MS = 1000;
/** In deep idle the event loop still gets a turn this often: the most an event from the host waits. */
export const TURN_EVERY_MS = 20;

export abstract class TimerScheduler implements HostScheduler {
  private wakeUp: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A cell to block on with Atomics.wait; absent where the host forbids it. */
  private readonly cell = blockingCell();
  /** The machine has handed the thread to the event loop (a sleep on a timer, a yield): wake() comes from there. */
  private away = false;
  /** When wake() last came from the event loop, and when the event loop last had a turn (performance.now()). */
  private lastEvent = performance.now();
  private lastTurn = -Infinity;
  /** Sleeps spent blocking (deep idle), for tests and statistics. */
  blockingSleeps = 0;

  /** Let the host's other tasks run (the event loop's turn). */
  protected abstract hostYield(): Promise<void>;

  yield(): Promise<void> {
    this.away = true;
    return this.hostYield().then(() => this.back());
  }

  /**
   * Resolve after `ms` (or at wake()), not before. setTimeout drops the fraction of a millisecond (3.8 ms fired
   * after 3.1) and counts from the event loop's clock, read when the loop last woke: an early timer got the
   * machine a slice that found its deadline not yet due and a second trip through the event loop (an idle
   * Linux guest's 250 ticks a second took ~440 wakeups, ~200 of them early). The timer is rounded up, and
   * what is left when it still fires early is waited out blocking.
   *
   * Deep idle: once no event has come from the host for QUIET_MS, sleeps block (Atomics.wait) instead, and
   * every TURN_EVERY_MS one goes through the event loop as above. A wakeup through Node's event loop costs
   * ~85 us of CPU against ~50 for a blocking wait (a bare loop of 250 a second, each way), and an idle Linux
   * guest wakes 250 times a second for its timer tick. The price is latency: an event from the host that
   * ends a quiet second waits up to TURN_EVERY_MS for the loop's turn; the next QUIET_MS are served at once.
   */
  sleep(ms: number): Promise<void> {
    let now = performance.now();
    const until = now + ms;
    if (this.cell && now - this.lastEvent >= QUIET_MS && now - this.lastTurn < TURN_EVERY_MS) {
      const wait = Math.min(ms, this.lastTurn + TURN_EVERY_MS - now);
      this.blockingSleeps++;
      Atomics.wait(this.cell, 0, 0, wait);
      if (wait >= ms) return Promise.resolve();
      now = performance.now();
    }
    this.away = true;
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.wakeUp = undefined;
        this.back();
        const rest = until - performance.now();
        if (!woken && this.cell && rest > 0) Atomics.wait(this.cell, 0, 0, rest);
        resolve();
      };
      this.wakeUp = () => done(true);
      this.timer = setTimeout(() => done(false), Math.max(0, Math.ceil(until - now)));
    });
  }

  wake(): void {
    if (this.away) this.lastEvent = performance.now();
    this.wakeUp?.();
  }

  /** The machine has the thread again after the event loop's turn. */
  private back(): void {
    this.away = false;
    this.lastTurn = performance.now();
  }
}

/**
 * An Int32Array over shared memory that Atomics.wait may block on here, or undefined (no SharedArrayBuffer
 * without cross-origin isolation; a window's main thread may not block).
 */
function blockingCell(): Int32Array | undefined {
  if (typeof SharedArrayBuffer === 'undefined') return undefined;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  try {
    Atomics.wait(cell, 0, 0, 0);
    return cell;
  } catch {
    return undefined;
  }
}
