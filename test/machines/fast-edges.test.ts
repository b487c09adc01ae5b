// The fast-edge shortcut (machines/fast-edges.ts) against xstate's own algorithm: for every state
// the REQ and REP machines reach and every event they name, the shortcut returns the snapshot
// xstate's `transition` returns and asks for the same effects; edges that need more are left to
// xstate; an actor of a shortcut machine shows inspectors its events, snapshots and effects.

import { describe, expect, it } from 'vitest';
import { assign, createActor, createMachine, fromCallback, initialTransition, setup, spawnChild, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, InspectionEvent } from 'xstate';
import { fastEdgesOf, fastEdgeTable, hasFastEdges, snapshotAt, withFastEdges } from '../../machines/fast-edges.js';
import { dealerMachine } from '../../machines/dealer.js';
import { pairMachine } from '../../machines/pair.js';
import { pullMachine } from '../../machines/pull.js';
import { pushMachine } from '../../machines/push.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';
import type { FastEdgeOptions } from '../../machines/fast-edges.js';
import { copyContext } from '../../machines/forkable.js';
import { publisherMachine } from '../../machines/publisher.js';
import { requestMachine } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';
import { subscriberMachine } from '../../machines/subscriber.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';

/** The same machine with xstate's algorithm for every event: the machine the shortcut wraps. */
function slowTwin<M extends AnyStateMachine>(machine: M): M {
  return Object.getPrototypeOf(machine) as M;
}

/** An independent copy of a snapshot (its tables copied), made through the machine's public API. */
function copy(machine: AnyStateMachine, s: AnyMachineSnapshot): AnyMachineSnapshot {
  return machine.resolveState({ value: s.value, context: copyContext(s.context) }) as AnyMachineSnapshot;
}

/** What a snapshot says, as JSON (context as the inspector shows it), for comparing two snapshots. */
function describeSnapshot(s: AnyMachineSnapshot) {
  return JSON.parse(snapshotJson(s)) as unknown;
}

/** describeSnapshot's JSON text: two snapshots that give the same text say the same. */
function snapshotJson(s: AnyMachineSnapshot): string {
  return JSON.stringify({
    status: s.status,
    value: s.value,
    tags: [...s.tags].sort(),
    context: s.context,
    children: s.children,
    historyValue: s.historyValue,
    output: s.output ?? null,
    error: s.error ?? null,
  });
}

