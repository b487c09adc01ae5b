// Monitor events in the order libzmq reports them: each scenario runs on a libzmq socket (through
// zeromq.js) and on ours, and both must give the same sequence of event types.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import type { SocketEvent } from '../../src/socket/events.js';
import { nextEvent, rawServer, reconnectIntervals, refusingEndpoint } from '../transport/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open: { close(): void }[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
const keep = <T extends { close(): void }>(s: T): T => (open.push(s), s);

type Seen = { type: string; peer?: SocketEvent['peer'] }[];
/** Callbacks to try after each event a recorder sees (see `until`). */
const checks = new WeakMap<Seen, (() => void)[]>();

/** Event types as they happen, from either library's socket. */
function record(s: Socket | zmq.Socket): Seen {
  const seen: Seen = [];
  const waiting: (() => void)[] = [];
  checks.set(seen, waiting);
  const types = ['accept', 'connect', 'connect:delay', 'connect:retry', 'handshake', 'close', 'disconnect'] as const;
  for (const t of types) {
    (s.events as unknown as { on(t: string, f: (e: { peer?: SocketEvent['peer'] }) => void): void }).on(t, (e) => {
      seen.push({ type: t, ...(e.peer !== undefined ? { peer: e.peer } : {}) });
      for (const check of [...waiting]) check();
    });
  }
  return seen;
}

const kinds = (events: { type: string }[]) => events.map((e) => e.type);

type Impl = 'libzmq' | 'ours';
/** The same PUSH from either library (ours in a Context of its own), closed after the test. */
const pushOf = (impl: Impl, options: Record<string, unknown>): Push | zmq.Push =>
  keep(impl === 'libzmq' ? new zmq.Push(options) : new Push({ context: new Context(), ...options }));
/** What an HTTP server says to the greeting it does not understand, before it closes. */
const HTTP_REFUSAL = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n';

/** Resolves once `f` holds of what `seen` recorded: checked again on each event it records. */
function until(seen: Seen, f: (kinds: string[]) => boolean): Promise<void> {
  const waiting = checks.get(seen)!;
  return new Promise((resolve) => {
    const check = (): void => {
      if (!f(kinds(seen))) return;
      waiting.splice(waiting.indexOf(check), 1);
      resolve();
    };
    waiting.push(check);
    check();
  });
}

