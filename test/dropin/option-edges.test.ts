// Option values at their edges, side by side with zeromq.js (libzmq 4.3.5): what each type starts
// with, which values are refused, and what a value reads back as. Each check runs the same calls on
// both libraries' sockets and compares what they report; their behaviour on the wire is tested in
// test/machines/connection-machine.test.ts and test/interop/events.test.ts.

import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import * as ours from '../../src/index.js';

const CLASSES = ['Pair', 'Publisher', 'Subscriber', 'XPublisher', 'XSubscriber', 'Request', 'Reply', 'Dealer', 'Router', 'Push', 'Pull'] as const;
type Name = (typeof CLASSES)[number];
type Options = Record<string, unknown>;
type AnySocket = { close(): void } & Record<string, unknown>;

const open: AnySocket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function make(lib: 'libzmq' | 'ours', name: Name, options?: Options): AnySocket {
  const Ctor = (lib === 'libzmq' ? zmq : ours)[name] as unknown as new (o?: Options) => AnySocket;
  const s = new Ctor(options);
  open.push(s);
  return s;
}

/** What setting `name` to `value` does: the value read back, or the error's code. */
function setting(lib: 'libzmq' | 'ours', name: string, value: number): number | string {
  const s = make(lib, 'Dealer');
  try {
    s[name] = value;
  } catch (e) {
    return `throws ${(e as { code?: string }).code}`;
  }
  return s[name] as number;
}

describe('option edges, as zeromq.js', () => {
  it('linger starts at 0 on Subscriber and XSubscriber (libzmq\'s XSUB sets it), -1 elsewhere', () => {
    const theirs = CLASSES.map((c) => make('libzmq', c).linger);
    const mine = CLASSES.map((c) => make('ours', c).linger);
    expect(mine).toEqual(theirs);
    expect(Object.fromEntries(CLASSES.map((c, i) => [c, mine[i]]))).toMatchObject({ Subscriber: 0, XSubscriber: 0, Dealer: -1, Pair: -1 });
  });

  it('a Subscriber\'s linger, set, is kept; a Context without blocky still gives the others 0', () => {
    expect(make('ours', 'Subscriber', { linger: 500 }).linger).toBe(500);
    const context = new ours.Context({ blocky: false });
    expect(make('ours', 'Dealer', { context }).linger).toBe(0);
  });

  it('heartbeatTimeout: -1 (the default, which stands for the interval) cannot be set; 0 can', () => {
    for (const value of [-1, -2, 0, 1, 250]) {
      expect(setting('ours', 'heartbeatTimeout', value), `heartbeatTimeout = ${value}`).toEqual(setting('libzmq', 'heartbeatTimeout', value));
    }
    expect(make('ours', 'Dealer').heartbeatTimeout).toBe(-1);
    expect(() => make('ours', 'Dealer', { heartbeatTimeout: -1 })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/heartbeatTimeout .*-1 is not an integer in 0\.\..*stands for heartbeatInterval/) }),
    );
  });

  it('heartbeatTimeToLive is kept in deciseconds: it reads back truncated, -99..-1 are 0, -100 is refused', () => {
    for (const value of [0, 99, 100, 250, 6553599, -1, -99, -100, 6553600]) {
      expect(setting('ours', 'heartbeatTimeToLive', value), `heartbeatTimeToLive = ${value}`).toEqual(setting('libzmq', 'heartbeatTimeToLive', value));
    }
    expect(setting('ours', 'heartbeatTimeToLive', 250)).toBe(200);
    expect(Object.is(setting('ours', 'heartbeatTimeToLive', -99), 0)).toBe(true);
    expect(setting('ours', 'heartbeatTimeToLive', -100)).toBe('throws EINVAL');
  });

  it('-0 reads back as 0, as an int in libzmq', () => {
    for (const name of ['linger', 'sendTimeout', 'heartbeatInterval']) {
      expect(Object.is(setting('ours', name, -0), 0), name).toBe(true);
      expect(Object.is(setting('libzmq', name, -0), 0), name).toBe(true);
    }
  });

  it('routingId (on the types zeromq.js gives it) and zapDomain (on every type) read null until set', () => {
    for (const c of CLASSES) {
      const [theirs, mine] = [make('libzmq', c), make('ours', c)];
      expect(mine.zapDomain, c).toEqual(theirs.zapDomain);
      expect(mine.zapDomain).toBe(null);
      if (!['Request', 'Reply', 'Dealer', 'Router'].includes(c)) continue;
      expect(mine.routingId, c).toEqual(theirs.routingId);
      expect(mine.routingId).toBe(null);
    }
    const set = make('ours', 'Dealer', { routingId: 'me', zapDomain: 'global' });
    expect([set.routingId, set.zapDomain]).toEqual(['me', 'global']);
  });

  it('reconnectInterval 0 and reconnectMaxInterval below it are accepted and read back', () => {
    for (const [name, value] of [['reconnectInterval', 0], ['reconnectInterval', -1], ['reconnectMaxInterval', 1]] as const) {
      expect(setting('ours', name, value)).toEqual(setting('libzmq', name, value));
    }
  });
});
