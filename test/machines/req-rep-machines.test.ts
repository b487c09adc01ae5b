// Pure steps of the REQ and REP machines: no actor, no IO, only `initialTransition` and
// `transition`, plus a walk with xstate/graph to show the machines stay walkable, and a count of
// microsteps to show a turn stays one (a round trip's cost is these machines' turn edges).

import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import type { AnyStateMachine, InspectionEvent, SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { nextRequestId, randomUint32, requestMachine } from '../../machines/request.js';
import type { RequestEvent } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';
import type { ReplyEvent } from '../../machines/reply.js';

type ReqSnap = SnapshotFrom<typeof requestMachine>;
type RepSnap = SnapshotFrom<typeof replyMachine>;

const attach = (peerId: number) => ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType: 'REP' }) as const;

function req(events: RequestEvent[]): ReqSnap {
  let [s] = initialTransition(requestMachine, {});
  for (const e of events) [s] = transition(requestMachine, s, e);
  return s;
}

function rep(events: ReplyEvent[]): RepSnap {
  let [s] = initialTransition(replyMachine);
  for (const e of events) [s] = transition(replyMachine, s, e);
  return s;
}

/** Every state node of `machine` that is parallel or has an eventless transition, by id. */
function costlyNodes(machine: AnyStateMachine): string[] {
  const found: string[] = [];
  const visit = (node: AnyStateMachine['root']) => {
    if (node.type === 'parallel' || (node.always?.length ?? 0) > 0) found.push(node.id);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return found;
}

/** For each of `turns` (after `setupEvents`): the microsteps an actor of `machine` takes, and
 * whether its context changed. */
function stepsPerTurn(machine: AnyStateMachine, setupEvents: object[], turns: object[]): { microsteps: number; contextChanged: boolean }[] {
  let microsteps = 0;
  const actor = createActor(machine, {
    inspect: (e: InspectionEvent) => {
      if (e.type === '@xstate.microstep') microsteps++;
    },
  });
  actor.start();
  for (const e of setupEvents) actor.send(e as never);
  return turns.map((e) => {
    microsteps = 0;
    const before = actor.getSnapshot().context;
    actor.send(e as never);
    return { microsteps, contextChanged: actor.getSnapshot().context !== before };
  });
}

describe('requestMachine', () => {
  it('request: starts idle with no peers, options from input', () => {
    const s = req([]);
    expect(s.value).toBe('idle');
    expect(s.context).toEqual({ peers: [], relaxed: false, correlate: false });
    const [withInput] = initialTransition(requestMachine, { relaxed: true, correlate: true });
    expect([withInput.context.relaxed, withInput.context.correlate]).toEqual([true, true]);
  });

  it('request: the first request id is a random uint32 (the runtime keeps it)', () => {
    const id = randomUint32();
    expect(Number.isInteger(id)).toBe(true);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(id).toBeLessThan(2 ** 32);
  });

  it('request: request.sent moves to awaitingReply; the turn leaves context as it was', () => {
    const before = req([attach(1)]);
    const [s] = transition(requestMachine, before, { type: 'request.sent', peerId: 1 });
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.context).toBe(before.context);
  });

  it('request: a second request.sent while awaiting a reply is refused (EFSM) unless relaxed', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }]);
    expect(s.can({ type: 'request.sent', peerId: 2 })).toBe(false);
    const [same] = transition(requestMachine, s, { type: 'request.sent', peerId: 2 });
    expect(same.value).toBe('awaitingReply');
    expect(same.context).toBe(s.context);

    const relaxed = req([attach(1), attach(2), { type: 'option.changed', name: 'relaxed', value: true }, { type: 'request.sent', peerId: 1 }]);
    expect(relaxed.can({ type: 'request.sent', peerId: 2 })).toBe(true);
    const [next] = transition(requestMachine, relaxed, { type: 'request.sent', peerId: 2 });
    expect(next.matches('awaitingReply')).toBe(true);
    // Relaxed off again: back to EFSM.
    const [strict] = transition(requestMachine, next, { type: 'option.changed', name: 'relaxed', value: false });
    expect(strict.can({ type: 'request.sent', peerId: 2 })).toBe(false);
  });

  it('request: a reply before any request is refused (EFSM); reply.received returns to idle', () => {
    const idle = req([attach(1)]);
    expect(idle.can({ type: 'reply.received' })).toBe(false);
    const s = req([attach(1), { type: 'request.sent', peerId: 1 }, { type: 'reply.received' }]);
    expect(s.matches('idle')).toBe(true);
    expect(s.can({ type: 'reply.received' })).toBe(false);
    expect(s.can({ type: 'request.sent', peerId: 1 })).toBe(true);
  });

  it('request: peer edges leave the turn alone', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }, { type: 'pipe.muted', peerId: 2 }, attach(3), { type: 'peer.detached', peerId: 3 }]);
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.context.peers.map((p) => [p.id, p.ready])).toEqual([[1, true], [2, false]]);
  });

  it('request: when the asked peer leaves, the request is still out (a reply is then taken from anyone)', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }, { type: 'peer.detached', peerId: 1 }]);
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.can({ type: 'reply.received' })).toBe(true);
    expect(s.context.peers.map((p) => p.id)).toEqual([2]);
  });

  it('request: per-peer ready flags follow pipe.muted / pipe.ready (a request waits while none is ready)', () => {
    const ready = (s: ReqSnap) => s.context.peers.map((p) => p.ready);
    expect(ready(req([attach(1)]))).toEqual([true]);
    const muted = req([attach(1), { type: 'pipe.muted', peerId: 1 }]);
    expect(ready(muted)).toEqual([false]);
    expect(ready(req([attach(1), attach(2), { type: 'pipe.muted', peerId: 1 }]))).toEqual([false, true]);
    expect(ready(req([attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }]))).toEqual([true]);
    expect(req([attach(1), { type: 'peer.detached', peerId: 1 }]).context.peers).toEqual([]);
    expect(muted.value).toBe('idle');
  });

  it('request: correlate is recorded; the id wraps at 2^32', () => {
    expect(req([{ type: 'option.changed', name: 'correlate', value: true }]).context.correlate).toBe(true);
    expect(nextRequestId(0xffffffff)).toBe(0);
    expect(nextRequestId(100)).toBe(101);
  });

  it('request: close without queued output ends at once; with output and linger it lingers', () => {
    expect(req([{ type: 'close', linger: -1, queued: 0 }]).value).toBe('closed');
    const lingering = req([{ type: 'close', linger: 100, queued: 2 }]);
    expect(lingering.value).toBe('lingering');
    const [closed] = transition(requestMachine, lingering, { type: 'pipes.drained' });
    expect(closed.value).toBe('closed');
    // Closing while a request is out.
    expect(req([attach(1), { type: 'request.sent', peerId: 1 }, { type: 'close', linger: 0, queued: 1 }]).value).toBe('closed');
  });

  it('request: xstate/graph walks it (pure: no invoke, no delays)', () => {
    // A finite view: whether any peer is attached, and any ready (repeated attaches of the one
    // peer id would make the context space infinite).
    const view = (s: ReqSnap) => [s.value, s.context.peers.length === 0 ? 'noPeers' : s.context.peers.some((p) => p.ready) ? 'ready' : 'mute'];
    const paths = getShortestPaths(requestMachine, {
      input: {},
      events: [attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }, { type: 'peer.detached', peerId: 1 }, { type: 'request.sent', peerId: 1 }, { type: 'reply.received' }, { type: 'close', linger: 0, queued: 0 }],
      serializeState: (s) => JSON.stringify(view(s)),
    });
    const views = new Set(paths.map((p) => JSON.stringify(view(p.state))));
    expect(views).toContain(JSON.stringify(['awaitingReply', 'mute']));
    expect(views).toContain(JSON.stringify(['idle', 'noPeers']));
    expect(views).toContain(JSON.stringify(['closed', 'noPeers']));
  });
});

