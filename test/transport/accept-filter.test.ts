// ZMQ_TCP_ACCEPT_FILTER: a tcp bind takes streams only from the addresses its filters match, each
// set adding a filter as in libzmq; refused streams are closed at once and reported as accept:error.
// Sources other than 127.0.0.1 come from binding the client to 127.0.0.2 (Linux routes 127/8 to
// loopback), so the filters are tested on addresses that differ, not only on "refuse everything".

import { connect as netConnect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import * as zmq from 'zeromq';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import type { SocketEvent } from '../../src/core/events.js';
import { bytesArrived, closedStream, nextEvent, own, recordEvents, text, track } from './helpers.js';
import { countArrayWork } from '../helpers/walks.js';

const LOCAL = 'tcp://127.0.0.1:*';

/** A raw tcp client of `endpoint` whose source address is `from`. */
function rawFrom(endpoint: string, from: string): NetSocket {
  const port = Number(endpoint.split(':').pop());
  return own(netConnect({ host: '127.0.0.1', port, localAddress: from }));
}

/** A Router bound to 127.0.0.1 with the given accept filters set one after the other. */
async function filteredRouter(filters: (string | null)[], options: { ipv6?: boolean } = {}, bindTo = LOCAL): Promise<Router> {
  const router = track(new Router({ context: new Context(), ...options }));
  for (const f of filters) router.tcpAcceptFilter = f;
  await router.bind(bindTo);
  return router;
}

/** Sends from a Dealer of our own to `router` and returns what the router received (after the id). */
async function roundTrip(router: Router, payload: string): Promise<string[]> {
  const dealer = track(new Dealer({ context: new Context() }));
  dealer.connect(router.lastEndpoint!.replace('[::]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1'));
  await dealer.send(payload);
  return text((await router.receive()).slice(1));
}

describe('tcpAcceptFilter (ZMQ_TCP_ACCEPT_FILTER)', () => {
  it('a stream from an address no filter matches is closed at once and reported as accept:error (EACCES); one that matches is taken', async () => {
    const router = await filteredRouter(['127.0.0.2']);
    const events = recordEvents(router);
    const refusedEvent = nextEvent(router, 'accept:error');
    const refused = rawFrom(router.lastEndpoint!, '127.0.0.1');
    await closedStream(refused);
    const e = (await refusedEvent) as SocketEvent & { error: { code: string; message: string } };
    expect(e.address).toBe(router.lastEndpoint);
    expect(e.error.code).toBe('EACCES');
    expect(e.error.message).toContain('127.0.0.1');
    expect(e.error.message).toContain('"127.0.0.2"');
    expect(e.peer?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    // Refused in the same handler that would have reported the accept: none was reported.
    expect(events.filter((x) => x.type === 'accept')).toEqual([]);
    expect(router.readable).toBe(false);

    // From 127.0.0.2 the same bind takes the stream and speaks ZMTP: our greeting's first 10 octets.
    const accepted = nextEvent(router, 'accept');
    const taken = rawFrom(router.lastEndpoint!, '127.0.0.2');
    expect((await bytesArrived(taken, 10))[0]).toBe(0xff);
    expect((await accepted).peer?.remoteAddress).toMatch(/^127\.0\.0\.2:\d+$/);
  });

  it('each set adds a filter (libzmq keeps them all); the property reads back the last one set', async () => {
    // With only the last filter (10.0.0.1), a client on 127.0.0.1 would be refused.
    const router = await filteredRouter(['127.0.0.0/8', '10.0.0.1']);
    expect(router.tcpAcceptFilter).toBe('10.0.0.1');
    expect(await roundTrip(router, 'through the first filter')).toEqual(['through the first filter']);
  });

  // Each set copied the list of those before it: 64,000 sets took 29 s.
  it('2,000 filters set one by one: no set copies the list, and the bind uses those set before the last (a peer comes through the 1,001st)', async () => {
    const router = track(new Router({ context: new Context() }));
    const filters = Array.from({ length: 2000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
    filters[1000] = '127.0.0.1';
    const copied = countArrayWork(['slice', 'concat', 'filter', 'map', Symbol.iterator], () => {
      for (let i = 0; i < filters.length; i++) router.tcpAcceptFilter = filters[i]!; // (a for-of would count)
    }, 64);
    expect(copied).toBe(0);
    expect(router.tcpAcceptFilter).toBe(filters[1999]);
    await router.bind(LOCAL);
    expect(await roundTrip(router, 'via the 1,001st filter')).toEqual(['via the 1,001st filter']);
  });

  it('null clears every filter set before it', async () => {
    const open = await filteredRouter(['10.0.0.1', null]);
    expect(open.tcpAcceptFilter).toBe(null);
    expect(await roundTrip(open, 'no filter left')).toEqual(['no filter left']);

    // Cleared, then one set again: only that one counts.
    const closed = await filteredRouter(['127.0.0.1', null, '10.0.0.1']);
    const refusedEvent = nextEvent(closed, 'accept:error');
    await closedStream(rawFrom(closed.lastEndpoint!, '127.0.0.1'));
    expect(((await refusedEvent) as { error: { code: string } }).error.code).toBe('EACCES');
  });

  it('the filters are those set when the bind was made, as libzmq copies the options to its listener', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const router = await filteredRouter([]);
      const first = router.lastEndpoint!;
      router.tcpAcceptFilter = '10.0.0.1'; // reaches later binds only (and warns, as zeromq.js does)
      expect(warn).toHaveBeenCalled();
      await router.bind(LOCAL);
      const second = router.lastEndpoint!;

      const accepted = nextEvent(router, 'accept', (e) => e.address === first);
      await bytesArrived(rawFrom(first, '127.0.0.1'), 10);
      await accepted;
      const refusedEvent = nextEvent(router, 'accept:error');
      await closedStream(rawFrom(second, '127.0.0.1'));
      expect((await refusedEvent).address).toBe(second);
    } finally {
      warn.mockRestore();
    }
  });

  it('masks: a /24 takes 127.0.0.2 and a /32 of another address does not; an IPv4 filter matches the mapped address a dual-stack bind sees', async () => {
    const masked = await filteredRouter(['127.0.0.0/24']);
    await bytesArrived(rawFrom(masked.lastEndpoint!, '127.0.0.2'), 10);

    const exact = await filteredRouter(['127.0.0.3/32']);
    const refusedEvent = nextEvent(exact, 'accept:error');
    await closedStream(rawFrom(exact.lastEndpoint!, '127.0.0.2'));
    await refusedEvent;

    // ipv6 on and a wildcard bind: an IPv4 client arrives as ::ffff:127.0.0.1.
    const dual = await filteredRouter(['127.0.0.1'], { ipv6: true }, 'tcp://*:*');
    const accepted = nextEvent(dual, 'accept');
    expect(await roundTrip(dual, 'over a dual-stack bind')).toEqual(['over a dual-stack bind']);
    expect((await accepted).peer?.remoteAddress).toContain('127.0.0.1');
  });

  it('with a libzmq peer: a zeromq.js Dealer is refused by a filter that does not match it and served by one that does', async () => {
    const refusing = await filteredRouter(['127.0.0.2']);
    const refusedEvent = nextEvent(refusing, 'accept:error');
    const turnedAway = new zmq.Dealer({ linger: 0 });
    try {
      turnedAway.connect(refusing.lastEndpoint!);
      expect(((await refusedEvent) as { error: { code: string } }).error.code).toBe('EACCES');
    } finally {
      turnedAway.close();
    }

    const serving = await filteredRouter(['10.0.0.0/8', '127.0.0.1']);
    const dealer = new zmq.Dealer({ linger: 0 });
    try {
      dealer.connect(serving.lastEndpoint!);
      await dealer.send('from libzmq');
      expect(text((await serving.receive()).slice(1))).toEqual(['from libzmq']);
    } finally {
      dealer.close();
    }
  });
});
