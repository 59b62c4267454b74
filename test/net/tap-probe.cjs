// Runs inside a network namespace for test/net/tap.test.ts: attaches to a tap through the addon, prints every
// frame the kernel sends out of it ("rx HEX"), sends the frames given on stdin ("tx HEX"), and runs a UDP echo
// server on the host side of the link that answers "pong:" + the datagram. Exits when stdin closes.
'use strict';
const dgram = require('node:dgram');
const readline = require('node:readline');
const [addonPath, ifname, hostIp, udpPort] = process.argv.slice(2);
const tap = require(addonPath);
const handle = tap.open(ifname, (frame) => process.stdout.write(`rx ${frame.toString('hex')}\n`));
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, from) => udp.send(Buffer.concat([Buffer.from('pong:'), msg]), from.port, from.address));
udp.bind(Number(udpPort), hostIp, () => process.stdout.write(`ready ${tap.name(handle)}\n`));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.startsWith('tx ')) {
    const ok = tap.send(handle, Buffer.from(line.slice(3), 'hex'));
    process.stdout.write(`sent ${ok}\n`);
  }
}).on('close', () => {
  tap.close(handle);
  tap.close(handle); // idempotent
  udp.close();
  process.stdout.write(`closed dropped=${tap.dropped(handle)}\n`);
});
