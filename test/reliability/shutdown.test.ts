// Shutdown: close() while calls are pending over tcp and ipc, in each state a connection can be in
// (nobody listening, handshake under way, active, a bind under way). As in zeromq.js, a waiting send
// or receive fails with EAGAIN, a bind under way completes (or fails) on its own terms before the
// socket closes; nothing is left unsettled or unhandled. Then whole processes: one that closes
// sockets caught in every one of those states must exit by itself (exit-child.ts).
//
//   silent server (node:net): accepts, reads, never answers ── our DEALER stays in its handshake

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Context, Dealer, Pull, Push, Reply, Request, Router } from '../../src/index.js';
import type { Socket } from '../../src/socket/socket.js';
import { closeAfterEach, code } from '../helpers/sockets.js';
import { runExitChild, silentServer } from './exit.js';

const track = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'monocoque-shutdown-'));
let paths = 0;
const ipcPath = (): string => join(dir, `s${paths++}.sock`);

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  // A turn of the loop: a rejection nobody handled has been reported by now.
  await new Promise((r) => setImmediate(r));
  expect(unhandled.splice(0)).toEqual([]);
});

/** The next event of `type` on `sock`. */
const next = (sock: Socket, type: 'connect' | 'connect:retry' | 'handshake'): Promise<void> =>
  new Promise((resolve) => sock.events.on(type, () => resolve()));

const silent = (transport: 'tcp' | 'ipc'): ReturnType<typeof silentServer> =>
  silentServer(transport === 'tcp' ? { port: 0, host: '127.0.0.1' } : { path: ipcPath() });

