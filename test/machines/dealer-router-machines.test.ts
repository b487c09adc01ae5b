// Pure steps of the DEALER and ROUTER machines (`initialTransition` / `transition`, no actor):
// ready and mute flags, the identity table, generated ids, refusal, handover, mandatory.

import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { dealerMachine } from '../../machines/dealer.js';
import { forkable } from '../../machines/forkable.js';
import type { DealerEvent } from '../../machines/dealer.js';
import { pushMachine } from '../../machines/push.js';
import { ConnectIds, generatedRoutingId, knownRoutingId, routerMachine } from '../../machines/router.js';
import type { RouterEvent } from '../../machines/router.js';
import { countWalks } from '../helpers/walks.js';

type RouterSnap = SnapshotFrom<typeof routerMachine>;

const attach = (peerId: number, routingId?: string) =>
  ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType: 'DEALER', ...(routingId === undefined ? {} : { routingId }) }) as const;
const hex = (s: string) => Buffer.from(s).toString('hex');

// The machines change their tables in place: steps taken from one snapshot down several paths go
// through forkable copies (machines/forkable.ts), so every snapshot below stays as it was.
const dealerFork = forkable(dealerMachine);
const routerFork = forkable(routerMachine);

function dealer(events: DealerEvent[]) {
  let [s] = initialTransition(dealerFork);
  for (const e of events) [s] = transition(dealerFork, s, e);
  return s;
}

function router(events: RouterEvent[], input: { nextGeneratedId?: number; handover?: boolean; probeRouter?: boolean } = { nextGeneratedId: 7 }): RouterSnap {
  let [s] = initialTransition(routerFork, input);
  for (const e of events) [s] = transition(routerFork, s, e);
  return s;
}

/** The effect names a step asks the runtime to run, in order. */
function effects(s: RouterSnap, e: RouterEvent): string[] {
  const [, actions] = transition(routerFork, s, e);
  return actions.map((a) => a.type).filter((t) => t === 'evictHolder' || t === 'refuseDuplicate');
}

const ids = (s: { context: { peers: { list(): { id: number }[] } } }) => s.context.peers.list().map((p) => p.id);

/** Every effect a step asks the runtime to run (xstate's own actions and the in-place updates left out), with params. */
function named(actions: readonly { type: string; params?: unknown }[]): [string, unknown][] {
  return actions.filter((a) => ['sendProbe', 'evictHolder', 'refuseDuplicate'].includes(a.type)).map((a) => [a.type, a.params]);
}
const probeOn = { type: 'option.changed', name: 'probeRouter', value: true } as const;

