// The host side of a UART, host-neutral: what a console (a Node terminal, a file, a TCP port, a browser tab)
// offers the PC, and the output buffer and input queue they share.
//
// Output: the guest writes one byte at a time (the UART's tx callback); bytes collect in a buffer that is
// flushed once per turn of the host's event loop, so a guest printing a boot log costs one write (or one
// message to a page) per turn, not per byte.
//
// Input has back-pressure end to end. The UART takes only rxSpace() bytes; the rest wait in the queue and are
// offered again when the guest may have read: the UART does not report reads, so while input waits the queue
// retries on a short timer (one turn of the host's event loop while the machine is running), and the machine
// calls pump() after a run slice to offer it sooner. When much input waits, the host source is paused until it
// drains, so a large paste or a piped file never piles up in memory.

/** The host side of a UART (Uart16550 fits). */
export interface ConsoleSink {
  /** Bytes the receiver can take now. */
  rxSpace(): number;
  receive(bytes: Uint8Array): void;
}

/** A console as the PC sees it: where one UART's output goes and its input comes from. */
export interface SerialConsole {
  /** Connect the UART; `wake` is called after input was handed to it (it ends a halted machine's sleep). */
  attach(sink: ConsoleSink, wake: () => void): void;
  /** A byte the guest sent: pass `(b) => console.write(b)` as the UART's tx. */
  write(byte: number): void;
  /** Offer waiting input to the sink again (the guest may have read). Cheap when nothing waits. */
  pump(): void;
}

/** Waiting input beyond this pauses the host source; it resumes once everything was taken. */
const INPUT_HIGH_WATER = 64 * 1024;
/** How soon waiting input is offered again (ms). */
const INPUT_RETRY_MS = 1;

/** Output buffered within one event-loop turn before it is written out anyway. */
const OUTPUT_CHUNK = 64 * 1024;

/** Guest output collected per event-loop turn and handed to `flushTo` in one piece. */
export class OutputBuffer {
  private buf = new Uint8Array(OUTPUT_CHUNK);
  private length = 0;
  private scheduled = false;

  /** `nextTurn` runs its callback on the host's next event-loop turn (setImmediate in Node). */
  constructor(private readonly flushTo: (bytes: Uint8Array) => void, private readonly nextTurn: (run: () => void) => unknown) {}

  write(byte: number): void {
    this.buf[this.length++] = byte;
    if (this.length === this.buf.length) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.nextTurn(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.length === 0) return;
    const bytes = this.buf.slice(0, this.length);
    this.length = 0;
    this.flushTo(bytes);
  }
}

/** Input waiting for the UART: chunks from the host, handed over as rxSpace() allows, in order. */
export class InputQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already handed over. */
  private offset = 0;
  private waiting = 0;
  private sink: ConsoleSink | undefined;
  private wake: () => void = () => {};
  private retry: ReturnType<typeof setTimeout> | undefined;
  private paused = false;

  /** `pause`/`resume` stop and restart the host source feeding this queue. */
  constructor(private readonly pause: () => void, private readonly resume: () => void) {}

  attach(sink: ConsoleSink, wake: () => void): void {
    this.sink = sink;
    this.wake = wake;
    this.pump();
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.waiting += bytes.length;
    this.pump();
    if (this.waiting > INPUT_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.pause();
    }
  }

  pump(): void {
    if (!this.sink || this.waiting === 0) return;
    let space = this.sink.rxSpace();
    let moved = 0;
    while (space > 0 && this.waiting > 0) {
      const chunk = this.chunks[0]!;
      const n = Math.min(space, chunk.length - this.offset);
      this.sink.receive(chunk.subarray(this.offset, this.offset + n));
      this.offset += n;
      this.waiting -= n;
      space -= n;
      moved += n;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    if (moved > 0) this.wake();
    if (this.waiting > 0) {
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.pump();
      }, INPUT_RETRY_MS);
      // In Node, waiting input alone does not keep the process alive (browsers have no unref).
      (this.retry as { unref?: () => void }).unref?.();
    } else if (this.paused) {
      this.paused = false;
      this.resume();
    }
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.chunks = [];
    this.waiting = 0;
    this.sink = undefined;
  }
}