describe('monitor events follow libzmq', () => {
  it('a bound socket reports accept when the stream comes in, then handshake (tcp and ipc)', async () => {
    for (const t of ['tcp', 'ipc'] as const) {
      const results: string[][] = [];
      for (const impl of ['libzmq', 'ours'] as const) {
        const pull = keep(impl === 'libzmq' ? new zmq.Pull() : new Pull({ context: new Context() }));
        const seen = record(pull);
        await pull.bind(t === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `accept-${impl}`)}`);
        const push = keep(new zmq.Push());
        push.connect(pull.lastEndpoint as string);
        await push.send('x');
        await pull.receive();
        await until(seen, (k) => k.includes('handshake'));
        results.push(kinds(seen));
        if (impl === 'ours') expect(seen[0]?.peer?.socketType).toBeUndefined(); // not known before the handshake
      }
      expect(results[1], t).toEqual(results[0]);
      expect(results[1]).toEqual(['accept', 'handshake']);
    }
  });

  it('a connecting socket reports connect when the stream opens, then handshake, with or without kept pipes', async () => {
    const cases = [
      [() => new Push({ context: new Context() }), () => new zmq.Pull(), 'PULL'],
      [() => new Router({ context: new Context() }), () => new zmq.Dealer(), 'DEALER'],
    ] as const;
    for (const [make, makePeer, peerType] of cases) {
      const peer = keep(makePeer());
      await peer.bind('tcp://127.0.0.1:*');
      const ours = keep(make());
      const seen = record(ours);
      ours.connect(peer.lastEndpoint as string);
      await until(seen, (k) => k.includes('handshake'));
      // Push keeps pipes from connect() on (connect:delay); Router makes its peer at the handshake.
      expect(kinds(seen).filter((k) => k !== 'connect:delay')).toEqual(['connect', 'handshake']);
      expect(seen.find((e) => e.type === 'handshake')?.peer?.socketType).toBe(peerType);
    }
  });

  it('every tcp connect attempt is announced by connect:delay, the first and each retry (as libzmq)', async () => {
    const nobody = await refusingEndpoint();
    const results: string[][] = [];
    for (const impl of ['libzmq', 'ours'] as const) {
      const push = pushOf(impl, { reconnectInterval: 40 });
      const seen = record(push);
      push.connect(nobody);
      await until(seen, (k) => k.filter((x) => x === 'connect:retry').length >= 3);
      push.close();
      // Each attempt: connect:delay, then close (refused), then connect:retry before the next one.
      results.push(kinds(seen).slice(0, 9));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]).toEqual(['connect:delay', 'close', 'connect:retry', 'connect:delay', 'close', 'connect:retry', 'connect:delay', 'close', 'connect:retry']);
  });

  it('connect:retry intervals with reconnectMaxInterval: doubling up to it, no jitter, capped from the first (as libzmq 4.3.5)', async () => {
    const nobody = await refusingEndpoint();
    for (const [reconnectInterval, reconnectMaxInterval, expected] of [
      [10, 40, [10, 20, 40, 40]],
      [20, 10, [10, 10, 10, 10]],
    ] as const) {
      const results: number[][] = [];
      for (const impl of ['libzmq', 'ours'] as const) {
        const push = pushOf(impl, { reconnectInterval, reconnectMaxInterval });
        const intervals: number[] = [];
        const fourth = new Promise<void>((resolve) => {
          (push.events as unknown as { on(t: string, f: (e: { interval: number }) => void): void }).on('connect:retry', (e) => {
            if (intervals.push(e.interval) === expected.length) resolve();
          });
        });
        push.connect(nobody);
        await fourth;
        push.close();
        results.push(intervals);
      }
      expect(results[1]).toEqual(results[0]);
      expect(results[1]).toEqual(expected);
    }
  });

  it('a port that answers in another protocol (an HTTP server) is tried again, as libzmq does; ours reports the refusal', async () => {
    // libzmq takes a first octet other than 0xFF for ZMTP 1.0 and speaks it, so the server's close
    // ends the attempt as a connection error, which it retries. We speak no legacy version: we refuse
    // the greeting, and retry all the same (the port may serve ZMTP 3 later).
    for (const impl of ['libzmq', 'ours'] as const) {
      const http = await rawServer((s) => s.end(HTTP_REFUSAL));
      const push = pushOf(impl, { reconnectInterval: 10 });
      const seen = record(push);
      const refusal = impl === 'ours' ? nextEvent(push as Push, 'handshake:error:protocol') : undefined;
      push.connect(http.endpoint);
      for (let k = 0; k < 3; k++) await http.nextConnection();
      expect(http.connections.length, impl).toBeGreaterThanOrEqual(3);
      if (refusal !== undefined) expect((await refusal).error).toMatchObject({ code: 'ERR_ZMTP_UNSUPPORTED_VERSION', message: expect.stringContaining('0x48') });
      await until(seen, (k) => k.includes('connect:retry'));
      push.close();
    }
  });

  it('with ZAP on (a PLAIN client), a port that answers in another protocol is not tried again, as libzmq refuses the legacy peer for good', async () => {
    for (const impl of ['libzmq', 'ours'] as const) {
      const http = await rawServer((s) => s.end(HTTP_REFUSAL));
      const push = pushOf(impl, { reconnectInterval: 10, plainUsername: 'u', plainPassword: 'p' });
      const seen = record(push);
      push.connect(http.endpoint);
      await http.nextConnection();
      await until(seen, (k) => k.includes('disconnect'));
      // A retry would come within 10 to 20 ms: a sentinel retrying at the same interval counts ten.
      await reconnectIntervals(10, 10);
      expect(http.connections.length, impl).toBe(1);
      expect(kinds(seen), impl).not.toContain('connect:retry');
      push.close();
    }
  });

  it('reconnectInterval 0, as -1: a refused first attempt is not retried (libzmq 4.3.5 retries only when it is over 0)', async () => {
    const nobody = await refusingEndpoint();
    for (const interval of [0, -1]) {
      const results: string[][] = [];
      for (const impl of ['libzmq', 'ours'] as const) {
        const push = pushOf(impl, { reconnectInterval: interval });
        const seen = record(push);
        push.connect(nobody);
        await until(seen, (k) => k.includes('close'));
        // A socket that retried would have announced it by now: its first retry is due at once.
        await reconnectIntervals(3, 10);
        results.push(kinds(seen));
      }
      expect(results[1]).toEqual(results[0]);
      expect(results[1]).toEqual(['connect:delay', 'close']);
    }
  });

  it('reconnectInterval 0: a connection its peer ends is not made again (as libzmq)', async () => {
    const results: string[][] = [];
    for (const impl of ['libzmq', 'ours'] as const) {
      const router = keep(new zmq.Router());
      await router.bind('tcp://127.0.0.1:*');
      const dealer = keep(impl === 'libzmq' ? new zmq.Dealer({ reconnectInterval: 0 }) : new Dealer({ context: new Context(), reconnectInterval: 0 }));
      const seen = record(dealer);
      dealer.connect(router.lastEndpoint as string);
      await dealer.send('hi');
      await router.receive();
      await until(seen, (k) => k.includes('handshake'));
      router.close();
      await until(seen, (k) => k.includes('disconnect'));
      // Nobody listens there now: a reconnect would be refused, with connect:delay, close, connect:retry.
      await reconnectIntervals(3, 10);
      results.push(kinds(seen));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]).toEqual(['connect:delay', 'connect', 'handshake', 'disconnect']);
  });

  it('an ipc connect reports no connect:delay (libzmq connects unix sockets at once)', async () => {
    const results: string[][] = [];
    for (const impl of ['libzmq', 'ours'] as const) {
      const pull = keep(new zmq.Pull());
      await pull.bind(`ipc://${join(dir, `ipc-${impl}`)}`);
      const push = pushOf(impl, {});
      const seen = record(push);
      push.connect(pull.lastEndpoint as string);
      await push.send('x');
      await pull.receive();
      await until(seen, (k) => k.includes('handshake'));
      results.push(kinds(seen));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[1]).toEqual(['connect', 'handshake']);
  });

  it('our Dealer to our Router over tcp: accept then handshake on one side, connect then handshake on the other', async () => {
    const context = new Context();
    const router = keep(new Router({ context }));
    const atRouter = record(router);
    await router.bind('tcp://127.0.0.1:*');
    const dealer = keep(new Dealer({ context, routingId: 'd1' }));
    const atDealer = record(dealer);
    dealer.connect(router.lastEndpoint as string);
    await dealer.send('hi');
    const [id] = await router.receive();
    expect(String(id)).toBe('d1');
    await until(atDealer, (k) => k.includes('handshake'));
    expect(kinds(atRouter)).toEqual(['accept', 'handshake']);
    expect(atRouter[1]?.peer?.routingId?.toString()).toBe('d1');
    expect(kinds(atDealer)).toEqual(['connect:delay', 'connect', 'handshake']);
  });
});