for (const transport of ['tcp', 'ipc'] as const) {
  const bindAddress = (): string => (transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${ipcPath()}`);

  describe(`close over ${transport} settles every pending call`, () => {
    it('during a handshake: the queued send resolved, the waiting send and receive fail with EAGAIN, the stream is closed', async () => {
      const server = await silent(transport);
      const dealer = track(new Dealer({ context: new Context(), sendHighWaterMark: 1, linger: 0 }));
      const opened = next(dealer, 'connect');
      dealer.connect(server.endpoint);
      const [stream] = await Promise.all([server.accepted, opened]);
      const streamClosed = new Promise((r) => stream.once('close', r));
      const queued = dealer.send('taken into the pipe');
      const waiting = dealer.send('no room: waits');
      const receiving = dealer.receive();
      dealer.close();
      expect(await Promise.all([code(queued), code(waiting), code(receiving)])).toEqual(['resolved', 'EAGAIN', 'EAGAIN']);
      await streamClosed; // our end of the half-made connection was closed
      await dealer.whenReleased();
      server.close();
    });

    it('on active connections: a REQ waiting for its reply and a REP waiting for the next request fail with EAGAIN', async () => {
      // req ──"ping"──▶ answering rep ──"pong"──▶ req, then the rep waits for a request that never comes
      // other ──"no answer"──▶ mute rep, which took it and never answers: other waits for its reply
      const context = new Context();
      const answering = track(new Reply({ context, linger: 0 }));
      const mute = track(new Reply({ context, linger: 0 }));
      await answering.bind(bindAddress());
      await mute.bind(bindAddress());
      const req = track(new Request({ context, linger: 0 }));
      const other = track(new Request({ context, linger: 0 }));
      req.connect(answering.lastEndpoint as string);
      other.connect(mute.lastEndpoint as string);
      await req.send('ping');
      await answering.receive();
      await answering.send('pong');
      expect((await req.receive()).toString()).toBe('pong');
      await other.send('no answer');
      await mute.receive();
      const noRequest = answering.receive();
      const noReply = other.receive();
      for (const s of [req, other, answering, mute]) s.close();
      expect(await Promise.all([code(noReply), code(noRequest)])).toEqual(['EAGAIN', 'EAGAIN']);
      await Promise.all([req, other, answering, mute].map((s) => s.whenReleased()));
    });

    it('on an active connection whose peer reads nothing: every send settles, resolved or EAGAIN, and for-await loops end', async () => {
      const context = new Context();
      const pull = track(new Pull({ context, receiveHighWaterMark: 1, linger: 0 }));
      await pull.bind(bindAddress());
      const push = track(new Push({ context, sendHighWaterMark: 1, linger: 0 }));
      const ready = next(push, 'handshake');
      push.connect(pull.lastEndpoint as string);
      await ready;
      // Fill the pipe and the kernel's buffers: the peer's receive HWM is 1 and it never reads.
      const big = Buffer.alloc(256 * 1024, 7);
      const sends: Promise<void>[] = [];
      while (push.writable) await push.send(big);
      for (let i = 0; i < 3; i++) sends.push(push.send(big));
      // The pull's own reader is a for-await loop that ends at close without an error.
      const loop = (async () => {
        let n = 0;
        for await (const _ of pull) if (++n === 1) break;
        return n;
      })();
      push.close();
      pull.close();
      const outcomes = await Promise.all(sends.map(code));
      for (const o of outcomes) expect(['resolved', 'EAGAIN']).toContain(o);
      expect(outcomes).toContain('EAGAIN');
      expect(await loop).toBeLessThanOrEqual(1);
    });

    it('during a bind: close waits for it, then the pending receive fails with EAGAIN and the endpoint is let go', async () => {
      const sock = track(new Dealer({ context: new Context(), linger: 0 }));
      const receiving = sock.receive();
      const bound = sock.bind(bindAddress());
      sock.close();
      expect(sock.closed).toBe(false);
      await bound;
      expect(sock.closed).toBe(true);
      expect(await code(receiving)).toBe('EAGAIN');
      await sock.whenReleased();
      if (transport === 'ipc') {
        // The path is free again: another socket binds it.
        const again = track(new Dealer({ context: new Context(), linger: 0 }));
        await again.bind(sock.lastEndpoint as string);
      }
    });

    it('during a bind that fails (EADDRINUSE): the bind fails on its own terms, the receive with EAGAIN', async () => {
      const taken = await silent(transport);
      const sock = track(new Router({ context: new Context(), linger: 0 }));
      const receiving = sock.receive();
      const bound = sock.bind(taken.endpoint);
      sock.close();
      expect(await code(bound)).toBe('EADDRINUSE');
      expect(sock.closed).toBe(true);
      expect(await code(receiving)).toBe('EAGAIN');
      taken.close();
    });
  });
}

describe('close with nobody listening (ipc: no socket file)', () => {
  it('a connect retrying: the queued sends resolved, the waiting one fails with EAGAIN, and the socket lets go', async () => {
    const dealer = track(new Dealer({ context: new Context(), sendHighWaterMark: 2, linger: 0 }));
    const retrying = next(dealer, 'connect:retry');
    dealer.connect(`ipc://${ipcPath()}`);
    await retrying;
    const sends = [dealer.send('1'), dealer.send('2'), dealer.send('3')];
    const receiving = dealer.receive();
    dealer.close();
    expect(await Promise.all([...sends, receiving].map(code))).toEqual(['resolved', 'resolved', 'EAGAIN', 'EAGAIN']);
    await dealer.whenReleased();
  });
});

describe('a process whose sockets are closed exits by itself', () => {
  for (const linger of [0, 200]) {
    it(`linger ${linger}: sockets active, handshaking, retrying with messages queued and binding, all closed at once: every call settles, nothing is left, the process exits 0`, async () => {
      const r = await runExitChild(linger);
      expect(r.stderr).toBe('');
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
      expect(r.unhandled).toEqual([]);
      expect(r.leftover).toEqual([]);
      expect(r.closed).toBe(true);
      expect(r.outcomes).toEqual({
        'active dealer: receive': 'EAGAIN',
        'req: receive of the reply': 'EAGAIN',
        'router: receive': 'EAGAIN',
        'sub: receive': 'EAGAIN',
        'queued dealer: send 1': 'resolved',
        'queued dealer: send 2': 'resolved',
        'queued dealer: send 3 (waits)': 'EAGAIN',
        'handshaking dealer: send 1': 'resolved',
        'handshaking dealer: send 2 (waits)': 'EAGAIN',
        'handshaking dealer: receive': 'EAGAIN',
        'binding dealer: bind': 'resolved',
        'binding dealer: receive': 'EAGAIN',
      });
      expect(r.exitAfterMs).toBeGreaterThanOrEqual(r.releasedAfterMs);
    }, 30_000);
  }
});