describe('replyMachine', () => {
  it('reply: starts receiving; request.received moves to replying', () => {
    expect(rep([]).value).toBe('receiving');
    const s = rep([attach(1), { type: 'request.received', peerId: 1 }]);
    expect(s.value).toBe('replying');
    expect(s.context.peers.map((p) => p.id)).toEqual([1]);
  });

  it('reply: a reply before a request, or a second request before the reply, is refused (EFSM)', () => {
    expect(rep([attach(1)]).can({ type: 'reply.sent' })).toBe(false);
    expect(rep([attach(1), { type: 'request.received', peerId: 1 }]).can({ type: 'request.received', peerId: 1 })).toBe(false);
  });

  it('reply: reply.sent returns to receiving', () => {
    const s = rep([attach(1), { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }]);
    expect(s.matches('receiving')).toBe(true);
    expect(s.can({ type: 'reply.sent' })).toBe(false);
  });

  it('reply: the requester leaving while a reply is owed shows peerGone (the reply will be dropped)', () => {
    // The runtime reports requester.detached after the peer.detached of the peer it owes a reply.
    const gone = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 1 }, { type: 'requester.detached' }]);
    expect(gone.matches('peerGone')).toBe(true);
    expect(gone.context.peers.map((p) => p.id)).toEqual([2]);
    const other = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 2 }]);
    expect(other.matches('replying')).toBe(true);
    const [after] = transition(replyMachine, gone, { type: 'reply.sent' });
    expect(after.matches('receiving')).toBe(true);
    // Between requests there is no requester to lose.
    expect(rep([attach(1)]).can({ type: 'requester.detached' })).toBe(false);
  });

  it('reply: per-peer HWM flags follow pipe.muted / pipe.ready', () => {
    const s = rep([attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(s.context.peers.map((p) => p.ready)).toEqual([true, false]);
    const [t] = transition(replyMachine, s, { type: 'pipe.ready', peerId: 2 });
    expect(t.context.peers.map((p) => p.ready)).toEqual([true, true]);
  });

  it('reply: xstate/graph walks it', () => {
    const paths = getShortestPaths(replyMachine, {
      events: [attach(1), { type: 'peer.detached', peerId: 1 }, { type: 'request.received', peerId: 1 }, { type: 'requester.detached' }, { type: 'reply.sent' }],
      serializeState: (s) => JSON.stringify([s.value, s.context.peers.length > 0]),
    });
    const views = new Set(paths.map((p) => JSON.stringify([p.state.value, p.state.context.peers.length > 0])));
    expect(views).toContain(JSON.stringify(['peerGone', false]));
    expect(views).toContain(JSON.stringify(['replying', true]));
  });
});

describe('the turn edges stay cheap', () => {
  // A round trip is four turn events (two per socket), each a full xstate macrostep: these machines
  // keep each to one microstep (no eventless transitions, no parallel regions to visit) and leave
  // context alone (an assign builds a second snapshot).
  it('request: request.sent and reply.received are one microstep each and change no context', () => {
    expect(costlyNodes(requestMachine)).toEqual([]);
    const steps = stepsPerTurn(requestMachine, [attach(1)], [{ type: 'request.sent', peerId: 1 }, { type: 'reply.received' }]);
    expect(steps).toEqual([{ microsteps: 1, contextChanged: false }, { microsteps: 1, contextChanged: false }]);
  });

  it('reply: request.received and reply.sent are one microstep each and change no context', () => {
    expect(costlyNodes(replyMachine)).toEqual([]);
    const steps = stepsPerTurn(replyMachine, [attach(1)], [{ type: 'request.received', peerId: 1 }, { type: 'reply.sent' }]);
    expect(steps).toEqual([{ microsteps: 1, contextChanged: false }, { microsteps: 1, contextChanged: false }]);
  });
});