const peer = (peerId: number, peerType: string) => ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType });
const common = (peerType: string) => [
  peer(1, peerType), peer(2, peerType),
  { type: 'peer.detached', peerId: 1 }, { type: 'pipe.muted', peerId: 2 }, { type: 'pipe.ready', peerId: 2 },
  { type: 'close', linger: 0, queued: 0 }, { type: 'close', linger: 100, queued: 3 },
  { type: 'pipes.drained' }, { type: 'linger.expired' }, { type: 'no.such.event' },
  // A child's done and error events nobody handles: nothing happens, and the machine fails.
  { type: 'xstate.done.actor.other', output: 1 }, { type: 'xstate.error.actor.other', error: 'boom' },
];
const requestEvents = [
  ...common('REP'),
  { type: 'request.sent', peerId: 2, requestId: 9, queued: false }, { type: 'request.sent', peerId: 1, requestId: 10, queued: true }, { type: 'reply.received' },
  { type: 'option.changed', name: 'relaxed', value: true }, { type: 'option.changed', name: 'correlate', value: true },
  { type: 'option.changed', name: 'probeRouter', value: true },
];
const publisherEvents = [
  ...common('SUB'),
  { type: 'subscription.added', peerId: 2, prefix: '61' }, { type: 'subscription.added', peerId: 2, prefix: '' },
  { type: 'subscription.removed', peerId: 2, prefix: '61' }, { type: 'subscription.added', peerId: 7, prefix: '62' },
  { type: 'configure', noDrop: true },
];
const xpublisherEvents = [
  ...publisherEvents, { type: 'configure', verbosity: 'allSubs' }, { type: 'subscription.removed', peerId: 1, prefix: '62' }, { type: 'configure', welcomeMessage: '6869' },
  // Manual mode: the notice read names the peer the application's subscribe applies to.
  { type: 'configure', manual: true }, { type: 'notice.read', peerId: 2 }, { type: 'subscribe', prefix: '61' }, { type: 'unsubscribe', prefix: '61' },
];
const subscriberEvents = [
  ...common('PUB'),
  { type: 'subscribe', prefix: '61' }, { type: 'subscribe', prefix: '' }, { type: 'unsubscribe', prefix: '61' }, { type: 'unsubscribe', prefix: '62' },
  { type: 'subscribe.batch', prefixes: ['61', '', '63'] }, { type: 'configure', invertMatching: true },
  { type: 'subscribe.queued', prefix: '64' }, { type: 'subscribe.queued', prefix: '65' }, { type: 'subscribe.batch', prefixes: ['64'], pending: true },
];
const supervisorEvents = [
  { type: 'inproc.bind', name: 'a', socketId: 1, socketType: 'PULL', requestId: 1 },
  { type: 'inproc.bind', name: 'a', socketId: 2, socketType: 'PULL', requestId: 2 },
  { type: 'inproc.connect', name: 'a', socketId: 3, socketType: 'PUSH', connectionId: 'c1', immediate: false },
  { type: 'inproc.connect', name: 'b', socketId: 3, socketType: 'PUSH', connectionId: 'c2', immediate: false },
  { type: 'inproc.unbind', name: 'a', socketId: 1, requestId: 3 },
  { type: 'inproc.unbind', name: 'a', socketId: 1, requestId: 4, keepConnections: true },
  { type: 'inproc.disconnect', connectionId: 'c1' },
  { type: 'socket.closed', socketId: 3 },
  { type: 'xstate.done.actor.connection', output: { connectionId: 'c2' } },
  { type: 'xstate.done.actor.socket' }, { type: 'xstate.error.actor.connection', error: 'lost' },
  { type: 'xstate.error.actor.other', error: 'boom' },
];
const replyEvents = [
  ...common('REQ'),
  { type: 'request.received', peerId: 1 }, { type: 'request.received', peerId: 2 }, { type: 'reply.sent' },
];

/** Every snapshot reachable within `depth` events of `alphabet` (xstate's path), by value and context. */
function reachable(machine: AnyStateMachine, alphabet: object[], depth: number): AnyMachineSnapshot[] {
  const slow = slowTwin(machine);
  const seen = new Map<string, AnyMachineSnapshot>();
  let frontier = [initialTransition(slow, { requestId: 5 })[0] as AnyMachineSnapshot];
  for (let d = 0; d <= depth && frontier.length > 0; d++) {
    const next: AnyMachineSnapshot[] = [];
    for (const s of frontier) {
      const key = JSON.stringify([s.value, s.status, s.context]);
      if (seen.has(key)) continue;
      seen.set(key, s);
      if (s.status === 'active') for (const e of alphabet) next.push(transition(slow, copy(slow, s), e as never)[0] as AnyMachineSnapshot);
    }
    frontier = next;
  }
  return [...seen.values()];
}

/** Asserts the shortcut and xstate agree on every event from every reachable snapshot; returns how
 * many steps there were and how many the shortcut took. */
function expectSameAsXstate(machine: AnyStateMachine, alphabet: object[]): { steps: number; fast: number } {
  const slow = slowTwin(machine);
  const table = fastEdgesOf(machine);
  let steps = 0;
  let fast = 0;
  // `can()` answers from a snapshot's value and context alone (both machines' guards are pure), so
  // each distinct resulting snapshot, as serialized (every table in context has a toJSON), is asked
  // once: the walk asked it again for every step that led back to it.
  const asked = new Set<string>();
  for (const s of reachable(machine, alphabet, 5)) {
    if (s.status !== 'active') continue;
    for (const e of alphabet) {
      const [mine, mineActions] = transition(machine, copy(machine, s), e as never);
      const [theirs, theirActions] = transition(slow, copy(slow, s), e as never);
      const where = `${JSON.stringify(s.value)} + ${JSON.stringify(e)}`;
      // The same text is the same snapshot; only where the texts differ (a field, or only the order of
      // keys) does the walk pay for a deep comparison, which then says what differs.
      const after = snapshotJson(mine as AnyMachineSnapshot);
      const expected = snapshotJson(theirs as AnyMachineSnapshot);
      if (after !== expected) expect(JSON.parse(after), where).toEqual(JSON.parse(expected));
      const named = (actions: { type: string; params: unknown }[]) => actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => [a.type, a.params]);
      expect(named(mineActions), where).toEqual(named(theirActions));
      expect(mine.value).toEqual(theirs.value);
      if (!asked.has(after)) {
        asked.add(after);
        for (const probe of alphabet) expect(mine.can(probe as never), `${where}, then can(${JSON.stringify(probe)})`).toBe(theirs.can(probe as never));
      }
      steps++;
      const key = typeof s.value === 'string' ? s.value : Object.entries(s.value as object).map(([k, v]) => `${k}.${String(v)}`)[0];
      const candidates = table.get(key as string)?.get((e as { type: string }).type);
      if (candidates?.some((c) => c.fast) === true) fast++;
    }
  }
  return { steps, fast };
}

