// The machine's sleeps: never shorter than asked (a timer deadline that is not due yet costs the machine a
// wasted slice and a second trip through the event loop), and cut short by wake().
import { describe, it, expect } from 'vitest';
import { NodeScheduler } from '../../src/node/scheduler';

/** Keep the thread busy for `ms`: the event loop's cached clock goes stale by as much. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

describe('TimerScheduler', () => {
  it('does not wake before the time asked: fractions of a millisecond, a stale event-loop clock', async () => {
    const s = new NodeScheduler();
    for (let i = 0; i < 10; i++) {
      // setTimeout alone dropped the 0.8 and counted from the loop's clock, read before this turn's work.
      await new Promise((resolve) => setImmediate(resolve));
      busy(i % 2 === 0 ? 0 : 2);
      const t0 = performance.now();
      await s.sleep(3.8);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3.8);
    }
  });

  it('wake() ends a sleep early', async () => {
    const s = new NodeScheduler();
    const t0 = performance.now();
    setTimeout(() => s.wake(), 5);
    await s.sleep(10_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
