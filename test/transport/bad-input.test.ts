// Raw node:net peers that break ZMTP. Each bad connection is closed with the right event, and the
// socket and its other peers go on working.
//
//   raw client ──bad bytes──▶ ┐
//                             ├─ our PULL (bound)   → the raw stream closes, an event names why
//   good PUSH ──"still ok"──▶ ┘                     → the good message still arrives

import { connect as netConnect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import type { EventType } from '../../src/socket/events.js';
import {
  closedStream, greeting, handshakeBytes, nextEvent, own, rawServer, reconnectIntervals, recordEvents, text, track,
} from './helpers.js';

/** A bound PULL with one well-behaved PUSH already connected. */
async function bench(options: { maxMessageSize?: number } = {}) {
  const context = new Context();
  const pull = track(new Pull({ context, ...options }));
  await pull.bind('tcp://127.0.0.1:*');
  const port = Number(pull.lastEndpoint!.split(':').pop());
  const good = track(new Push({ context }));
  const up = nextEvent(pull, 'handshake');
  good.connect(pull.lastEndpoint!);
  await up;
  let n = 0;
  return {
    pull,
    /** Opens a raw client to the PULL. */
    raw: (): NetSocket => own(netConnect(port, '127.0.0.1')),
    /** The good peer still gets a message through. */
    async stillWorks() {
      const body = `still ok ${n++}`;
      await good.send(body);
      expect(text(await pull.receive())).toEqual([body]);
    },
  };
}

/** Writes `bytes` from a raw client and waits for our side to close it with event `type`. */
async function refused(b: Awaited<ReturnType<typeof bench>>, bytes: Buffer, type: EventType, code?: string) {
  const event = nextEvent(b.pull, type);
  const raw = b.raw();
  raw.write(bytes);
  const e = await event;
  await closedStream(raw);
  if (code !== undefined) expect(e.error?.code).toBe(code);
  expect(e.address).toBe(b.pull.lastEndpoint);
  return e;
}

describe('bad input on an accepted connection', () => {
  it('greeting octet 0 is not 0xFF (ZMTP 1.0): handshake:error:protocol', async () => {
    const b = await bench();
    await refused(b, greeting({ first: 0 }), 'handshake:error:protocol', 'ERR_ZMTP_UNSUPPORTED_VERSION');
    await b.stillWorks();
  });

  it('a ZMTP 2.0 greeting (major 1) is refused as soon as octet 10 arrives', async () => {
    const b = await bench();
    // Only 11 octets: a legacy peer may wait for us before sending more.
    await refused(b, greeting({ major: 1 }).subarray(0, 11), 'handshake:error:protocol', 'ERR_ZMTP_UNSUPPORTED_VERSION');
    await b.stillWorks();
  });

  it('an unknown mechanism, and PLAIN against our NULL: mechanism mismatch', async () => {
    const b = await bench();
    await refused(b, greeting({ mechanism: 'FOO' }), 'handshake:error:protocol', 'ERR_ZMTP_MECHANISM_MISMATCH');
    await refused(b, greeting({ mechanism: 'PLAIN' }), 'handshake:error:protocol', 'ERR_ZMTP_MECHANISM_MISMATCH');
    await b.stillWorks();
  });

  it('an incompatible socket type (PUB to our PULL) is refused in the handshake, never attached', async () => {
    const b = await bench();
    const events = recordEvents(b.pull);
    const e = await refused(b, handshakeBytes('PUB'), 'handshake:error:protocol', 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
    expect(e.error?.message).toContain('PUB');
    // As libzmq: the stream was accepted (ACCEPTED), its handshake failed, it never became a peer.
    const types = events.map((x) => x.type);
    expect(types.indexOf('accept')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('accept')).toBeLessThan(types.indexOf('handshake:error:protocol'));
    expect(types).not.toContain('handshake');
    expect(b.pull.getSnapshot().context.peers.size).toBe(1); // only the good PUSH
    await b.stillWorks();
  });

  it('a message before READY is an unexpected command', async () => {
    const b = await bench();
    const bytes = Buffer.concat([greeting(), Buffer.from([0x00, 0x01, 0x41])]);
    await refused(b, bytes, 'handshake:error:protocol', 'ERR_ZMTP_UNEXPECTED_COMMAND');
    await b.stillWorks();
  });

  it('a command frame whose name overruns its body is malformed', async () => {
    const b = await bench();
    const bytes = Buffer.concat([greeting(), Buffer.from([0x04, 0x02, 0x09, 0x41])]);
    await refused(b, bytes, 'handshake:error:protocol', 'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
    await b.stillWorks();
  });

  it('a frame over maxMessageSize after the handshake: disconnect; what came before is delivered', async () => {
    const b = await bench({ maxMessageSize: 100 });
    const ok = Buffer.from([0x00, 0x02, 0x68, 0x69]); // "hi"
    const tooBig = Buffer.concat([Buffer.from([0x00, 0xc8]), Buffer.alloc(200)]);
    const raw = b.raw();
    const attached = nextEvent(b.pull, 'handshake', (e) => e.peer?.socketType === 'PUSH' && e.peer.remoteAddress !== undefined);
    const gone = nextEvent(b.pull, 'disconnect');
    raw.write(Buffer.concat([handshakeBytes('PUSH'), ok, tooBig]));
    await attached;
    const e = await gone;
    expect(e.error?.code).toBe('EMSGSIZE');
    expect(e.error?.message).toContain('maxMessageSize');
    await closedStream(raw);
    expect(text(await b.pull.receive())).toEqual(['hi']);
    await b.stillWorks();
  });

  it('a truncated stream: the cut message is discarded, the whole one before it delivered', async () => {
    const b = await bench();
    const raw = b.raw();
    const attached = nextEvent(b.pull, 'handshake', (e) => e.peer?.socketType === 'PUSH' && e.peer.remoteAddress !== undefined);
    const gone = nextEvent(b.pull, 'disconnect');
    const whole = Buffer.from([0x00, 0x04, 0x66, 0x75, 0x6c, 0x6c]); // "full"
    const cut = Buffer.from([0x01, 0x01, 0x61, 0x00, 0x05, 0x62, 0x62]); // "a" + 2 of 5 octets
    raw.write(Buffer.concat([handshakeBytes('PUSH'), whole, cut]));
    await attached; // a peer now: its stream ending is a disconnect, not a failed handshake
    raw.end();
    expect((await gone).error).toBeUndefined(); // the peer ended it
    expect(text(await b.pull.receive())).toEqual(['full']);
    await b.stillWorks();
    expect(b.pull.readable).toBe(false);
  });

  it('random garbage (fast-check): every connection is dealt with, the socket goes on', async () => {
    const b = await bench();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const raw = b.raw();
        const closed = closedStream(raw);
        const protocolError = bytes[0] !== 0xff ? nextEvent(b.pull, 'handshake:error:protocol') : undefined;
        raw.write(bytes);
        raw.end(); // garbage that is a valid prefix waits for more; the end closes it either way
        await closed;
        if (protocolError !== undefined) expect((await protocolError).error?.code).toBe('ERR_ZMTP_UNSUPPORTED_VERSION');
        await b.stillWorks();
      }),
      { numRuns: 40 },
    );
  });
});

