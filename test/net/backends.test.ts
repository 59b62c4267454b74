// Opening a virtio-net backend from its configuration: the user network starts its port forwards, and tap says
// plainly that it cannot work here rather than failing later.
import { describe, expect, it } from 'vitest';
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

  it('reports tap as unavailable, naming the interface and the way out', async () => {
    await expect(openNetBackend({ kind: 'tap', ifname: 'tap0' }, { mac, log })).rejects.toThrow(/^tap is unavailable: opening tap0 .*user or socket/);
  });
});