const requestOptions: FastEdgeOptions = { guards: ['mayRequestAgain', 'leavesStaleReplies', 'mayRequestAgainPastStaleReplies'], effects: ['discardReplies'], updates: { recordRequest: () => {}, forgetRequest: () => {} } };
const replyOptions: FastEdgeOptions = { guards: ['isFromGonePeer'], updates: { recordRequester: () => {}, forgetRequester: () => {} } };

/** `from --event--> to` for each fast candidate of `machine`, as state keys. */
function fastEdges(machine: AnyStateMachine, options: FastEdgeOptions): string[] {
  const edges: string[] = [];
  for (const [from, byType] of fastEdgeTable(machine, options)) {
    for (const [type, candidates] of byType) {
      for (const c of candidates) if (c.fast) edges.push(`${from} --${type}${c.guard === undefined ? '' : ` [${c.guard}]`}--> ${c.target ?? from}`);
    }
  }
  return edges.sort();
}

/**
 * The walks of SUB and XSUB (every state reachable in 5 events, each event from each: 57,876 steps,
 * and `can()` for each event after each) took 16-18 s on a 2-vCPU machine with nothing else running,
 * and 30-32 s under load, past the suite's 20 s: a slow machine, not a wrong answer. Asking `can()`
 * once per distinct snapshot brought them to 12-15 s under that load; the margin stays.
 */
const WALK_TIMEOUT = 90_000;

