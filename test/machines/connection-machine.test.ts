// The connection machine alone: events in, states and named effects out, time through XState's
// SimulatedClock. No streams, no sockets.

import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { backoffStep, connectionMachine, nextRandom } from '../../machines/connection.js';
import type { ConnectionInput } from '../../machines/connection.js';

const EFFECTS = [
  'openStream', 'endStream', 'attachPeer', 'reportHandshakeFailure', 'reportRetry', 'sendPing', 'watchTraffic', 'release',
] as const;
type Effect = (typeof EFFECTS)[number];

const base: ConnectionInput = {
  role: 'connect',
  endpoint: 'tcp://127.0.0.1:5555',
  handshakeInterval: 30000,
  heartbeatInterval: 0,
  heartbeatTimeout: -1,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
  connectTimeout: 0,
  seed: 42,
};

/** Starts the machine with recording effects and a simulated clock. */
function start(input: Partial<ConnectionInput> = {}) {
  const effects: Effect[] = [];
  const actions = Object.fromEntries(EFFECTS.map((name) => [name, () => effects.push(name)]));
  const clock = new SimulatedClock();
  const actor = createActor(connectionMachine.provide({ actions } as never), { input: { ...base, ...input }, clock });
  actor.start();
  const state = () => actor.getSnapshot().value;
  const ctx = () => actor.getSnapshot().context;
  const count = (e: Effect) => effects.filter((x) => x === e).length;
  return { actor, clock, effects, state, ctx, count };
}

/** Drives a connecting machine to `active` with a peer of the given greeting minor. */
function activate(m: ReturnType<typeof start>, minor = 1) {
  m.actor.send({ type: 'stream.opened', remoteAddress: '127.0.0.1:5555' });
  m.actor.send({ type: 'greeting.received', major: 3, minor });
  m.actor.send({ type: 'awaiting.ready' });
  m.actor.send({ type: 'handshake.succeeded', peerType: 'PULL' });
}

/** Drives an accepting machine to `active` with a 3.1 PUSH peer. */
function accepted(actor: { send(e: never): void }) {
  actor.send({ type: 'greeting.received', major: 3, minor: 1 } as never);
  actor.send({ type: 'awaiting.ready' } as never);
  actor.send({ type: 'handshake.succeeded', peerType: 'PUSH' } as never);
}

