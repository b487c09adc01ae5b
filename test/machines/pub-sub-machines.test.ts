// The PUB, XPUB, SUB and XSUB machines as pure steps: no actor, no pipes. Each step checks the
// state, the JSON context the inspector shows (the tries the machines keep), and the effects the
// machine asks the runtime for. Steps go through forkable copies: the tries change in place.

import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { forkable } from '../../machines/forkable.js';
import { checksRoom, holdsPrefix, publisherMachine, subscriberCount } from '../../machines/publisher.js';
import { countOf, isWanted, subscribedPrefixes, subscriberMachine } from '../../machines/subscriber.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';

type Step = { type: string; [key: string]: unknown };

/** Runs events from the initial state; returns the last snapshot and the effects of the last step. */
function run<M extends AnyStateMachine>(original: M, events: Step[]) {
  const machine = forkable(original);
  let [snapshot] = initialTransition(machine as AnyStateMachine) as [SnapshotFrom<M>, unknown];
  let effects: { type: string; params: unknown }[] = [];
  for (const e of events) {
    const [next, actions] = transition(machine as AnyStateMachine, snapshot as never, e as never);
    snapshot = next as SnapshotFrom<M>;
    effects = actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
  }
  const json = JSON.parse(JSON.stringify((snapshot as { context: unknown }).context)) as Record<string, unknown>;
  return { snapshot, effects, effectTypes: effects.map((e) => e.type), json };
}

const attach = (peerId: number, peerType = 'SUB'): Step => ({ type: 'peer.attached', peerId, endpoint: 'inproc://t', peerType });
const detach = (peerId: number): Step => ({ type: 'peer.detached', peerId });
const added = (peerId: number, prefix: string): Step => ({ type: 'subscription.added', peerId, prefix });
const removed = (peerId: number, prefix: string): Step => ({ type: 'subscription.removed', peerId, prefix });

describe('the tries as the machines keep them', () => {
  it('rules: a peer holds a prefix at most once, and an emptied prefix disappears', () => {
    const r = run(publisherMachine, [attach(1), attach(2), added(1, '41'), added(1, '41'), added(2, '41'), added(2, '')]);
    const t = r.snapshot.context.subscriptions;
    expect(r.json.subscriptions).toEqual({ '41': [1, 2], '': [2] });
    expect([holdsPrefix(t, '41', 1), holdsPrefix(t, '42', 1), subscriberCount(t, '41'), subscriberCount(t, '')]).toEqual([true, false, 2, 1]);
    expect(run(publisherMachine, [attach(1), attach(2), added(1, '41'), added(2, '41'), removed(1, '41')]).json.subscriptions).toEqual({ '41': [2] });
    expect(run(publisherMachine, [attach(2), added(2, '41'), added(2, ''), detach(2)]).json.subscriptions).toEqual({});
  });

  it('rules: counts go up and down, a count of 0 removes the prefix, and the filter matches prefixes', () => {
    const two = run(subscriberMachine, [{ type: 'subscribe', prefix: 'ff' }, { type: 'subscribe', prefix: 'ff' }]);
    expect(two.json.subscriptions).toEqual({ ff: 2 });
    expect(countOf(two.snapshot.context.subscriptions, 'ff')).toBe(2);
    expect(isWanted(two.snapshot.context, Buffer.from([0xff, 1]))).toBe(true);
    expect(isWanted(two.snapshot.context, Buffer.from([0xfe]))).toBe(false);
    expect(subscribedPrefixes(two.snapshot.context.subscriptions)).toEqual(['ff']);
    const none = run(subscriberMachine, [{ type: 'subscribe', prefix: 'ff' }, { type: 'subscribe', prefix: 'ff' }, { type: 'unsubscribe', prefix: 'ff' }, { type: 'unsubscribe', prefix: 'ff' }]);
    expect(none.json.subscriptions).toEqual({});
  });
});

