// zeromq.js's low-level option accessors (`getInt32Option(23)`, `setStringOption(5, v)`, …): libzmq's
// option ids reach the named options, with libzmq's widths and zeromq.js's conversions; an id
// monocoque lacks is EINVAL naming it. And `securityMechanism`, which reads NULL as null.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Context, Dealer, Push, Request, Router, XPublisher } from '../../src/index.js';
import type { Socket } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();

/** The accessors, which zeromq.js (and monocoque) declare protected: subclasses and JavaScript use them. */
interface Accessors {
  getBoolOption(id: unknown): boolean;
  setBoolOption(id: unknown, v: unknown): void;
  getInt32Option(id: unknown): number;
  setInt32Option(id: unknown, v: unknown): void;
  getUint32Option(id: unknown): number;
  setUint32Option(id: unknown, v: unknown): void;
  getInt64Option(id: unknown): number;
  setInt64Option(id: unknown, v: unknown): void;
  getUint64Option(id: unknown): number;
  setUint64Option(id: unknown, v: unknown): void;
  getStringOption(id: unknown): string | null;
  setStringOption(id: unknown, v: unknown): void;
}
const raw = (s: Socket): Accessors => s as unknown as Accessors;
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return 'nothing thrown';
};

describe('securityMechanism (ZMQ_MECHANISM)', () => {
  it('reads null for the NULL mechanism, as zeromq.js, then plain or curve', () => {
    const s = track(new Dealer({ context: new Context() }));
    expect(s.securityMechanism).toBeNull();
    s.plainServer = true;
    expect(s.securityMechanism).toBe('plain');
    s.plainServer = false;
    expect(s.securityMechanism).toBeNull();
    s.curveServerKey = new Uint8Array(32).fill(1);
    expect(s.securityMechanism).toBe('curve');
  });
});

