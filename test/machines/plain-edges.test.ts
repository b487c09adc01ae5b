// The plain-edge shortcut (machines/plain-edges.ts) against xstate's own algorithm: for every
// state the REQ and REP machines reach and every event they name, the wrapped machine's
// `transition` returns what xstate's returns; edges that run anything are left to xstate; an
// actor of the wrapped machine shows inspectors the same events and snapshots.

import { describe, expect, it } from 'vitest';
import { createActor, createMachine, initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine, InspectionEvent } from 'xstate';
import { hasPlainEdges, plainEdgeTable, withPlainEdges } from '../../machines/plain-edges.js';
import { requestMachine } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';

/** The same machine taking xstate's path for every event (its prototype's `transition`). */
function slowTwin<M extends AnyStateMachine>(machine: M): M {
  const twin = Object.create(machine) as M;
  Object.defineProperty(twin, 'transition', { value: Object.getPrototypeOf(machine).transition });
  return twin;
}

/** What a snapshot says, with state nodes by id and tags sorted, for comparing two snapshots. */
function describeSnapshot(s: AnyMachineSnapshot) {
  return {
    keys: Object.keys(s),
    status: s.status,
    value: s.value,
    nodes: s._nodes.map((n) => n.id),
    tags: [...s.tags].sort(),
    context: s.context,
    children: s.children,
    historyValue: s.historyValue,
    output: s.output,
    error: s.error,
  };
}

const peer = (peerId: number, peerType: string) => ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType });
const common = (peerType: string) => [
  peer(1, peerType), peer(2, peerType),
  { type: 'peer.detached', peerId: 1 }, { type: 'pipe.muted', peerId: 2 }, { type: 'pipe.ready', peerId: 2 },
  { type: 'close', linger: 0, queued: 0 }, { type: 'close', linger: 100, queued: 3 },
  { type: 'pipes.drained' }, { type: 'linger.expired' }, { type: 'no.such.event' },
];
const requestEvents = [
  ...common('REP'),
  { type: 'request.sent', peerId: 2 }, { type: 'reply.received' },
  { type: 'option.changed', name: 'relaxed', value: true }, { type: 'option.changed', name: 'correlate', value: true },
];
const replyEvents = [
  ...common('REQ'),
  { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }, { type: 'requester.detached' },
];

/** Every snapshot reachable within `depth` events of `alphabet` (xstate's path), by value and context. */
function reachable(machine: AnyStateMachine, alphabet: object[], depth: number): AnyMachineSnapshot[] {
  const slow = slowTwin(machine);
  const seen = new Map<string, AnyMachineSnapshot>();
  let frontier = [initialTransition(slow, undefined)[0] as AnyMachineSnapshot];
  for (let d = 0; d <= depth && frontier.length > 0; d++) {
    const next: AnyMachineSnapshot[] = [];
    for (const s of frontier) {
      const key = JSON.stringify([s.value, s.status, s.context]);
      if (seen.has(key)) continue;
      seen.set(key, s);
      if (s.status === 'active') for (const e of alphabet) next.push(transition(slow, s, e as never)[0] as AnyMachineSnapshot);
    }
    frontier = next;
  }
  return [...seen.values()];
}

/** Asserts the wrapped machine and xstate agree on every event from every reachable snapshot;
 * returns how many of those steps took the shortcut. */
function expectSameAsXstate(machine: AnyStateMachine, alphabet: object[]): { steps: number; plain: number } {
  const slow = slowTwin(machine);
  const table = plainEdgeTable(machine);
  let steps = 0;
  let plain = 0;
  for (const s of reachable(machine, alphabet, 5)) {
    if (s.status !== 'active') continue;
    for (const e of alphabet) {
      const [fast] = transition(machine, s, e as never);
      const [expected] = transition(slow, s, e as never);
      expect(describeSnapshot(fast as AnyMachineSnapshot), `${JSON.stringify(s.value)} + ${JSON.stringify(e)}`).toEqual(describeSnapshot(expected as AnyMachineSnapshot));
      expect(fast.machine).toBe(expected.machine);
      // xstate hands back the very snapshot when nothing changed (a self-edge without re-entry).
      expect(fast === s).toBe(expected === s);
      for (const v of ['idle', 'awaitingReply', 'receiving', 'replying', 'peerGone', 'lingering', 'closed']) {
        expect(fast.matches(v as never)).toBe(expected.matches(v as never));
      }
      for (const probe of alphabet) expect(fast.can(probe as never)).toBe(expected.can(probe as never));
      steps++;
      if (table.get(s._nodes[1])?.has((e as { type: string }).type) === true) plain++;
    }
  }
  return { steps, plain };
}