describe('publisherMachine', () => {
  it('pub machine: subscriptions from known peers build the trie the runtime fans out with', () => {
    const first = run(publisherMachine, [attach(1), added(1, '41')]);
    expect(first.json.subscriptions).toEqual({ '41': [1] });
    expect(first.effects).toEqual([]);
    // A repeat from the same peer changes nothing.
    const repeat = run(publisherMachine, [attach(1), added(1, '41'), added(1, '41')]);
    expect(repeat.json.subscriptions).toEqual({ '41': [1] });
    // An unknown peer is ignored.
    const stranger = run(publisherMachine, [attach(1), added(7, '41')]);
    expect(stranger.json.subscriptions).toEqual({});
  });

  it('pub machine: a cancel of a held prefix removes it; other cancels are ignored', () => {
    const r = run(publisherMachine, [attach(1), attach(2), added(1, '41'), added(2, '41'), removed(1, '41')]);
    expect(r.json.subscriptions).toEqual({ '41': [2] });
    const none = run(publisherMachine, [attach(1), removed(1, '41')]);
    expect(none.json.subscriptions).toEqual({});
  });

  it('pub machine: a detached peer leaves the peer list and every prefix', () => {
    const r = run(publisherMachine, [attach(1), attach(2), added(1, '41'), added(1, ''), added(2, '41'), detach(1)]);
    expect(r.snapshot.context.peers.list().map((p) => p.id)).toEqual([2]);
    expect(r.json.subscriptions).toEqual({ '41': [2] });
    expect(r.snapshot.value).toEqual({ open: 'flowing' });
  });

  it('pub machine: noPeers → flowing → congested on a full pipe, back on ready; the rule is drop unless noDrop', () => {
    expect(run(publisherMachine, []).snapshot.value).toEqual({ open: 'noPeers' });
    expect(run(publisherMachine, [attach(1)]).snapshot.value).toEqual({ open: 'flowing' });
    const muted = run(publisherMachine, [attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(muted.snapshot.value).toEqual({ open: 'congested' });
    expect(muted.snapshot.context.peers.list().map((p) => p.ready)).toEqual([true, false]);
    expect(muted.snapshot.context.whenMute).toBe('drop');
    expect(checksRoom(muted.snapshot.context)).toBe(false);
    const waiting = run(publisherMachine, [{ type: 'configure', noDrop: true }, attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(checksRoom(waiting.snapshot.context)).toBe(true);
    // A mute subscriber leaving, or draining, leaves everyone with room again.
    expect(run(publisherMachine, [attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }, detach(2)]).snapshot.value).toEqual({ open: 'flowing' });
    expect(run(publisherMachine, [attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }, attach(3)]).snapshot.value).toEqual({ open: 'congested' });
    const back = run(publisherMachine, [attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }]);
    expect(back.snapshot.value).toEqual({ open: 'flowing' });
    expect(run(publisherMachine, [{ type: 'configure', noDrop: true }]).snapshot.context.whenMute).toBe('wait');
    expect(run(publisherMachine, [attach(1), detach(1)]).snapshot.value).toEqual({ open: 'noPeers' });
  });

  it('pub machine: close with queued messages lingers, without goes straight to closed', () => {
    expect(run(publisherMachine, [attach(1), { type: 'close', linger: -1, queued: 3 }]).snapshot.value).toBe('lingering');
    const closed = run(publisherMachine, [attach(1), { type: 'close', linger: -1, queued: 0 }]);
    expect(closed.snapshot.value).toBe('closed');
    expect(closed.effectTypes).toEqual(['release']);
  });

  it('pub machine: the context serialises as JSON (what the inspector shows)', () => {
    const r = run(publisherMachine, [attach(1), added(1, '00ff')]);
    expect(r.json).toEqual({ peers: [{ id: 1, endpoint: 'inproc://t', peerType: 'SUB', ready: true }], subscriptions: { '00ff': [1] }, whenMute: 'drop', invertMatching: false });
  });
});

describe('xpublisherMachine', () => {
  // What the application is told: notify effects with at least one prefix (an empty one queues nothing).
  const notices = (effects: { type: string; params: unknown }[]) =>
    effects.filter((e) => e.type === 'notify' && (e.params as { prefixes: string[] }).prefixes.length > 0).map((e) => e.params);

  it('xpub machine: by default only the first subscriber of a prefix is reported', () => {
    expect(notices(run(xpublisherMachine, [attach(1), added(1, '41')]).effects)).toEqual([{ subscribe: true, prefixes: ['41'] }]);
    expect(notices(run(xpublisherMachine, [attach(1), attach(2), added(1, '41'), added(2, '41')]).effects)).toEqual([]);
    expect(notices(run(xpublisherMachine, [attach(1), added(1, '41'), added(1, '41')]).effects)).toEqual([]);
  });

  it('xpub machine: allSubs reports every subscribe, repeats from the same peer included', () => {
    const r = run(xpublisherMachine, [{ type: 'configure', verbosity: 'allSubs' }, attach(1), added(1, '41'), added(1, '41')]);
    expect(notices(r.effects)).toEqual([{ subscribe: true, prefixes: ['41'] }]);
    expect(r.json.subscriptions).toEqual({ '41': [1] });
  });

  it('xpub machine: a cancel is reported when no other subscriber remains, or for a prefix never held (libzmq not_found)', () => {
    const base = [attach(1), attach(2), added(1, '41'), added(2, '41')];
    expect(notices(run(xpublisherMachine, [...base, removed(1, '41')]).effects)).toEqual([]);
    expect(notices(run(xpublisherMachine, [...base, removed(1, '41'), removed(2, '41')]).effects)).toEqual([{ subscribe: false, prefixes: ['41'] }]);
    expect(notices(run(xpublisherMachine, [attach(1), removed(1, '42')]).effects)).toEqual([{ subscribe: false, prefixes: ['42'] }]);
    const verbose = run(xpublisherMachine, [{ type: 'configure', verbosity: 'allSubsUnsubs' }, ...base, removed(1, '41')]);
    expect(notices(verbose.effects)).toEqual([{ subscribe: false, prefixes: ['41'] }]);
    // allSubs alone does not report the cancels that leave subscribers behind.
    expect(notices(run(xpublisherMachine, [{ type: 'configure', verbosity: 'allSubs' }, ...base, removed(1, '41')]).effects)).toEqual([]);
  });

  it('xpub machine: a detaching subscriber yields cancels for its orphaned prefixes, in byte order; verboser for all it held', () => {
    const base = [attach(1), attach(2), added(1, 'ff'), added(1, '41'), added(1, '00'), added(2, '41')];
    const plain = run(xpublisherMachine, [...base, detach(1)]);
    expect(notices(plain.effects)).toEqual([{ subscribe: false, prefixes: ['00', 'ff'] }]);
    expect(plain.json.subscriptions).toEqual({ '41': [2] });
    const verboser = run(xpublisherMachine, [{ type: 'configure', verbosity: 'allSubsUnsubs' }, ...base, detach(1)]);
    expect(notices(verboser.effects)).toEqual([{ subscribe: false, prefixes: ['00', '41', 'ff'] }]);
    expect(notices(run(xpublisherMachine, [attach(1), detach(1)]).effects)).toEqual([]);
  });

  it('xpub machine: a welcome message set by configure is context (hex); a new subscriber is asked a sendWelcome in its attach step, whatever the sending state', () => {
    const welcome = { type: 'configure', welcomeMessage: '6869' };
    expect(run(xpublisherMachine, []).json.welcomeMessage).toBe(null);
    expect(run(xpublisherMachine, [welcome]).json.welcomeMessage).toBe('6869');
    const welcomes = (effects: { type: string; params: unknown }[]) => effects.filter((e) => e.type === 'sendWelcome').map((e) => e.params);
    expect(welcomes(run(xpublisherMachine, [attach(1)]).effects)).toEqual([]);
    const first = run(xpublisherMachine, [welcome, attach(1)]);
    expect(first.snapshot.value).toEqual({ open: 'flowing' });
    expect(welcomes(first.effects)).toEqual([{ peerId: 1, message: '6869' }]);
    // Another subscriber at its HWM: the new one is still welcomed, and the state stays congested.
    const congested = run(xpublisherMachine, [welcome, attach(1), { type: 'pipe.muted', peerId: 1 }, attach(2)]);
    expect(congested.snapshot.value).toEqual({ open: 'congested' });
    expect(welcomes(congested.effects)).toEqual([{ peerId: 2, message: '6869' }]);
    // Cleared by configure null; a configure that names other options keeps it.
    expect(welcomes(run(xpublisherMachine, [welcome, { type: 'configure', welcomeMessage: null }, attach(1)]).effects)).toEqual([]);
    expect(run(xpublisherMachine, [welcome, { type: 'configure', verbosity: 'allSubs' }]).json.welcomeMessage).toBe('6869');
    // PUB has no welcome.
    expect(run(publisherMachine, [welcome, attach(1)]).effectTypes).toEqual([]);
  });

  it('xpub machine: in manual mode, subscribe applies to the peer of the notice read last, while it stays (manualTarget)', () => {
    const manual = { type: 'configure', manual: true };
    const base = [manual, attach(1), attach(2), added(1, '41'), added(2, '42')];
    const sub = (prefix: string): Step => ({ type: 'subscribe', prefix });
    const read = (peerId: number): Step => ({ type: 'notice.read', peerId });
    // Nothing read yet: nothing applies.
    expect(run(xpublisherMachine, [...base, sub('41')]).json.subscriptions).toEqual({});
    // Each applies to the peer whose notice was read last.
    const both = run(xpublisherMachine, [...base, read(1), sub('41'), read(2), sub('42'), sub('43')]);
    expect(both.json.subscriptions).toEqual({ '41': [1], '42': [2], '43': [2] });
    expect(both.json.lastNoticePeer).toBe(2);
    const cancelled = run(xpublisherMachine, [...base, read(2), sub('42'), { type: 'unsubscribe', prefix: '42' }]);
    expect(cancelled.json.subscriptions).toEqual({});
    // That peer left: nothing applies (libzmq forgets `_last_pipe`), even to a peer that came after.
    const gone = run(xpublisherMachine, [...base, read(2), detach(2), attach(3), sub('44')]);
    expect(gone.json.subscriptions).toEqual({});
    // Not in manual mode: the command does nothing here (the socket answers EINVAL before it).
    expect(run(xpublisherMachine, [attach(1), read(1), sub('41')]).json.subscriptions).toEqual({});
  });

  it('xpub machine: noDrop and verbosity are context, changed by configure', () => {
    const r = run(xpublisherMachine, [{ type: 'configure', noDrop: true, verbosity: 'allSubsUnsubs' }]);
    expect(r.snapshot.context).toMatchObject({ whenMute: 'wait', verbosity: 'allSubsUnsubs' });
    const back = run(xpublisherMachine, [{ type: 'configure', noDrop: true, verbosity: 'allSubs' }, { type: 'configure', verbosity: null }]);
    expect(back.snapshot.context).toMatchObject({ whenMute: 'wait', verbosity: null });
  });
});

describe('subscriberMachine and xsubscriberMachine', () => {
  for (const [name, machine] of [['sub', subscriberMachine], ['xsub', xsubscriberMachine]] as const) {
    it(`${name} machine: every subscribe counts, filters and travels upstream`, () => {
      const once = run(machine, [attach(1, 'PUB'), { type: 'subscribe', prefix: '41' }]);
      expect(once.json.subscriptions).toEqual({ '41': 1 });
      expect(isWanted(once.snapshot.context, Buffer.from('AB'))).toBe(true);
      expect(once.effects).toEqual([{ type: 'sendSubscription', params: { subscribe: true, prefix: '41' } }]);
      const twice = run(machine, [{ type: 'subscribe', prefix: '41' }, { type: 'subscribe', prefix: '41' }]);
      expect(twice.json.subscriptions).toEqual({ '41': 2 });
      expect(twice.effectTypes).toEqual(['sendSubscription']);
    });

    it(`${name} machine: subscribe.batch counts each prefix, repeats included, and sends each, in order`, () => {
      const r = run(machine, [attach(1, 'PUB'), { type: 'subscribe', prefix: '41' }, { type: 'subscribe.batch', prefixes: ['42', '41', ''] }]);
      expect(r.json.subscriptions).toEqual({ '': 1, '41': 2, '42': 1 });
      expect(r.effects).toEqual([{ type: 'sendSubscriptions', params: { prefixes: ['42', '41', ''] } }]);
      // A batch counts as that many subscribes: the cancel of "41" still needs two unsubscribes.
      const after = run(machine, [{ type: 'subscribe.batch', prefixes: ['41', '41'] }, { type: 'unsubscribe', prefix: '41' }]);
      expect(after.json.subscriptions).toEqual({ '41': 1 });
      expect(after.effects).toEqual([]);
    });

    it(`${name} machine: a queued subscribe waits in pending, neither counted nor sent, until a pending batch takes the oldest`, () => {
      const queued = run(machine, [attach(1, 'PUB'), { type: 'subscribe.queued', prefix: '41' }, { type: 'subscribe.queued', prefix: '42' }, { type: 'subscribe.queued', prefix: '43' }]);
      expect(queued.json.pending).toEqual(['41', '42', '43']);
      expect(queued.json.subscriptions).toEqual({});
      expect(queued.effects).toEqual([]);
      const applied = run(machine, [
        attach(1, 'PUB'), { type: 'subscribe.queued', prefix: '41' }, { type: 'subscribe.queued', prefix: '42' }, { type: 'subscribe.queued', prefix: '43' },
        { type: 'subscribe.batch', prefixes: ['41', '42'], pending: true },
      ]);
      expect(applied.json.pending).toEqual(['43']);
      expect(applied.json.subscriptions).toEqual({ '41': 1, '42': 1 });
      expect(applied.effects).toEqual([{ type: 'sendSubscriptions', params: { prefixes: ['41', '42'] } }]);
    });

    it(`${name} machine: a cancel travels only when the count reaches 0; unknown prefixes are ignored`, () => {
      const s = [{ type: 'subscribe', prefix: '41' }, { type: 'subscribe', prefix: '41' }];
      const first = run(machine, [...s, { type: 'unsubscribe', prefix: '41' }]);
      expect(first.json.subscriptions).toEqual({ '41': 1 });
      expect(first.effects).toEqual([]);
      const last = run(machine, [...s, { type: 'unsubscribe', prefix: '41' }, { type: 'unsubscribe', prefix: '41' }]);
      expect(last.json.subscriptions).toEqual({});
      expect(isWanted(last.snapshot.context, Buffer.from('AB'))).toBe(false);
      expect(last.effects).toEqual([{ type: 'sendSubscription', params: { subscribe: false, prefix: '41' } }]);
      expect(run(machine, [{ type: 'unsubscribe', prefix: '42' }]).effects).toEqual([]);
    });

    it(`${name} machine: a new publisher gets every prefix once, in byte order`, () => {
      const r = run(machine, [
        { type: 'subscribe', prefix: 'ff' },
        { type: 'subscribe', prefix: '' },
        { type: 'subscribe', prefix: '00' },
        { type: 'subscribe', prefix: '00' },
        attach(3, 'PUB'),
      ]);
      expect(r.effects).toEqual([{ type: 'replaySubscriptions', params: { peerId: 3, prefixes: ['', '00', 'ff'] } }]);
      expect(r.snapshot.value).toEqual({ open: 'attached' });
      expect(run(machine, [attach(3), detach(3)]).snapshot.value).toEqual({ open: 'noPeers' });
    });
  }

  it('sub machine: configure sets invertMatching in context, and isWanted keeps what matches no subscription then', () => {
    const plain = run(subscriberMachine, [{ type: 'subscribe', prefix: '41' }]);
    expect(plain.json.invertMatching).toBe(false);
    const inverted = run(subscriberMachine, [{ type: 'subscribe', prefix: '41' }, { type: 'configure', invertMatching: true }]);
    expect(inverted.json).toMatchObject({ subscriptions: { '41': 1 }, invertMatching: true });
    expect(inverted.effects).toEqual([]);
    expect(isWanted(inverted.snapshot.context, Buffer.from('AB'))).toBe(false);
    expect(isWanted(inverted.snapshot.context, Buffer.from('BA'))).toBe(true);
    // A configure that names no option changes nothing.
    expect(run(subscriberMachine, [{ type: 'configure', invertMatching: true }, { type: 'configure' }]).json.invertMatching).toBe(true);
  });

  it('machines: ids name the socket types', () => {
    expect([publisherMachine.id, xpublisherMachine.id, subscriberMachine.id, xsubscriberMachine.id]).toEqual(['pub', 'xpub', 'sub', 'xsub']);
  });
});

describe('xstate/graph walks the machines (pure: no invoke, no after)', () => {
  it('graph: the publisher machines reach every open state and closed', () => {
    for (const machine of [publisherMachine, xpublisherMachine]) {
      const paths = getShortestPaths(forkable(machine as AnyStateMachine), {
        // One peer at a time (the runtime never attaches an id twice), so the state space is finite.
        filterEvents: (state, event) => event.type !== 'peer.attached' || (state.context as { peers: { size: number } }).peers.size === 0,
        events: [attach(1), detach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }, added(1, '41'), removed(1, '41'), { type: 'close', linger: 0, queued: 0 }],
        limit: 10_000,
      });
      const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
      for (const v of ['{"open":"noPeers"}', '{"open":"flowing"}', '{"open":"congested"}', '"closed"']) expect(values).toContain(v);
    }
  });

  it('graph: the subscriber machines reach every open state and closed', () => {
    for (const machine of [subscriberMachine, xsubscriberMachine]) {
      const paths = getShortestPaths(forkable(machine as AnyStateMachine), {
        // One peer at a time and a count of at most 2 keep the state space finite.
        filterEvents: (state, event) => {
          const c = state.context as SnapshotFrom<typeof subscriberMachine>['context'];
          if (event.type === 'peer.attached') return c.peers.size === 0;
          if (event.type === 'subscribe') return countOf(c.subscriptions, '41') < 2;
          return true;
        },
        events: [attach(1, 'PUB'), detach(1), { type: 'subscribe', prefix: '41' }, { type: 'unsubscribe', prefix: '41' }, { type: 'close', linger: 0, queued: 0 }],
        limit: 10_000,
      });
      const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
      for (const v of ['{"open":"noPeers"}', '{"open":"attached"}', '"closed"']) expect(values).toContain(v);
    }
  });
});