describe('dealerMachine', () => {
  it('dealer: noPeers → ready on attach; mute when every peer is full; ready when one drains', () => {
    expect(dealer([]).value).toEqual({ open: 'noPeers' });
    expect(dealer([attach(1)]).value).toEqual({ open: 'ready' });
    expect(dealer([attach(1), attach(2), { type: 'pipe.muted', peerId: 1 }]).value).toEqual({ open: 'ready' });
    const mute = dealer([attach(1), attach(2), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.muted', peerId: 2 }]);
    expect(mute.value).toEqual({ open: 'mute' });
    expect(mute.context.peers.list().map((p) => p.ready)).toEqual([false, false]);
    const [again] = transition(dealerFork, mute, { type: 'pipe.ready', peerId: 2 });
    expect(again.value).toEqual({ open: 'ready' });
  });

  it('dealer: detaching the last peer returns to noPeers; close ends it', () => {
    expect(dealer([attach(1), { type: 'peer.detached', peerId: 1 }]).value).toEqual({ open: 'noPeers' });
    expect(dealer([attach(1), { type: 'close', linger: 0, queued: 5 }]).value).toBe('closed');
    expect(dealer([attach(1), { type: 'close', linger: -1, queued: 5 }]).value).toBe('lingering');
  });

  it('dealer: with probeRouter (context, set by option.changed) a new peer is asked a sendProbe in its attach step; without, none', () => {
    expect(dealer([]).context.probeRouter).toBe(false);
    const [, plain] = transition(dealerFork, dealer([]), attach(1));
    expect(named(plain)).toEqual([]);
    const probing = dealer([probeOn]);
    expect(probing.context.probeRouter).toBe(true);
    const [next, actions] = transition(dealerFork, probing, attach(3));
    expect(next.value).toEqual({ open: 'ready' });
    expect(named(actions)).toEqual([['sendProbe', { peerId: 3 }]]);
    const off = dealer([probeOn, { ...probeOn, value: false }]);
    expect(named(transition(dealerFork, off, attach(1))[1])).toEqual([]);
    // PUSH shares the statechart but has no such option.
    expect(JSON.parse(JSON.stringify(initialTransition(pushMachine)[0].context))).toEqual({ peers: [] });
    expect(named(transition(pushMachine, initialTransition(pushMachine)[0], probeOn as never)[1])).toEqual([]);
  });

  it('dealer: xstate/graph walks it', () => {
    const paths = getShortestPaths(dealerFork, {
      events: [attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }, { type: 'peer.detached', peerId: 1 }],
      serializeState: (s) => JSON.stringify(s.value),
    });
    expect(new Set(paths.map((p) => JSON.stringify(p.state.value)))).toEqual(
      new Set([{ open: 'noPeers' }, { open: 'ready' }, { open: 'mute' }].map((v) => JSON.stringify(v))),
    );
  });
});

describe('routerMachine', () => {
  it('router: generatedRoutingId is 00 + the uint32 counter big-endian, as hex', () => {
    expect(generatedRoutingId(7)).toBe('0000000007');
    expect(generatedRoutingId(0xdeadbeef)).toBe('00deadbeef');
  });

  it('router: a peer without an id gets the next generated one; the counter advances', () => {
    const s = router([attach(1), attach(2)]);
    expect(s.context.peers.list().map((p) => p.routingId)).toEqual(['0000000007', '0000000008']);
    expect(s.context.routes.toJSON()).toEqual({ '0000000007': 1, '0000000008': 2 });
    expect(s.context.nextGeneratedId).toBe(9);
  });

  it('router: the generated counter wraps at 2^32', () => {
    const s = router([attach(1), attach(2)], { nextGeneratedId: 0xffffffff });
    expect(s.context.peers.list().map((p) => p.routingId)).toEqual(['00ffffffff', '0000000000']);
  });

  it('router: an announced id is used as is and does not advance the counter', () => {
    const s = router([attach(1, hex('alice'))]);
    expect(s.context.routes.toJSON()).toEqual({ [hex('alice')]: 1 });
    expect(s.context.nextGeneratedId).toBe(7);
    expect(s.value).toEqual({ open: { peers: 'attached', mandatory: 'off' } });
  });

  it('router: a duplicate id without handover is refused; the table is unchanged', () => {
    const s = router([attach(1, hex('x'))]);
    expect(effects(s, attach(2, hex('x')))).toEqual(['refuseDuplicate']);
    const [t] = transition(routerFork, s, attach(2, hex('x')));
    expect(t.context.routes.toJSON()).toEqual({ [hex('x')]: 1 });
    expect(ids(t)).toEqual([1]);
  });

  it('router: with handover the newcomer takes the id and the holder leaves the table', () => {
    const s = router([{ type: 'option.changed', name: 'handover', value: true }, attach(1, hex('x')), attach(2, hex('y'))]);
    expect(s.context.handover).toBe(true);
    expect(effects(s, attach(3, hex('x')))).toEqual(['evictHolder']);
    const [t] = transition(routerFork, s, attach(3, hex('x')));
    expect(t.context.routes.toJSON()).toEqual({ [hex('y')]: 2, [hex('x')]: 3 });
    expect(ids(t)).toEqual([2, 3]);
    // The evicted peer's later peer.detached must not take the id from its new holder.
    const [u] = transition(routerFork, t, { type: 'peer.detached', peerId: 1 });
    expect(u.context.routes.toJSON()).toEqual({ [hex('y')]: 2, [hex('x')]: 3 });
  });

  it('router: the evictHolder effect names the old holder (worked out before the table changes)', () => {
    const s = router([attach(1, hex('x'))], { nextGeneratedId: 0, handover: true });
    const [, actions] = transition(routerFork, s, attach(2, hex('x')));
    const evict = actions.find((a) => a.type === 'evictHolder')!;
    expect(evict.params).toEqual({ peerId: 1, routingId: hex('x') });
  });

  it('router: detach removes the peer and its id', () => {
    const s = router([attach(1, hex('a')), attach(2), { type: 'peer.detached', peerId: 1 }]);
    expect(s.context.routes.toJSON()).toEqual({ '0000000007': 2 });
    const none = router([attach(1), { type: 'peer.detached', peerId: 1 }]);
    expect(none.value).toEqual({ open: { peers: 'noPeers', mandatory: 'off' } });
  });

  it('router: mute per peer follows pipe.muted / pipe.ready', () => {
    const s = router([attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(s.context.peers.list().map((p) => p.ready)).toEqual([true, false]);
    const [t] = transition(routerFork, s, { type: 'pipe.ready', peerId: 2 });
    expect(t.context.peers.list().map((p) => p.ready)).toEqual([true, true]);
  });

  it('router: the mandatory region says what happens to an undeliverable message (drop, or fail/wait)', () => {
    const on = router([{ type: 'option.changed', name: 'mandatory', value: true }]);
    expect(on.matches({ open: { mandatory: 'on' } })).toBe(true);
    const [off] = transition(routerFork, on, { type: 'option.changed', name: 'mandatory', value: false });
    expect(off.matches({ open: { mandatory: 'off' } })).toBe(true);
    // A handover change does not touch the mandatory region.
    const [still] = transition(routerFork, on, { type: 'option.changed', name: 'handover', value: true });
    expect(still.matches({ open: { mandatory: 'on' } })).toBe(true);
    expect(still.context.handover).toBe(true);
  });

  it('router: peer.identified re-keys a peer from its generated id to the announced one', () => {
    const s = router([attach(1), { type: 'peer.identified', peerId: 1, peerType: 'DEALER', routingId: hex('B') }]);
    expect(s.context.routes.toJSON()).toEqual({ [hex('B')]: 1 });
    expect(s.context.peers.list()[0]!.routingId).toBe(hex('B'));
    // No id, or the same id: the table does not change.
    const same = router([attach(1), { type: 'peer.identified', peerId: 1, peerType: 'DEALER' }]);
    expect(same.context.routes.toJSON()).toEqual({ '0000000007': 1 });
  });

  it('router: peer.identified with a taken id refuses the peer, or hands over with handover', () => {
    const s = router([attach(1, hex('B')), attach(2)]);
    const ev: RouterEvent = { type: 'peer.identified', peerId: 2, peerType: 'DEALER', routingId: hex('B') };
    expect(effects(s, ev)).toEqual(['refuseDuplicate']);
    const [refused] = transition(routerFork, s, ev);
    expect(refused.context.routes.toJSON()).toEqual({ [hex('B')]: 1 });
    expect(ids(refused)).toEqual([1]);

    const h = router([{ type: 'option.changed', name: 'handover', value: true }, attach(1, hex('B')), attach(2)]);
    expect(effects(h, ev)).toEqual(['evictHolder']);
    const [handed] = transition(routerFork, h, ev);
    expect(handed.context.routes.toJSON()).toEqual({ [hex('B')]: 2 });
    expect(ids(handed)).toEqual([2]);
  });

  it('router: with probeRouter a new peer is asked a sendProbe after it is entered (after the holder is evicted on handover); a refused one is not', () => {
    expect(router([]).context.probeRouter).toBe(false);
    expect(named(transition(routerFork, router([]), attach(1))[1])).toEqual([]);
    const probing = router([probeOn]);
    expect(probing.context.probeRouter).toBe(true);
    expect(router([], { probeRouter: true }).context.probeRouter).toBe(true);
    expect(named(transition(routerFork, probing, attach(1, hex('a')))[1])).toEqual([['sendProbe', { peerId: 1 }]]);
    const taken = router([probeOn, attach(1, hex('a'))]);
    expect(named(transition(routerFork, taken, attach(2, hex('a')))[1])).toEqual([['refuseDuplicate', { peerId: 2, routingId: hex('a') }]]);
    const handover = router([probeOn, { type: 'option.changed', name: 'handover', value: true }, attach(1, hex('a'))]);
    const [handed, actions] = transition(routerFork, handover, attach(2, hex('a')));
    expect(named(actions)).toEqual([['evictHolder', { peerId: 1, routingId: hex('a') }], ['sendProbe', { peerId: 2 }]]);
    expect(ids(handed)).toEqual([2]);
  });

  it('router: the routing ids connect() gave are context, and outrank the id a peer reached through that endpoint announces', () => {
    const named = { type: 'connect.named', endpoint: 'tcp://h:1', routingId: hex('given') } as const;
    const viaConnect = { type: 'peer.attached', peerId: 1, endpoint: 'tcp://h:1', peerType: '' } as const;
    const s = router([named, { type: 'connect.named', endpoint: 'tcp://h:2', routingId: hex('other') }, viaConnect]);
    expect(JSON.parse(JSON.stringify(s.context.connectIds))).toEqual({ 'tcp://h:1': hex('given'), 'tcp://h:2': hex('other') });
    // The peer announces its own id once its handshake is done: the connect's id wins.
    const [identified] = transition(routerFork, s, { type: 'peer.identified', peerId: 1, peerType: 'DEALER', routingId: hex('own') });
    expect(identified.context.routes.toJSON()).toEqual({ [hex('given')]: 1 });
    expect(identified.context.peers.get(1)?.routingId).toBe(hex('given'));
    // A peer of another endpoint keeps what it announces.
    const other = router([named, { type: 'peer.attached', peerId: 2, endpoint: 'tcp://h:9', peerType: '' }, { type: 'peer.identified', peerId: 2, peerType: 'DEALER', routingId: hex('own') }]);
    expect(other.context.routes.holderOf(hex('own'))).toBe(2);
    // Dropped (disconnect): the table forgets the endpoint.
    expect(router([named, { type: 'connect.dropped', endpoint: 'tcp://h:1' }]).context.connectIds.size).toBe(0);
  });

  it('router: knownRoutingId: the connect\'s id, unless the peer was accepted; else the announced one', () => {
    const ids = new ConnectIds();
    ids.set('inproc://a', 'aa01');
    expect(knownRoutingId(ids, 'inproc://a', 'bb')).toBe('aa01');
    expect(knownRoutingId(ids, 'inproc://a', undefined)).toBe('aa01');
    expect(knownRoutingId(ids, 'inproc://a', 'bb', true)).toBe('bb');
    expect(knownRoutingId(ids, 'inproc://b', 'bb')).toBe('bb');
    expect(ids.names('aa01')).toBe(true);
    expect(ids.names('bb')).toBe(false);
  });

  it('router: ConnectIds.names counts the connects that gave an id: a second connect, a replaced id and a delete', () => {
    const ids = new ConnectIds();
    ids.set('tcp://h:1', 'aa');
    ids.set('tcp://h:2', 'aa');
    ids.delete('tcp://h:1');
    expect(ids.names('aa')).toBe(true); // the other connect still names it
    ids.set('tcp://h:2', 'bb'); // the same connect, a new id
    expect(ids.names('aa')).toBe(false);
    expect(ids.names('bb')).toBe(true);
    const copy = ids.clone();
    ids.delete('tcp://h:2');
    ids.delete('tcp://h:2'); // twice: nothing more to forget
    expect(ids.names('bb')).toBe(false);
    expect(copy.names('bb')).toBe(true);
    expect(ids.size).toBe(0);
  });

  it('router: ConnectIds.names looks the id up: with 2,000 connect ids it walks none of them', () => {
    const ids = new ConnectIds();
    for (let i = 0; i < 2000; i++) ids.set(`tcp://h:${i}`, i.toString(16).padStart(4, '0'));
    // Counts every step of every Map walk while names() answers (searching the connects for the id,
    // as before 4d5d9a4, takes 2,000 of them for an id none gave).
    let answers: boolean[] = [];
    const steps = countWalks(Map, () => {
      answers = [ids.names('ffff'), ids.names('07d0'), ids.names('0400')];
    });
    expect(answers).toEqual([false, false, true]);
    expect(steps).toBe(0);
  });

  it('router: context serialises as plain JSON (the inspector shows it): peers, the identity table, the counter', () => {
    const s = router([attach(1, hex('a')), attach(2)]);
    expect(JSON.parse(JSON.stringify(s.context))).toEqual({
      peers: [
        { id: 1, endpoint: 'inproc://x', peerType: 'DEALER', ready: true, routingId: hex('a') },
        { id: 2, endpoint: 'inproc://x', peerType: 'DEALER', ready: true, routingId: '0000000007' },
      ],
      routes: { [hex('a')]: 1, '0000000007': 2 },
      connectIds: {},
      nextGeneratedId: 8,
      handover: false,
      probeRouter: false,
    });
  });

  it('router: xstate/graph walks it', () => {
    const paths = getShortestPaths(routerFork, {
      input: { nextGeneratedId: 0 },
      events: [
        attach(1, hex('a')),
        attach(2, hex('a')),
        { type: 'peer.detached', peerId: 1 },
        { type: 'option.changed', name: 'mandatory', value: true },
        { type: 'option.changed', name: 'handover', value: true },
      ],
      serializeState: (s) => JSON.stringify([s.value, s.context.routes, s.context.handover]),
    });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(values).toContain(JSON.stringify({ open: { peers: 'attached', mandatory: 'on' } }));
    expect(values).toContain(JSON.stringify({ open: { peers: 'noPeers', mandatory: 'off' } }));
    // Some path hands 'a' over from peer 1 to peer 2.
    expect(paths.some((p) => p.state.context.routes.holderOf(hex('a')) === 2)).toBe(true);
  });
});