describe('connection machine: connecting and handshake', () => {
  it('a connecting side opens a stream at once and goes greeting → starting → ready → active (NULL), attaching the peer', () => {
    const m = start();
    expect(m.state()).toBe('connecting');
    expect(m.effects).toEqual(['openStream']);
    m.actor.send({ type: 'stream.opened', remoteAddress: '127.0.0.1:5555' });
    expect(m.state()).toEqual({ handshaking: 'greeting' });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    expect(m.state()).toEqual({ handshaking: 'starting' });
    expect(m.ctx().zmtp31).toBe(true);
    m.actor.send({ type: 'awaiting.ready' }); // NULL: our READY is out
    expect(m.state()).toEqual({ handshaking: 'ready' });
    m.actor.send({ type: 'handshake.succeeded', peerType: 'PULL', routingId: '6869' });
    expect(m.state()).toMatchObject({ active: { pinging: 'off', pingTimeout: 'clear', peerTtl: 'clear' } });
    expect(m.ctx()).toMatchObject({ peerType: 'PULL', routingId: '6869', remoteAddress: '127.0.0.1:5555' });
    expect(m.count('attachPeer')).toBe(1);
  });

  it('an accepting side starts in the greeting, its stream already open', () => {
    const m = start({ role: 'accept' });
    expect(m.state()).toEqual({ handshaking: 'greeting' });
    expect(m.effects).toEqual([]);
  });

  it('a raw stream (STREAM) goes straight to active and attaches its peer, with no heartbeats', () => {
    const m = start({ role: 'accept', heartbeatInterval: 100 });
    m.actor.send({ type: 'raw.opened' });
    expect(m.state()).toMatchObject({ active: { pinging: 'off' } });
    expect(m.count('attachPeer')).toBe(1);
  });

  it('a greeting of ZMTP 3.0 (minor 0) is remembered as not 3.1', () => {
    const m = start({ role: 'accept' });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 0 });
    expect(m.ctx().zmtp31).toBe(false);
  });

  it('the handshake deadline closes the stream, reports handshake:error:other and retries', () => {
    const m = start({ handshakeInterval: 500 });
    m.actor.send({ type: 'stream.opened' });
    m.clock.increment(499);
    expect(m.state()).toEqual({ handshaking: 'greeting' });
    m.clock.increment(1);
    expect(m.ctx().failure).toMatchObject({ kind: 'other', code: 'ETIMEDOUT', handshaking: true });
    expect(m.count('reportHandshakeFailure')).toBe(1);
    expect(m.count('endStream')).toBe(1);
    expect(m.state()).toBe('waiting');
  });

  it('handshakeInterval 0 sets no deadline', () => {
    const m = start({ handshakeInterval: 0, role: 'accept' });
    m.clock.increment(10 * 60_000);
    expect(m.state()).toEqual({ handshaking: 'greeting' });
  });

  it('the deadline on an accepting side ends the connection for good', () => {
    const m = start({ handshakeInterval: 200, role: 'accept' });
    m.clock.increment(200);
    expect(m.state()).toBe('closed');
    expect(m.actor.getSnapshot().status).toBe('done');
    expect(m.count('release')).toBe(1);
  });

  it('a protocol error during the handshake stops reconnecting (PROTOCOL.md §1)', () => {
    const m = start();
    m.actor.send({ type: 'stream.opened' });
    m.actor.send({ type: 'handshake.failed', kind: 'protocol', code: 'ERR_ZMTP_MECHANISM_MISMATCH', message: 'x' });
    expect(m.state()).toBe('closed');
    expect(m.ctx()).toMatchObject({ reconnecting: false, failure: { kind: 'protocol', code: 'ERR_ZMTP_MECHANISM_MISMATCH' } });
    expect(m.count('reportHandshakeFailure')).toBe(1);
    expect(m.count('reportRetry')).toBe(0);
  });

  it('a greeting that is not ZMTP 3 is refused, reported, and retried by the connecting side (as libzmq retries it); the accepting side ends', () => {
    const m = start();
    m.actor.send({ type: 'stream.opened' });
    m.actor.send({ type: 'handshake.failed', kind: 'protocol', code: 'ERR_ZMTP_UNSUPPORTED_VERSION', message: 'octet 0 is 0x48' });
    expect(m.state()).toBe('waiting');
    expect(m.ctx()).toMatchObject({ reconnecting: true, failure: { kind: 'protocol', code: 'ERR_ZMTP_UNSUPPORTED_VERSION' } });
    expect([m.count('reportHandshakeFailure'), m.count('endStream'), m.count('reportRetry')]).toEqual([1, 1, 1]);
    m.clock.increment(m.ctx().nextDelay);
    expect(m.state()).toBe('connecting');
    const a = start({ role: 'accept' });
    a.actor.send({ type: 'handshake.failed', kind: 'protocol', code: 'ERR_ZMTP_UNSUPPORTED_VERSION', message: 'x' });
    expect(a.state()).toBe('closed');
    expect(a.count('reportHandshakeFailure')).toBe(1);
  });

  it('with ZAP on (PLAIN, CURVE or a ZAP domain), a greeting that is not ZMTP 3 ends the session, as libzmq refuses it as a protocol error', () => {
    const m = start({ zap: true });
    m.actor.send({ type: 'stream.opened' });
    m.actor.send({ type: 'handshake.failed', kind: 'protocol', code: 'ERR_ZMTP_UNSUPPORTED_VERSION', message: 'x' });
    expect(m.state()).toBe('closed');
    expect(m.ctx()).toMatchObject({ reconnecting: false, failure: { code: 'ERR_ZMTP_UNSUPPORTED_VERSION' } });
    expect(m.count('reportRetry')).toBe(0);
  });

  it('the peer closing during the handshake is handshake:error:other, then a retry', () => {
    const m = start();
    m.actor.send({ type: 'stream.opened' });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    m.actor.send({ type: 'stream.closed' });
    expect(m.ctx().failure).toMatchObject({ kind: 'other', code: 'ECONNRESET' });
    expect(m.count('reportHandshakeFailure')).toBe(1);
    expect(m.state()).toBe('waiting');
  });

  it('connectTimeout abandons an attempt that hangs', () => {
    const m = start({ connectTimeout: 250 });
    m.clock.increment(250);
    expect(m.ctx().failure).toMatchObject({ kind: 'connection', code: 'ETIMEDOUT' });
    expect(m.state()).toBe('waiting');
  });
});

