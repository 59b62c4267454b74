// The machine loop's host in a Web Worker: how it yields and sleeps, and the clock it follows.
import { TimerScheduler } from '../machine/scheduler';
import type { TimeSource } from '../machine/clock';

/**
 * Yields through a MessageChannel: a message is a task of its own, so the Worker's other tasks (page messages,
 * timers) get their turn, without setTimeout(0)'s clamp to 4 ms once timeouts nest.
 */
export class WorkerScheduler extends TimerScheduler {
  private readonly channel = new MessageChannel();
  private readonly waiting: Array<() => void> = [];

  constructor() {
    super();
    this.channel.port1.onmessage = () => this.waiting.shift()?.();
  }

  protected hostYield(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.channel.port2.postMessage(null);
    });
  }
}

/**
 * The host's monotonic clock with the paused stretches taken out, so a paused guest sees no time pass: its
 * timers neither fire in a burst nor report lost ticks when it resumes. The wall clock (the RTC's) runs on.
 */
export class PausableTime implements TimeSource {
  private pausedAtMs: number | undefined;
  private pausedMs = 0;

  nowNs(): number { return ((this.pausedAtMs ?? performance.now()) - this.pausedMs) * 1e6; }
  wallMs(): number { return Date.now(); }

  pause(): void { this.pausedAtMs ??= performance.now(); }

  resume(): void {
    if (this.pausedAtMs === undefined) return;
    this.pausedMs += performance.now() - this.pausedAtMs;
    this.pausedAtMs = undefined;
  }
}
