// Opening a virtio-net backend from its configuration: the user network starts its port forwards (the tap
// backend has its own tests in tap.test.ts).
import { describe, it } from 'vitest';
import { connect, createServer, type AddressInfo } from 'node:net';
import { openNetBackend } from '../../src/node/net-backends';

const mac = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const log = () => {};

describe('network backends from the configuration', () => {
  it('opens the user network with its port forwards listening on the loopback', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const hostPort = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const net = await openNetBackend({ kind: 'user', restrict: false, hostfwd: [{ hostPort, guestAddr: undefined, guestPort: 22 }] }, { mac, log });
    const c = connect(hostPort, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
    c.destroy();
    await net.close();
  });
});