describe('connection machine: reconnecting', () => {
  it('a failed attempt waits reconnectInterval plus a jitter below it, then connects again', () => {
    const m = start();
    m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
    expect(m.state()).toBe('waiting');
    expect(m.count('reportRetry')).toBe(1);
    const delay = m.ctx().nextDelay;
    expect(delay).toBeGreaterThanOrEqual(100);
    expect(delay).toBeLessThan(200);
    m.clock.increment(delay - 1);
    expect(m.state()).toBe('waiting');
    m.clock.increment(1);
    expect(m.state()).toBe('connecting');
    expect(m.count('openStream')).toBe(2);
    expect(m.ctx().attempts).toBe(2);
  });

  it('with reconnectMaxInterval, the delay doubles up to it without jitter (libzmq 4.3.5), and starts over after a connection', () => {
    const m = start({ reconnectInterval: 100, reconnectMaxInterval: 350 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
      delays.push(m.ctx().nextDelay);
      m.clock.increment(m.ctx().nextDelay);
    }
    expect(delays).toEqual([100, 200, 350, 350]);
    m.actor.send({ type: 'stream.opened' });
    expect(m.ctx().currentInterval).toBe(100);
    m.actor.send({ type: 'stream.closed' }); // dropped during its handshake: the first delay again
    expect(m.state()).toBe('waiting');
    expect(m.ctx().nextDelay).toBe(100);
  });

  it('a reconnectMaxInterval below reconnectInterval is the delay every time (libzmq caps the first too)', () => {
    const m = start({ reconnectInterval: 200, reconnectMaxInterval: 100 });
    for (let i = 0; i < 3; i++) {
      m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
      expect(m.ctx().nextDelay).toBe(100);
      m.clock.increment(m.ctx().nextDelay);
    }
  });

  it('a constant delay when reconnectMaxInterval is 0', () => {
    const m = start({ reconnectInterval: 50 });
    for (let i = 0; i < 3; i++) {
      m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
      expect(m.ctx().currentInterval).toBe(50);
      m.clock.increment(m.ctx().nextDelay);
    }
  });

  it('reconnectInterval -1 or 0 never reconnects (libzmq retries only when it is over 0); 1 does', () => {
    for (const reconnectInterval of [-1, 0]) {
      const m = start({ reconnectInterval });
      m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
      expect(m.state()).toBe('closed');
      expect(m.count('reportRetry')).toBe(0);
    }
    const m = start({ reconnectInterval: 1 });
    m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
    expect(m.state()).toBe('waiting');
    expect(m.count('reportRetry')).toBe(1);
  });

  it('a dropped active connection reconnects on the connecting side and ends on the accepting side', () => {
    const c = start();
    activate(c);
    c.actor.send({ type: 'stream.closed' });
    expect(c.state()).toBe('waiting');
    expect(c.count('endStream')).toBe(1);
    const a = start({ role: 'accept' });
    a.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    a.actor.send({ type: 'awaiting.ready' });
    a.actor.send({ type: 'handshake.succeeded', peerType: 'PUSH' });
    a.actor.send({ type: 'stream.closed' });
    expect(a.state()).toBe('closed');
  });

  it('a protocol error after the handshake ends the session (libzmq session_base.cpp engine_error)', () => {
    const m = start();
    activate(m);
    m.actor.send({ type: 'protocol.failed', code: 'EMSGSIZE', message: 'too big' });
    expect(m.state()).toBe('closed');
    expect(m.ctx().failure).toMatchObject({ kind: 'protocol', code: 'EMSGSIZE', handshaking: false });
  });

  it('reconnect.stop ends a wait at once, and lets a live connection run until it drops', () => {
    const waiting = start();
    waiting.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: 'refused' });
    waiting.actor.send({ type: 'reconnect.stop' });
    expect(waiting.state()).toBe('closed');

    const live = start();
    activate(live);
    live.actor.send({ type: 'reconnect.stop' });
    expect(live.state()).toMatchObject({ active: {} });
    live.actor.send({ type: 'stream.closed' });
    expect(live.state()).toBe('closed');
  });

  it('close ends every state, releasing once', () => {
    for (const drive of [
      (_m: ReturnType<typeof start>) => {},
      (m: ReturnType<typeof start>) => m.actor.send({ type: 'stream.opened' }),
      (m: ReturnType<typeof start>) => activate(m),
      (m: ReturnType<typeof start>) => m.actor.send({ type: 'stream.failed', code: 'ECONNREFUSED', message: '' }),
    ]) {
      const m = start();
      drive(m);
      m.actor.send({ type: 'close' });
      expect(m.state()).toBe('closed');
      expect(m.count('release')).toBe(1);
    }
  });
});

