// The timer half of a HostScheduler, the same in Node and in a browser Worker: sleep() on setTimeout, cut
// short by wake(). How to yield differs per host, so subclasses supply yield().
import type { HostScheduler } from './machine';

export abstract class TimerScheduler implements HostScheduler {
  private wakeUp: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A cell to block on with Atomics.wait; absent where the host forbids it. */
  private readonly cell = blockingCell();

  abstract yield(): Promise<void>;

  /**
   * Resolve after `ms` (or at wake()), not before. setTimeout drops the fraction of a millisecond (3.8 ms fired
   * after 3.1) and counts from the event loop's clock, read when the loop last woke: an early timer got the
   * machine a slice that found its deadline not yet due and a second trip through the event loop (an idle
   * Linux guest's 250 ticks a second took ~440 wakeups, ~200 of them early). The timer is rounded up, and
   * what is left when it still fires early is waited out blocking.
   */
  sleep(ms: number): Promise<void> {
    const until = performance.now() + ms;
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.wakeUp = undefined;
        const rest = until - performance.now();
        if (!woken && this.cell && rest > 0) Atomics.wait(this.cell, 0, 0, rest);
        resolve();
      };
      this.wakeUp = () => done(true);
      this.timer = setTimeout(() => done(false), Math.ceil(ms));
    });
  }

  wake(): void { this.wakeUp?.(); }
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