/** `from -> to` for each plain edge of `machine`, as state keys. */
function plainEdges(machine: AnyStateMachine): string[] {
  const edges: string[] = [];
  for (const [from, byType] of plainEdgeTable(machine)) {
    for (const [type, edge] of byType) edges.push(`${(from as { key: string }).key} --${type}--> ${edge.value}`);
  }
  return edges.sort();
}

describe('plain edges', () => {
  it('plain edges: the REQ and REP turn edges are the ones taken directly', () => {
    expect(plainEdges(requestMachine)).toEqual(['awaitingReply --reply.received--> idle', 'idle --request.sent--> awaitingReply']);
    expect(plainEdges(replyMachine)).toEqual([
      'peerGone --reply.sent--> receiving',
      'receiving --request.received--> replying',
      'replying --reply.sent--> receiving',
      'replying --requester.detached--> peerGone',
    ]);
  });

  it('plain edges: REQ gives the snapshot xstate gives, for every reachable state and event', () => {
    const { steps, plain } = expectSameAsXstate(requestMachine, requestEvents);
    expect(steps).toBeGreaterThan(100);
    expect(plain).toBeGreaterThan(10);
  });

  it('plain edges: REP gives the snapshot xstate gives, for every reachable state and event', () => {
    const { steps, plain } = expectSameAsXstate(replyMachine, replyEvents);
    expect(steps).toBeGreaterThan(100);
    expect(plain).toBeGreaterThan(10);
  });

  it('plain edges: a machine provide() derives keeps the shortcut and its own implementations', () => {
    let released = 0;
    const provided = requestMachine.provide({ actions: { release: () => { released++; } } });
    expect(hasPlainEdges(requestMachine)).toBe(true);
    expect(hasPlainEdges(provided)).toBe(true);
    expect(plainEdges(provided)).toEqual(plainEdges(requestMachine));
    const actor = createActor(provided, { input: {} }).start();
    actor.send(peer(1, 'REP') as never);
    actor.send({ type: 'request.sent', peerId: 1 });
    expect(actor.getSnapshot().value).toBe('awaitingReply');
    actor.send({ type: 'close', linger: 0, queued: 0 });
    expect([actor.getSnapshot().value, released]).toEqual(['closed', 1]);
  });

  it('plain edges: an inspector sees the same events and snapshots as without the shortcut', () => {
    const record = (machine: AnyStateMachine): unknown[] => {
      const seen: unknown[] = [];
      const actor = createActor(machine, {
        inspect: (e: InspectionEvent) => {
          if (e.type === '@xstate.snapshot') seen.push([e.type, (e.snapshot as AnyMachineSnapshot).value, e.event.type]);
          else if (e.type === '@xstate.microstep') seen.push([e.type, (e.snapshot as AnyMachineSnapshot).value, e.event.type, e._transitions.length]);
          else if (e.type === '@xstate.event') seen.push([e.type, e.event.type]);
        },
      });
      actor.start();
      for (const e of [peer(1, 'REQ'), { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }, { type: 'request.received', peerId: 1 }, { type: 'requester.detached' }, { type: 'reply.sent' }]) {
        actor.send(e as never);
      }
      return seen;
    };
    const fast = record(replyMachine);
    expect(fast).toEqual(record(slowTwin(replyMachine)));
    expect(fast).toContainEqual(['@xstate.microstep', 'peerGone', 'requester.detached', 1]);
  });

  it('plain edges: edges that guard, act, enter, leave, wait or re-enter are left to xstate', () => {
    const machine = withPlainEdges(createMachine({
      initial: 'a',
      states: {
        a: {
          on: {
            plain: 'b',
            guarded: { guard: () => false, target: 'c' },
            acting: { actions: () => {}, target: 'c' },
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
    }));
    // Only edges between quiet states: `b` has an exit action (and a wildcard), `withEntry` an
    // entry action, `withAfter` a timer, `withAlways` an eventless step, `par` regions; and no
    // edge on an `xstate.*` event.
    expect(plainEdges(machine)).toEqual(['a --stay--> a', 'a --toC--> c', 'c --plain--> a']);
    const events = ['plain', 'guarded', 'acting', 'toEntry', 'toTimer', 'toAlways', 'toParallel', 'self', 'stay', 'toC', 'back', 'x.y'].map((type) => ({ type }));
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

  it('plain edges: a parallel or history machine gets no shortcut at all', () => {
    expect(plainEdgeTable(createMachine({ type: 'parallel', states: { p: { initial: 'x', states: { x: { on: { go: 'y' } }, y: {} } } } })).size).toBe(0);
    expect(plainEdgeTable(createMachine({ initial: 'a', states: { a: { on: { go: 'h' } }, h: { type: 'history' } } })).size).toBe(0);
  });
});