describe('connection machine: heartbeats', () => {
  it('sends a PING every heartbeatInterval to a 3.1 peer and watches for traffic', () => {
    const m = start({ heartbeatInterval: 100 });
    activate(m);
    expect(m.state()).toMatchObject({ active: { pinging: 'waiting' } });
    m.clock.increment(100);
    expect(m.count('sendPing')).toBe(1);
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'clear' } }); // asked for, not written yet
    m.actor.send({ type: 'ping.sent' }); // the engine wrote it
    expect(m.count('watchTraffic')).toBe(1);
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'armed' } });
    m.actor.send({ type: 'traffic.seen' });
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'clear' } });
    m.clock.increment(100);
    m.actor.send({ type: 'ping.sent' });
    m.actor.send({ type: 'traffic.seen' });
    m.clock.increment(100);
    m.actor.send({ type: 'ping.sent' });
    m.actor.send({ type: 'traffic.seen' });
    expect(m.count('sendPing')).toBe(3);
    expect(m.state()).toMatchObject({ active: {} });
  });

  it('no traffic within heartbeatTimeout after a PING drops the connection (and reconnects)', () => {
    const m = start({ heartbeatInterval: 100, heartbeatTimeout: 300 });
    activate(m);
    m.clock.increment(100); // PING
    m.actor.send({ type: 'ping.sent' }); // written: the timeout is armed until 400
    m.clock.increment(100); // PING again
    m.actor.send({ type: 'ping.sent' }); // the armed timeout is not restarted
    m.clock.increment(199);
    expect(m.state()).toMatchObject({ active: {} });
    m.clock.increment(1);
    expect(m.ctx().failure).toMatchObject({ kind: 'connection', code: 'ETIMEDOUT' });
    expect(m.count('endStream')).toBe(1);
    expect(m.state()).toBe('waiting');
  });

  it('the PING timeout counts from when the PING was written, not from when it was asked for', () => {
    // A loop blocked between the two (the write comes later in the turn, or a turn later) must not
    // eat the time the peer has to answer.
    const m = start({ heartbeatInterval: 1000, heartbeatTimeout: 300 });
    activate(m);
    m.clock.increment(1000); // PING asked for
    m.clock.increment(500);
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'clear' } });
    m.actor.send({ type: 'ping.sent' }); // written at 1500: armed until 1800
    m.clock.increment(299);
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'armed' } });
    m.clock.increment(1);
    expect(m.ctx().failure).toMatchObject({ kind: 'connection', code: 'ETIMEDOUT' });
    expect(m.state()).toBe('waiting');
  });

  // The event loop runs the timers that are due, then reads input, then the timers set meanwhile.
  // This clock does the same: `timersPhase()` runs only what was due when it began, so a test can
  // deliver input between two phases, as the poll phase does after a blocked loop.
  class LoopClock {
    #now = 0;
    #next = 1;
    #timers = new Map<number, { at: number; fn: () => void }>();
    setTimeout(fn: () => void, ms: number): number {
      const id = this.#next++;
      this.#timers.set(id, { at: this.#now + ms, fn });
      return id;
    }
    clearTimeout(id: number): void {
      this.#timers.delete(id);
    }
    /** The loop was blocked for `ms`: time moves, nothing runs. */
    block(ms: number): void {
      this.#now += ms;
    }
    timersPhase(): void {
      const due = [...this.#timers].filter(([, t]) => t.at <= this.#now).sort(([, a], [, b]) => a.at - b.at);
      for (const [id, t] of due) {
        if (!this.#timers.delete(id)) continue; // cleared by an earlier timer of this phase
        t.fn();
      }
    }
  }

  function startOnLoop(input: Partial<ConnectionInput>) {
    const clock = new LoopClock();
    const actor = createActor(connectionMachine, { input: { ...base, ...input }, clock: clock as never });
    actor.start();
    return { actor, clock, state: () => actor.getSnapshot().value, failure: () => actor.getSnapshot().context.failure };
  }

  it('a loop blocked past the heartbeat timeout reads what arrived meanwhile before dropping the peer', () => {
    const m = startOnLoop({ heartbeatInterval: 100, heartbeatTimeout: 300 });
    m.actor.send({ type: 'stream.opened', remoteAddress: '127.0.0.1:5555' });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    m.actor.send({ type: 'awaiting.ready' });
    m.actor.send({ type: 'handshake.succeeded', peerType: 'PULL' });
    m.clock.block(100);
    m.clock.timersPhase(); // PING
    m.actor.send({ type: 'ping.sent' }); // written: armed until 400
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'armed' } });
    m.clock.block(1000); // the peer's PONG waits in the kernel while the loop is blocked
    m.clock.timersPhase();
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'lastLook' } });
    m.actor.send({ type: 'traffic.seen' }); // the poll phase reads it
    m.clock.timersPhase();
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'clear' } });
    expect(m.failure()).toBeUndefined();
    // Nothing came: the next timers phase drops the connection.
    m.clock.block(100);
    m.clock.timersPhase(); // PING
    m.actor.send({ type: 'ping.sent' });
    m.clock.block(300);
    m.clock.timersPhase();
    m.clock.timersPhase();
    expect(m.failure()).toMatchObject({ kind: 'connection', code: 'ETIMEDOUT' });
    expect(m.state()).toBe('waiting');
  });

  it("a loop blocked past the peer's TTL reads what arrived meanwhile before dropping the peer", () => {
    const m = startOnLoop({ role: 'accept' });
    accepted(m.actor);
    m.actor.send({ type: 'peer.pinged', ttl: 300 });
    m.clock.block(1000);
    m.clock.timersPhase();
    expect(m.state()).toMatchObject({ active: { peerTtl: 'lastLook' } });
    m.actor.send({ type: 'traffic.seen' });
    expect(m.state()).toMatchObject({ active: { peerTtl: 'clear' } });
    m.actor.send({ type: 'peer.pinged', ttl: 300 });
    m.clock.block(300);
    m.clock.timersPhase();
    m.clock.timersPhase();
    expect(m.failure()).toMatchObject({ code: 'ETIMEDOUT' });
    expect(m.state()).toBe('closed');
  });

  it('heartbeatTimeout -1 means the interval', () => {
    const m = start({ heartbeatInterval: 100, heartbeatTimeout: -1 });
    activate(m);
    m.clock.increment(100);
    m.actor.send({ type: 'ping.sent' });
    m.clock.increment(99);
    expect(m.state()).toMatchObject({ active: {} });
    m.clock.increment(1);
    expect(m.state()).toBe('waiting');
  });

  it('heartbeatTimeout 0: PINGs go every interval, and silence never drops the peer (as libzmq)', () => {
    const m = start({ heartbeatInterval: 100, heartbeatTimeout: 0 });
    activate(m);
    for (let i = 0; i < 50; i++) {
      m.clock.increment(100);
      m.actor.send({ type: 'ping.sent' });
    }
    expect(m.count('sendPing')).toBe(50);
    expect(m.ctx().failure).toBeUndefined();
    expect(m.state()).toMatchObject({ active: { pingTimeout: 'clear' } });
  });

  it('sends no PING to a ZMTP 3.0 peer', () => {
    const m = start({ heartbeatInterval: 100 });
    activate(m, 0);
    m.clock.increment(1000);
    expect(m.count('sendPing')).toBe(0);
    expect(m.state()).toMatchObject({ active: { pinging: 'off' } });
  });

  it("honours the peer's PING TTL: silence for that long drops the connection, traffic keeps it", () => {
    const m = start({ role: 'accept' });
    accepted(m.actor);
    m.actor.send({ type: 'peer.pinged', ttl: 0 });
    expect(m.state()).toMatchObject({ active: { peerTtl: 'clear' } });
    m.actor.send({ type: 'peer.pinged', ttl: 300 });
    expect(m.state()).toMatchObject({ active: { peerTtl: 'armed' } });
    m.clock.increment(299);
    m.actor.send({ type: 'traffic.seen' });
    m.actor.send({ type: 'peer.pinged', ttl: 300 });
    m.clock.increment(299);
    expect(m.state()).toMatchObject({ active: {} });
    m.clock.increment(1);
    expect(m.state()).toMatchObject({ active: { peerTtl: 'lastLook' } });
    m.clock.increment(0); // the last look, one loop turn later: nothing came
    expect(m.ctx().failure).toMatchObject({ code: 'ETIMEDOUT' });
    expect(m.state()).toBe('closed');
  });
});

