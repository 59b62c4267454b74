// The page's network backend: Ethernet frames over a WebSocket to `wasmpc relay` (src/node/relay.ts), one frame
// per binary message both ways; the relay runs the user-mode NAT. Once open, a connection that closes leaves
// the NIC with nowhere to send: frames from the guest are dropped, as on a cable pulled out.
import { MAX_FRAME, MIN_FRAME, type NetBackend } from '../net/backend';

/** How long the relay has to accept the connection before the boot fails. */
const OPEN_TIMEOUT_MS = 10_000;

export class WebSocketNetBackend implements NetBackend {
  private deliver: (frame: Uint8Array) => void = () => {};

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (event: MessageEvent<unknown>) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      const frame = new Uint8Array(event.data);
      if (frame.length >= MIN_FRAME && frame.length <= MAX_FRAME) this.deliver(frame);
    };
  }

  /** Connect to the relay at `url`; rejects with an Error naming the URL when it cannot be reached. */
  static open(url: string): Promise<WebSocketNetBackend> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        reject(new Error(`?net=${url}: ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
      ws.binaryType = 'arraybuffer';
      const unreachable = (why: string) => {
        clearTimeout(timer);
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        reject(new Error(`?net=${url}: cannot reach the relay (${why}); is \`wasmpc relay --listen ${new URL(url).host}\` running?`));
      };
      const timer = setTimeout(() => unreachable(`no answer in ${OPEN_TIMEOUT_MS / 1000} s`), OPEN_TIMEOUT_MS);
      ws.onerror = () => unreachable('the connection failed');
      ws.onclose = () => unreachable('the connection closed');
      ws.onopen = () => {
        clearTimeout(timer);
        ws.onopen = ws.onerror = ws.onclose = null;
        resolve(new WebSocketNetBackend(ws));
      };
    });
  }

  send(frame: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // WebSocket.send copies what it is given, so the caller may reuse `frame`.
    this.ws.send(frame);
  }

  onReceive(cb: (frame: Uint8Array) => void): void { this.deliver = cb; }

  async close(): Promise<void> {
    this.deliver = () => {};
    this.ws.onmessage = null;
    this.ws.close();
  }
}