describe('fast edges', () => {
  it('fast edges: the REQ and REP turn edges are the ones taken directly', () => {
    expect(hasFastEdges(requestMachine)).toBe(true);
    expect(fastEdges(requestMachine, requestOptions)).toEqual([
      'awaitingReply --reply.received--> idle',
      'awaitingReply --request.sent [mayRequestAgainPastStaleReplies]--> awaitingReply',
      'awaitingReply --request.sent [mayRequestAgain]--> awaitingReply',
      'idle --request.sent [leavesStaleReplies]--> awaitingReply',
      'idle --request.sent--> awaitingReply',
    ]);
    expect(fastEdges(replyMachine, replyOptions)).toEqual([
      'peerGone --reply.sent--> receiving',
      'receiving --request.received [isFromGonePeer]--> peerGone',
      'receiving --request.received--> replying',
      'replying --reply.sent--> receiving',
    ]);
  });

  it('fast edges: REQ gives the snapshot and the effects xstate gives, for every reachable state and event', () => {
    const { steps, fast } = expectSameAsXstate(requestMachine, requestEvents);
    expect(steps).toBeGreaterThan(100);
    expect(fast).toBeGreaterThan(10);
  });

  it('fast edges: REP gives the snapshot and the effects xstate gives, for every reachable state and event', () => {
    const { steps, fast } = expectSameAsXstate(replyMachine, replyEvents);
    expect(steps).toBeGreaterThan(100);
    expect(fast).toBeGreaterThan(10);
  });

  it.each([
    ['PUB', publisherMachine, publisherEvents],
    ['XPUB', xpublisherMachine, xpublisherEvents],
    ['SUB', subscriberMachine, subscriberEvents],
    ['XSUB', xsubscriberMachine, subscriberEvents],
    ['PUSH', pushMachine, common('PULL')],
    ['DEALER', dealerMachine, [...common('ROUTER'), { type: 'option.changed', name: 'probeRouter', value: true }, { type: 'option.changed', name: 'probeRouter', value: false }]],
    ['PULL', pullMachine, common('PUSH')],
    ['PAIR', pairMachine, common('PAIR')],
    ['supervisor', supervisorMachine, supervisorEvents],
  ] as const)('fast edges: %s gives the snapshot and the effects xstate gives, for every reachable state and event', (_name, machine, events) => {
    const { steps, fast } = expectSameAsXstate(machine as AnyStateMachine, events as unknown as object[]);
    expect(steps).toBeGreaterThan(50);
    expect(fast).toBeGreaterThan(3);
  }, WALK_TIMEOUT);

  it('fast edges: a peer attaching to a DEALER or a REQ stays on the shortcut, the probe\'s guard and effect included', () => {
    for (const machine of [dealerMachine, requestMachine] as AnyStateMachine[]) {
      let states = 0;
      for (const [state, byType] of fastEdgesOf(machine)) {
        const attach = byType.get('peer.attached');
        if (attach === undefined) continue;
        states++;
        expect(attach.map((c) => [c.guard, c.fast, c.actions.map((a) => a.name)]), `${machine.id} ${state}`).toEqual([
          ['probesNewPeer', true, ['attachPeer', 'sendProbe']],
          [undefined, true, ['attachPeer']],
        ]);
      }
      expect(states, machine.id).toBeGreaterThan(1);
    }
  });

  it('fast edges: a subscriber attaching to an XPUB stays on the shortcut, the welcome\'s guards and effect included', () => {
    let states = 0;
    for (const [state, byType] of fastEdgesOf(xpublisherMachine)) {
      const attach = byType.get('peer.attached');
      if (attach === undefined) continue;
      states++;
      expect(attach.map((c) => [c.guard, c.fast, c.actions.map((a) => a.name)]), state).toEqual([
        ['welcomesNewPeerWhileCongested', true, ['attachPeer', 'sendWelcome']],
        ['welcomesNewPeer', true, ['attachPeer', 'sendWelcome']],
        ['hasMutePeer', true, ['attachPeer']],
        [undefined, true, ['attachPeer']],
      ]);
    }
    expect(states).toBe(3);
  });

  it('fast edges: reading an XPUB notice stays on the shortcut (one per notice the application reads)', () => {
    let states = 0;
    for (const [state, byType] of fastEdgesOf(xpublisherMachine)) {
      const read = byType.get('notice.read');
      if (read === undefined) continue;
      states++;
      expect(read.map((c) => [c.guard, c.fast, c.actions.map((a) => a.name)]), state).toEqual([[undefined, true, ['noteNoticeRead']]]);
    }
    expect(states).toBe(3);
  });

  it('fast edges: a machine provide() derives keeps the shortcut and its own implementations', () => {
    let released = 0;
    let discarded = 0;
    const provided = requestMachine.provide({ actions: { release: () => { released++; }, discardReplies: () => { discarded++; } } });
    expect(hasFastEdges(provided)).toBe(true);
    expect(fastEdges(provided, requestOptions)).toEqual(fastEdges(requestMachine, requestOptions));
    const actor = createActor(provided, { input: {} }).start();
    actor.send(peer(1, 'REP') as never);
    actor.send({ type: 'request.sent', peerId: 1, requestId: 3, queued: true });
    expect([actor.getSnapshot().value, discarded]).toEqual(['awaitingReply', 1]);
    actor.send({ type: 'close', linger: 0, queued: 0 });
    expect([actor.getSnapshot().value, released]).toEqual(['closed', 1]);
  });

  it('fast edges: an inspector sees every event, snapshot and effect of a shortcut edge (not xstate\'s microsteps)', () => {
    const record = (machine: AnyStateMachine): unknown[] => {
      const seen: unknown[] = [];
      const actor = createActor(machine, {
        input: { requestId: 1 },
        inspect: (e: InspectionEvent) => {
          if (e.type === '@xstate.snapshot') seen.push([e.type, (e.snapshot as AnyMachineSnapshot).value, e.event.type]);
          else if (e.type === '@xstate.event') seen.push([e.type, e.event.type]);
          else if (e.type === '@xstate.action') seen.push([e.type, e.action.type]);
        },
      });
      actor.start();
      for (const e of [peer(1, 'REP'), { type: 'request.sent', peerId: 1, requestId: 2, queued: false }, { type: 'reply.received' }, { type: 'request.sent', peerId: 1, requestId: 3, queued: true }]) {
        actor.send(e as never);
      }
      return seen;
    };
    const fast = record(requestMachine);
    expect(fast).toEqual(record(slowTwin(requestMachine)));
    expect(fast).toContainEqual(['@xstate.action', 'discardReplies']);
    expect(fast).toContainEqual(['@xstate.snapshot', 'awaitingReply', 'request.sent']);
  });

  it('fast edges: edges that assign, guard unnamed, enter, leave, wait or re-enter are left to xstate', () => {
    const base = setup({
      guards: { named: () => true, unnamed: () => false },
      actions: { effect: () => {}, set: assign({ n: 1 }) },
    }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: {
        a: {
          on: {
            plain: 'b',
            guarded: { guard: 'unnamed', target: 'c' },
            named: { guard: 'named', target: 'c', actions: 'effect' },
            assigning: { actions: 'set', target: 'c' },
            toEntry: 'withEntry',
            toTimer: 'withAfter',
            toAlways: 'withAlways',
            toParallel: 'par',
            self: { target: 'a', reenter: true },
            stay: { target: 'a' },
            toC: 'c',
            // xstate's own events are handled before transitions are chosen.
            'xstate.stop': 'c',
          },
        },
        b: { exit: () => {}, on: { plain: 'a', 'x.*': 'a' } },
        c: { on: { plain: 'a', toC: { target: 'c', reenter: true } } },
        withEntry: { entry: () => {}, on: { back: 'a' } },
        withAfter: { after: { 1000: 'a' } },
        withAlways: { always: { target: 'a', guard: () => false } },
        par: { type: 'parallel', states: { p: {}, q: {} } },
      },
    });
    const options: FastEdgeOptions = { guards: ['named'], effects: ['effect'] };
    const machine = withFastEdges(base, options);
    // Only edges whose states left run nothing on exit and whose states entered run only named
    // effects on entry: leaving `b` runs an exit action (and `b` has a wildcard), entering
    // `withEntry` an unnamed entry action (leaving it is quiet), `withAfter` starts a timer,
    // `withAlways` checks an eventless step, `par` has regions; `assigning` has an assign, `guarded`
    // a guard not named as pure; and no edge on an `xstate.*` event.
    expect(fastEdges(machine, options)).toEqual([
      'a --named [named]--> c', 'a --plain--> b', 'a --stay--> a', 'a --toC--> c', 'c --plain--> a', 'withEntry --back--> a',
    ]);
    const events = ['plain', 'guarded', 'named', 'assigning', 'toEntry', 'toTimer', 'toAlways', 'toParallel', 'self', 'stay', 'toC', 'back', 'x.y'].map((type) => ({ type }));
    const slow = slowTwin(machine);
    for (const first of events) {
      const [start, expectedStart] = [initialTransition(machine)[0], initialTransition(slow)[0]];
      let [fast] = transition(machine, start, first);
      let [expected] = transition(slow, expectedStart, first);
      expect(fast === start, first.type).toBe(expected === expectedStart);
      for (const then of events) {
        const [before, expectedBefore] = [fast, expected];
        [fast] = transition(machine, fast, then);
        [expected] = transition(slow, expected, then);
        expect(describeSnapshot(fast)).toEqual(describeSnapshot(expected));
        expect(fast === before, `${first.type} then ${then.type}`).toBe(expected === expectedBefore);
      }
    }
  });

  /** Every atomic or final state's path (dot-joined) in `machine`. */
  const leafPaths = (node: AnyStateNode): string[] => {
    const kids = Object.values(node.states);
    return kids.length === 0 ? [node.path.join('.')] : kids.flatMap(leafPaths);
  };
  const socketMachines = [pairMachine, pushMachine, pullMachine, dealerMachine, requestMachine, replyMachine, publisherMachine, xpublisherMachine, subscriberMachine, xsubscriberMachine, supervisorMachine] as AnyStateMachine[];

  /** The state value of a dot-joined path. */
  const valueAt = (path: string): unknown => path.split('.').reduceRight<unknown>((inner, key) => (inner === undefined ? key : { [key]: inner }), undefined);

  it('fast edges: a state\'s snapshot copied with another context is the one resolveState makes with that context (every socket machine, every state)', () => {
    let states = 0;
    for (const machine of socketMachines) {
      for (const path of leafPaths(machine.root)) {
        const value = valueAt(path);
        // The first two contexts of a state are resolveState's own while the copy is checked;
        // earlier tests may have made them already.
        snapshotAt(machine, path, { marker: 'probe 1' });
        snapshotAt(machine, path, { marker: 'probe 2' });
        const context = { marker: path };
        const theirs = machine.resolveState({ value: value as never, context }) as AnyMachineSnapshot;
        const mine = snapshotAt(machine, path, context);
        expect(mine.context).toBe(context);
        expect(Object.keys(mine)).toEqual(Object.keys(theirs));
        expect({ ...mine, context: null }, path).toStrictEqual({ ...theirs, context: null });
        expect(mine.matches(value as never)).toBe(true);
        expect(mine.toJSON()).toEqual(theirs.toJSON());
        // Made once per state: later contexts share what follows from the state alone, and each
        // keeps its own context object.
        const secondContext = { marker: 'second' };
        const thirdContext = { marker: 'third' };
        const second = snapshotAt(machine, path, secondContext);
        const third = snapshotAt(machine, path, thirdContext);
        expect(third).not.toBe(second);
        expect(third.tags).toBe(second.tags);
        expect(third.value).toBe(second.value);
        expect(third.context).toBe(thirdContext);
        expect(second.context).toBe(secondContext);
        expect({ ...third, context: null }).toStrictEqual({ ...theirs, context: null });
        // What they share is frozen: a change in place would reach every socket in this state.
        expect(Object.isFrozen(third.children)).toBe(true);
        expect(Object.isFrozen(third.historyValue)).toBe(true);
        if (typeof third.value === 'object') expect(Object.isFrozen(third.value)).toBe(true);
        states++;
      }
    }
    expect(states).toBeGreaterThan(40);
  });

  it('fast edges: where a snapshot is not a plain copy, each context gets resolveState\'s own', () => {
    const base = createMachine({ initial: 'a', states: { a: {}, b: {} } });
    type Made = AnyMachineSnapshot & { extra?: unknown };
    /** A machine whose resolveState adds to xstate's snapshot what `add` makes of the context. */
    const withExtra = (add: (snapshot: object, context: { n: number }) => object) => {
      const m = Object.create(base) as AnyStateMachine;
      Object.defineProperty(m, 'resolveState', { value: (config: { value: never; context: { n: number } }) => add(base.resolveState(config), config.context) });
      return m;
    };
    const cases: [string, AnyStateMachine, (s: Made) => unknown][] = [
      ['a field', withExtra((s, c) => ({ ...s, extra: c.n })), (s) => s.extra],
      ['a getter', withExtra((s, c) => Object.defineProperty({ ...s }, 'extra', { get: () => c.n, enumerable: true })), (s) => s.extra],
      // Not enumerable, so a spread would leave it out.
      ['a hidden field', withExtra((s) => Object.defineProperty({ ...s }, 'extra', { value: 'kept', enumerable: false })), (s) => s.extra],
      ['a Set', withExtra((s, c) => ({ ...s, extra: new Set([c.n]) })), (s) => [...(s.extra as Set<number>)]],
      ['a nested record', withExtra((s, c) => ({ ...s, extra: { deep: { n: c.n } } })), (s) => (s.extra as { deep: { n: number } }).deep.n],
      // Equal for the empty context and the first one, different for the next.
      ['a field equal by chance', withExtra((s, c) => ({ ...s, extra: c.n ?? 0 })), (s) => s.extra ?? 0],
    ];
    for (const [what, machine, read] of cases) {
      const got = [0, 1, 2, 3, 4].map((n) => read(snapshotAt(machine, 'b', { n }) as Made));
      const want = [0, 1, 2, 3, 4].map((n) => read(machine.resolveState({ value: 'b' as never, context: { n } }) as Made));
      expect(got, what).toEqual(want);
    }
    // Methods on a prototype: a spread would drop them.
    class Snap { constructor(readonly value: unknown, readonly context: unknown) {} matches(v: unknown) { return v === this.value; } }
    const classy = Object.create(base) as AnyStateMachine;
    Object.defineProperty(classy, 'resolveState', { value: (config: { value: unknown; context: unknown }) => new Snap(config.value, config.context) });
    for (const n of [1, 2, 3, 4]) {
      const got = snapshotAt(classy, 'a', { n }) as unknown as Snap;
      expect(got).toBeInstanceOf(Snap);
      expect(got.matches('a')).toBe(true);
      expect(got.context).toEqual({ n });
    }
  });

  it('fast edges: a move from a snapshot with children or recorded history goes through xstate, which keeps them', () => {
    const spawning = setup({ actors: { child: fromCallback(() => () => {}) } }).createMachine({
      initial: 'b',
      states: { b: { on: { spawn: { actions: spawnChild('child', { id: 'k' }) }, go: 'c' } }, c: {} },
    });
    const remembering = createMachine({
      initial: 'b',
      states: {
        b: { on: { enter: 'c', resume: 'c.hist' } },
        c: { initial: 'c1', states: { c1: { on: { deeper: 'c2' } }, c2: {}, hist: { type: 'history' } }, on: { back: 'b' } },
      },
    });
    const run = (machine: AnyStateMachine, events: string[]) => {
      const actor = createActor(machine).start();
      for (const type of events) actor.send({ type });
      const s = actor.getSnapshot() as AnyMachineSnapshot;
      actor.stop();
      return { value: s.value, children: Object.keys(s.children) };
    };
    for (const [machine, events] of [[spawning, ['spawn', 'go']], [remembering, ['enter', 'deeper', 'back', 'resume']]] as const) {
      const fast = withFastEdges(machine as AnyStateMachine, {});
      expect(run(fast, [...events])).toEqual(run(machine as AnyStateMachine, [...events]));
    }
    expect(run(withFastEdges(spawning, {}), ['spawn', 'go'])).toEqual({ value: 'c', children: ['k'] });
    expect(run(withFastEdges(remembering, {}), ['enter', 'deeper', 'back', 'resume'])).toEqual({ value: { c: 'c2' }, children: [] });
  });

  it('fast edges: parallel regions and history states get no shortcut', () => {
    const fastOnes = (t: ReturnType<typeof fastEdgeTable>) => [...t.values()].flatMap((m) => [...m.values()].flat()).filter((c) => c.fast);
    expect(fastEdgeTable(createMachine({ type: 'parallel', states: { p: { initial: 'x', states: { x: { on: { go: 'y' } }, y: {} } } } }), {}).size).toBe(0);
    expect(fastOnes(fastEdgeTable(createMachine({ initial: 'a', states: { a: { on: { go: 'h' } }, h: { type: 'history' } } }), {}))).toEqual([]);
  });

  it('fast edges: a nested state takes its ancestors\' edges in order; a move between quiet states is taken too', () => {
    const m = setup({ guards: { no: () => false, yes: () => true }, actions: { fx: () => {} } }).createMachine({
      initial: 'open',
      states: {
        open: {
          initial: 'a',
          on: { tick: [{ guard: 'no', actions: 'fx' }, { guard: 'yes', actions: 'fx' }], hop: '.b' },
          states: { a: { on: { tick: { guard: 'no', actions: 'fx' } } }, b: {} },
        },
      },
    });
    const options: FastEdgeOptions = { guards: ['no', 'yes'], effects: ['fx'] };
    const t = fastEdgeTable(m, options).get('open.a');
    expect(t?.get('tick')?.map((c) => [c.source, c.guard, c.fast])).toEqual([['open.a', 'no', true], ['open', 'no', true], ['open', 'yes', true]]);
    expect(t?.get('hop')?.map((c) => [c.fast, c.target])).toEqual([[true, 'open.b']]);
    const fast = withFastEdges(m, options);
    const [s] = initialTransition(fast);
    const [same, actions] = transition(fast, s, { type: 'tick' });
    expect(same).toBe(s);
    expect(actions.map((a) => a.type)).toEqual(['fx']);
    const [moved] = transition(fast, s, { type: 'hop' });
    expect(moved.value).toEqual({ open: 'b' });
    expect(describeSnapshot(moved)).toEqual(describeSnapshot(transition(m, s, { type: 'hop' })[0]));
  });
});