describe('connection machine: pure helpers', () => {
  it('backoffStep: without a maximum, the base plus a jitter below it; with one, doubling up to it, no jitter', () => {
    expect(backoffStep(100, 0, 100, 0)).toEqual({ delay: 100, next: 100 });
    expect(backoffStep(100, 0, 100, 0.999)).toEqual({ delay: 199, next: 100 });
    expect(backoffStep(100, 1000, 400, 0.5)).toEqual({ delay: 400, next: 800 });
    expect(backoffStep(100, 1000, 800, 0.5)).toEqual({ delay: 800, next: 1000 });
    expect(backoffStep(100, 1000, 1000, 0.5)).toEqual({ delay: 1000, next: 1000 });
    expect(backoffStep(100, 50, 100, 0.5)).toEqual({ delay: 50, next: 50 });
    expect(backoffStep(100, 2 ** 31 - 1, 2 ** 31 - 1, 0)).toEqual({ delay: 2 ** 31 - 1, next: 2 ** 31 - 1 });
    expect(backoffStep(2 ** 31 - 1, 0, 2 ** 31 - 1, 0.5)).toEqual({ delay: 2 ** 31 - 1, next: 2 ** 31 - 1 });
  });

  it('nextRandom: values in [0, 1), a deterministic sequence from a seed', () => {
    let seed = 7;
    const seen: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = nextRandom(seed);
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThan(1);
      seen.push(r.value);
      seed = r.seed;
    }
    expect(new Set(seen).size).toBeGreaterThan(990);
    expect(nextRandom(7)).toEqual(nextRandom(7));
  });
});