describe('low-level option accessors, by libzmq option id', () => {
  let warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('each width reads and sets its named option (ZMQ_IMMEDIATE 39, ZMQ_BACKLOG 19, ZMQ_MAXMSGSIZE 22, ZMQ_AFFINITY 4)', () => {
    const s = raw(track(new Dealer({ context: new Context() })));
    const d = s as unknown as Dealer;
    expect([s.getBoolOption(39), s.getInt32Option(19), s.getInt64Option(22), s.getUint64Option(4)]).toEqual([false, 100, -1, 0]);
    s.setBoolOption(39, true);
    s.setInt32Option(19, 75);
    s.setInt64Option(22, 0xffffffffffff);
    s.setUint32Option(23, 7);
    expect([d.immediate, d.backlog, d.maxMessageSize, d.sendHighWaterMark]).toEqual([true, 75, 0xffffffffffff, 7]);
    expect([s.getBoolOption(39), s.getInt32Option(19), s.getInt64Option(22), s.getUint32Option(23)]).toEqual([true, 75, 0xffffffffffff, 7]);
  });

  it('strings: text or bytes in, text out (UTF-8), null when unset (ZMQ_ROUTING_ID 5, ZMQ_ZAP_DOMAIN 55, ZMQ_LAST_ENDPOINT 32)', async () => {
    const context = new Context();
    const s = raw(track(new Dealer({ context })));
    expect([s.getStringOption(5), s.getStringOption(55), s.getStringOption(32)]).toEqual([null, null, null]);
    s.setStringOption(5, 'åbçdéfghïjk');
    expect(s.getStringOption(5)).toBe('åbçdéfghïjk');
    s.setStringOption(5, Buffer.from('åbç'));
    expect(s.getStringOption(5)).toBe('åbç');
    s.setStringOption(55, Buffer.from('domain'));
    expect((s as unknown as Dealer).zapDomain).toBe('domain');
    s.setStringOption(55, null);
    expect(s.getStringOption(55)).toBeNull();
    await (s as unknown as Dealer).bind('inproc://ids-last');
    expect(s.getStringOption(32)).toBe('inproc://ids-last');
  });

  it('numbers as libzmq keeps them: ZMQ_TYPE and ZMQ_MECHANISM as its numbers, an int read unsigned, -1 read as uint64', () => {
    const s = raw(track(new Router({ context: new Context(), plainServer: true })));
    expect([s.getInt32Option(16), s.getInt32Option(43)]).toEqual([6, 1]); // ZMQ_ROUTER, ZMQ_PLAIN
    expect(s.getUint32Option(17)).toBe(2 ** 32 - 1); // linger -1
    expect(s.getUint64Option(22)).toBe(2 ** 64); // maxMessageSize -1 (2 ** 64 - 1 as a double)
    s.setUint32Option(17, 2 ** 32 - 1);
    expect((s as unknown as Router).linger).toBe(-1);
    expect(s.getBoolOption(23)).toBe(true); // a 4-byte int, not 0
    s.setInt32Option(33, 1); // ZMQ_ROUTER_MANDATORY, an int in libzmq
    expect((s as unknown as Router).mandatory).toBe(true);
  });

  it('XPUB verbose and verboser (40, 78) set verbosity, as libzmq `xpub.cpp` does', () => {
    const s = raw(track(new XPublisher({ context: new Context() })));
    const x = s as unknown as XPublisher;
    s.setBoolOption(40, true);
    expect(x.verbosity).toBe('allSubs');
    s.setBoolOption(78, true);
    expect(x.verbosity).toBe('allSubsUnsubs');
    s.setBoolOption(78, false);
    expect(x.verbosity).toBeNull();
    expect(thrown(() => s.getBoolOption(40))).toMatchObject({ code: 'EINVAL', message: 'getBoolOption(40): ZMQ_XPUB_VERBOSE can only be set' });
  });

  it('a uint64 past 2^53 warns as zeromq.js does, and is kept', async () => {
    const s = raw(track(new Dealer({ context: new Context() })));
    s.setUint64Option(4, 0xfffffff7fab7fb);
    expect(s.getUint64Option(4)).toBe(0xfffffff7fab7fb);
    s.setUint64Option(4, 0xffffffffffffffff);
    expect(s.getUint64Option(4)).toBe(0xffffffffffffffff);
    await new Promise(process.nextTick);
    expect(warnings).toEqual([
      'Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.',
      'Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.',
    ]);
  });

  it('set after connect warns as the named option does; an HWM does not (it acts at once)', async () => {
    const s = raw(track(new Dealer({ context: new Context() })));
    (s as unknown as Dealer).connect('inproc://ids-late');
    s.setInt32Option(23, 5);
    s.setStringOption(5, 'late');
    await new Promise(process.nextTick);
    expect(warnings).toEqual(['Socket option will not take effect until next connect/bind.']);
  });

  it('an id monocoque lacks, a read-only or write-only one, another type\'s option, the wrong width: EINVAL naming it', () => {
    const s = raw(track(new Dealer({ context: new Context() })));
    // 95 is ZMQ_METADATA (DRAFT; zeromq.js leaves it out too).
    expect(thrown(() => s.getStringOption(95))).toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/^getStringOption\(95\): 95 is not the id of a libzmq option monocoque has; it has 4, 5, 8, /) });
    expect(thrown(() => s.setInt32Option(16, 1))).toMatchObject({ code: 'EINVAL', message: 'setInt32Option(16): ZMQ_TYPE can only be read' });
    expect(thrown(() => s.getBoolOption(33))).toMatchObject({ code: 'EINVAL', message: 'getBoolOption(33): ZMQ_ROUTER_MANDATORY is not an option of a DEALER socket' });
    expect(thrown(() => s.getInt32Option(22))).toMatchObject({ code: 'EINVAL', message: 'getInt32Option(22): ZMQ_MAXMSGSIZE is an 8-byte number; getInt64Option takes it' });
    expect(thrown(() => s.getStringOption(23))).toMatchObject({ code: 'EINVAL', message: 'getStringOption(23): ZMQ_SNDHWM is a 4-byte number; getInt32Option takes it' });
    expect(thrown(() => s.getInt64Option(5))).toMatchObject({ code: 'EINVAL', message: 'getInt64Option(5): ZMQ_ROUTING_ID is text; getStringOption takes it' });
  });

  it('a value the option refuses is the option\'s own EINVAL, and the old value stays', () => {
    const s = raw(track(new Push({ context: new Context() })));
    expect(thrown(() => s.setInt32Option(23, -5))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('option sendHighWaterMark (ZMQ_SNDHWM): -5') });
    expect(s.getInt32Option(23)).toBe(1000);
  });

  it('arguments of the wrong kind are a TypeError, zeromq.js words first', () => {
    const s = raw(track(new Request({ context: new Context() })));
    expect(thrown(() => s.getInt32Option('23'))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/^Identifier must be a number: /) });
    expect(thrown(() => s.setBoolOption(52, 1))).toMatchObject({ name: 'TypeError', message: 'Option value must be a boolean: setBoolOption(52, 1)' });
    expect(thrown(() => s.setInt32Option(17, '0'))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/^Option value must be a number: /) });
    expect(thrown(() => s.setStringOption(5, 5))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/^Option value must be a string or buffer: /) });
  });
});