describe('bad input on a connecting socket', () => {
  /** Our PUSH connects to a raw server that answers with `reply`. */
  async function connectTo(reply: Buffer, type: EventType) {
    const server = await rawServer((s) => s.write(reply));
    const context = new Context();
    const push = track(new Push({ context, reconnectInterval: 5 }));
    const events = recordEvents(push);
    const failed = nextEvent(push, type);
    push.connect(server.endpoint);
    const e = await failed;
    return { server, push, events, e };
  }

  it('a protocol error in the handshake stops reconnecting to that endpoint (PROTOCOL.md §1)', async () => {
    const { server, events, e } = await connectTo(greeting({ mechanism: 'CURVE' }), 'handshake:error:protocol');
    expect(e.error?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
    // A retry would have come within 10 ms; a sentinel with the same interval counts twenty.
    await reconnectIntervals(20, 5);
    expect(server.connections.length).toBe(1);
    expect(events.map((x) => x.type)).not.toContain('connect:retry');
  });

  it('an incompatible peer type (our PUSH to a PUB) is refused and not retried; other endpoints go on', async () => {
    const { server, push, e } = await connectTo(handshakeBytes('PUB'), 'handshake:error:protocol');
    expect(e.error?.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
    const pull = track(new Pull({ context: (push as Socket).context }));
    await pull.bind('tcp://127.0.0.1:*');
    push.connect(pull.lastEndpoint!);
    await push.send('elsewhere');
    expect(text(await pull.receive())).toEqual(['elsewhere']);
    await reconnectIntervals(20, 5); // a retry would have come within 10 ms
    expect(server.connections.length).toBe(1);
  });

  it('a server that closes right after accepting is retried (a connection error, not a protocol one)', async () => {
    const server = await rawServer((s) => s.destroy());
    const context = new Context();
    const push = track(new Push({ context, reconnectInterval: 5 }));
    push.connect(server.endpoint);
    await server.nextConnection();
    await server.nextConnection();
    expect(server.connections.length).toBeGreaterThanOrEqual(2);
  });
});