describe('connection machine: the security handshakes as states', () => {
  /** The handshaking substates an accepting machine passes through for these events, then where it ends. */
  function walk(events: string[]) {
    const m = start({ role: 'accept' });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    const seen: unknown[] = [m.state()];
    for (const type of events) {
      m.actor.send(type === 'handshake.succeeded' ? { type, peerType: 'DEALER' } : ({ type } as never));
      seen.push(m.state());
    }
    return seen.map((v) => (typeof v === 'object' && v !== null && 'handshaking' in v ? (v as { handshaking: string }).handshaking : Object.keys(v as object)[0]));
  }

  it('PLAIN client: HELLO out → WELCOME → INITIATE out → READY', () => {
    expect(walk(['awaiting.welcome', 'awaiting.ready', 'handshake.succeeded'])).toEqual(['starting', 'welcome', 'ready', 'active']);
  });

  it('PLAIN server: HELLO → ZAP → WELCOME out → INITIATE → READY out', () => {
    expect(walk(['awaiting.hello', 'awaiting.zap', 'awaiting.initiate', 'handshake.succeeded'])).toEqual(['starting', 'hello', 'zap', 'initiate', 'active']);
  });

  it('CURVE server: HELLO → WELCOME out → INITIATE → ZAP → READY out; without a handler INITIATE completes it', () => {
    expect(walk(['awaiting.hello', 'awaiting.initiate', 'awaiting.zap', 'handshake.succeeded'])).toEqual(['starting', 'hello', 'initiate', 'zap', 'active']);
    expect(walk(['awaiting.hello', 'awaiting.initiate', 'handshake.succeeded'])).toEqual(['starting', 'hello', 'initiate', 'active']);
  });

  it('NULL with a ZAP domain: ZAP first, then READY either way', () => {
    expect(walk(['awaiting.zap', 'awaiting.ready', 'handshake.succeeded'])).toEqual(['starting', 'zap', 'ready', 'active']);
    expect(walk(['awaiting.zap', 'handshake.succeeded'])).toEqual(['starting', 'zap', 'active']);
  });

  it('a step no mechanism takes is no edge: the state stays (a server waiting for HELLO is not told WELCOME)', () => {
    expect(walk(['awaiting.hello', 'awaiting.welcome', 'handshake.succeeded'])).toEqual(['starting', 'hello', 'hello', 'hello']);
  });

  it('an authentication failure at any step closes with the ZAP status and stops reconnecting', () => {
    for (const steps of [['awaiting.welcome'], ['awaiting.hello', 'awaiting.zap'], ['awaiting.hello', 'awaiting.initiate']]) {
      const m = start();
      m.actor.send({ type: 'stream.opened' });
      m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
      for (const type of steps) m.actor.send({ type } as never);
      m.actor.send({ type: 'handshake.failed', kind: 'auth', code: 'ERR_ZAP_REFUSED', message: 'refused', status: 400 });
      expect(m.state()).toBe('closed');
      expect(m.ctx().failure).toMatchObject({ kind: 'auth', status: 400, handshaking: true });
      expect(m.ctx().reconnecting).toBe(false);
      expect(m.count('reportHandshakeFailure')).toBe(1);
    }
  });

  it('our ZAP handler\'s 300 (try later): reported at once, then the connection is left open and silent until handshakeInterval ends it, as libzmq does', () => {
    const refuse = { type: 'handshake.failed', kind: 'auth', code: 'ERR_ZAP_REFUSED', message: 'try later', status: 300 } as const;
    const m = start({ role: 'accept', handshakeInterval: 1000 });
    m.actor.send({ type: 'greeting.received', major: 3, minor: 1 });
    m.actor.send({ type: 'awaiting.hello' });
    m.actor.send({ type: 'awaiting.zap' });
    m.clock.increment(100);
    m.actor.send(refuse);
    expect(m.state()).toEqual({ handshaking: 'refused' });
    expect([m.count('reportHandshakeFailure'), m.count('endStream'), m.count('release')]).toEqual([1, 0, 0]);
    expect(m.ctx().failure).toMatchObject({ kind: 'auth', status: 300 });
    m.clock.increment(899);
    expect(m.state()).toEqual({ handshaking: 'refused' });
    m.clock.increment(1); // the handshake's deadline, counted from the start
    expect(m.state()).toBe('closed');
    expect([m.count('reportHandshakeFailure'), m.count('release')]).toEqual([1, 1]); // nothing more reported
    // The peer leaving first ends it too, without another report; a connecting side then retries.
    const c = start({ handshakeInterval: 1000 });
    c.actor.send({ type: 'stream.opened' });
    c.actor.send(refuse);
    c.actor.send({ type: 'stream.closed' });
    expect(c.state()).toBe('waiting');
    expect(c.count('reportHandshakeFailure')).toBe(1);
    // Without a handshakeInterval it stays until the peer goes, as in libzmq.
    const n = start({ role: 'accept', handshakeInterval: 0 });
    n.actor.send(refuse);
    n.clock.increment(10 * 60_000);
    expect(n.state()).toEqual({ handshaking: 'refused' });
  });
});
