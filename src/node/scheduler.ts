// The machine loop's waits in Node: setImmediate to yield; sleeps are TimerScheduler's.
import { TimerScheduler } from '../machine/scheduler';

export class NodeScheduler extends TimerScheduler {
  protected hostYield(): Promise<void> { return new Promise((resolve) => setImmediate(resolve)); }
}
