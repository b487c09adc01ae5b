// CURVE against a man in the middle: a libzmq client's MESSAGE boxes pass a proxy that flips a byte
// or plays a box twice on the way to our server. The server must close that connection without
// delivering the bad frame, and other clients must go on working.

import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { curveKeyPair } from '../../src/protocol/curve-keys.js';
import { loadSodium } from '../../src/protocol/sodium.js';
import { Context } from '../../src/socket/context.js';
import { Pull } from '../../src/socket/push-pull.js';

beforeAll(() => loadSodium());
const open: { close(): void }[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
const keep = <T extends { close(): void }>(s: T): T => (open.push(s), s);

type Meddle = 'flip' | 'replay';

/**
 * A proxy to `port` that cuts the client's bytes into ZMTP frames (after the 64-octet greeting) and
 * meddles with the first data frame carrying a CURVE MESSAGE. Resolves with the proxy's port.
 */
async function meddlingProxy(port: number, how: Meddle): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    let pending = Buffer.alloc(0);
    let greeting = 64;
    let done = false;
    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      if (greeting > 0) {
        const n = Math.min(greeting, pending.length);
        out.push(pending.subarray(0, n));
        pending = pending.subarray(n);
        greeting -= n;
      }
      while (greeting === 0 && pending.length >= 2) {
        const long = (pending[0] & 0x02) !== 0;
        const header = long ? 9 : 2;
        if (pending.length < header) break;
        const size = long ? Number(pending.readBigUInt64BE(1)) : pending[1];
        if (pending.length < header + size) break;
        const frame = Buffer.from(pending.subarray(0, header + size));
        pending = pending.subarray(header + size);
        const body = frame.subarray(header);
        const isMessage = (frame[0] & 0x04) === 0 && body.subarray(0, 8).toString('latin1') === '\x07MESSAGE';
        if (isMessage && !done) {
          done = true;
          if (how === 'flip') frame[frame.length - 1] ^= 0x01;
          else out.push(frame); // the same box twice: the second has a nonce already seen
        }
        out.push(frame);
      }
      for (const b of out) upstream.write(b);
    });
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

for (const how of ['flip', 'replay'] as const) {
  describe(`CURVE box ${how === 'flip' ? 'tampered' : 'replayed'} on the way to our server`, () => {
    it('the connection closes, the bad frame is not delivered, and another client still gets through', async () => {
      const server = curveKeyPair();
      const a = curveKeyPair();
      const pull = keep(new Pull({ context: new Context(), curveServer: true, curveSecretKey: server.secretKey }));
      await pull.bind('tcp://127.0.0.1:*');
      const port = Number(pull.lastEndpoint!.split(':').pop());
      const proxy = await meddlingProxy(port, how);
      open.push({ close: () => proxy.server.close() });
      const disconnected = new Promise((resolve) => pull.events.on('disconnect', resolve));

      const victim = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: a.publicKey, curveSecretKey: a.secretKey, linger: 0, reconnectInterval: 60_000 }));
      victim.connect(`tcp://127.0.0.1:${proxy.port}`);
      await victim.send('first');
      await disconnected;

      const b = curveKeyPair();
      const honest = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: b.publicKey, curveSecretKey: b.secretKey, linger: 0 }));
      honest.connect(pull.lastEndpoint!);
      await honest.send('still works');
      // A replayed box delivers its first copy; a tampered one delivers nothing. Nothing else arrives.
      const received: string[] = [];
      for (;;) {
        const [frame] = await pull.receive();
        received.push(frame.toString());
        if (frame.toString() === 'still works') break;
      }
      expect(received).toEqual(how === 'replay' ? ['first', 'still works'] : ['still works']);
    });
  });
}
