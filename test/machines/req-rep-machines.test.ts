// Pure steps of the REQ and REP machines: no actor, no IO, only `initialTransition` and
// `transition`, plus a walk with xstate/graph to show the machines stay walkable, the rules their
// sockets ask (which replies and requests count), and a check that a turn takes the fast-edge
// shortcut (a round trip's cost is these machines' turn edges).

import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import type { AnyStateMachine, InspectionEvent, SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { forkable } from '../../machines/forkable.js';
import { isRequestIdFrame, maySendRequest, mayReceiveReply, nextRequestId, randomUint32, replyBodyStart, requestMachine } from '../../machines/request.js';
import type { RequestContext, RequestEvent } from '../../machines/request.js';
import { maySendReply, mayReceiveRequest, replyMachine, replyTarget, requestBodyStart } from '../../machines/reply.js';
import type { ReplyEvent } from '../../machines/reply.js';

type ReqSnap = SnapshotFrom<typeof requestMachine>;
type RepSnap = SnapshotFrom<typeof replyMachine>;

const attach = (peerId: number) => ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType: 'REP' }) as const;

// Tables and turn records change in place: steps that branch from one snapshot go through
// forkable copies (machines/forkable.ts).
const reqFork = forkable(requestMachine);
const repFork = forkable(replyMachine);

function req(events: RequestEvent[]): ReqSnap {
  let [s] = initialTransition(reqFork, { requestId: 41 });
  for (const e of events) [s] = transition(reqFork, s, e);
  return s;
}

function rep(events: ReplyEvent[]): RepSnap {
  let [s] = initialTransition(repFork);
  for (const e of events) [s] = transition(repFork, s, e);
  return s;
}

const sent = (peerId: number, requestId = 42) => ({ type: 'request.sent', peerId, requestId }) as const;
const ids = (s: { context: { peers: { list(): { id: number }[] } } }) => s.context.peers.list().map((p) => p.id);

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

/** For each of `turns` (after `setupEvents`): the microsteps xstate's algorithm takes in an actor of
 * `machine` (none when the fast-edge shortcut takes the turn), and whether its context object changed. */
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
    expect(JSON.parse(JSON.stringify(s.context))).toEqual({ peers: [], relaxed: false, correlate: false, probeRouter: false, turn: { asked: null, requestId: 41 } });
    const [withInput] = initialTransition(requestMachine, { relaxed: true, correlate: true });
    expect([withInput.context.relaxed, withInput.context.correlate]).toEqual([true, true]);
  });

  it('request: with probeRouter (input or option.changed) a new peer is asked a sendProbe in its attach step, in either turn state', () => {
    const attached = { type: 'peer.attached', peerId: 4, endpoint: 'inproc://x', peerType: 'ROUTER' } as const;
    const probes = (actions: readonly { type: string; params?: unknown }[]) => actions.filter((a) => a.type === 'sendProbe').map((a) => a.params);
    expect(probes(transition(reqFork, req([]), attached)[1])).toEqual([]);
    const [fromInput] = initialTransition(requestMachine, { probeRouter: true });
    expect(fromInput.context.probeRouter).toBe(true);
    const on = req([{ type: 'option.changed', name: 'probeRouter', value: true }]);
    expect(on.context.probeRouter).toBe(true);
    expect(probes(transition(reqFork, on, attached)[1])).toEqual([{ peerId: 4 }]);
    const waiting = req([{ type: 'option.changed', name: 'probeRouter', value: true }, { type: 'peer.attached', peerId: 1, endpoint: 'inproc://x', peerType: 'REP' }, { type: 'request.sent', peerId: 1, requestId: 42 }]);
    expect(waiting.value).toBe('awaitingReply');
    const [still, actions] = transition(reqFork, waiting, attached);
    expect(still.value).toBe('awaitingReply');
    expect(probes(actions)).toEqual([{ peerId: 4 }]);
  });

  it('request: the first request id is a random uint32 (the machine keeps it)', () => {
    const id = randomUint32();
    expect(Number.isInteger(id)).toBe(true);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(id).toBeLessThan(2 ** 32);
    const [s] = initialTransition(requestMachine, {});
    expect(s.context.turn.requestId).toBeLessThan(2 ** 32);
  });

  it('request: request.sent moves to awaitingReply and records the peer asked and the id; the context object stays', () => {
    const before = req([attach(1)]);
    const [s] = transition(requestMachine, before, sent(1, 42));
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.context).toBe(before.context);
    expect([s.context.turn.asked, s.context.turn.requestId]).toEqual([1, 42]);
  });

  it('request: a second request.sent while awaiting a reply is refused (EFSM) unless relaxed', () => {
    const s = req([attach(1), attach(2), sent(1)]);
    expect(s.can(sent(2))).toBe(false);
    expect(maySendRequest(true, s.context.relaxed)).toBe(false);
    const [same] = transition(reqFork, s, sent(2, 43));
    expect(same.value).toBe('awaitingReply');
    expect(same.context.turn.asked).toBe(1);

    const relaxed = req([attach(1), attach(2), { type: 'option.changed', name: 'relaxed', value: true }, sent(1)]);
    expect(relaxed.can(sent(2))).toBe(true);
    expect(maySendRequest(true, relaxed.context.relaxed)).toBe(true);
    const [next] = transition(reqFork, relaxed, sent(2, 43));
    expect(next.matches('awaitingReply')).toBe(true);
    expect([next.context.turn.asked, next.context.turn.requestId]).toEqual([2, 43]);
    // Relaxed off again: back to EFSM.
    const [strict] = transition(reqFork, next, { type: 'option.changed', name: 'relaxed', value: false });
    expect(strict.can(sent(2))).toBe(false);
  });


  it('request: replies still queued when a request goes out are discarded (the machine asks for it, only then)', () => {
    const effects = (s: ReqSnap, e: RequestEvent) => transition(reqFork, s, e)[1].map((a) => a.type);
    const idle = req([attach(1)]);
    expect(effects(idle, sent(1))).not.toContain('discardReplies');
    expect(effects(idle, { ...sent(1), queued: true })).toContain('discardReplies');
    const relaxed = req([attach(1), { type: 'option.changed', name: 'relaxed', value: true }, sent(1)]);
    expect(effects(relaxed, { ...sent(1, 43), queued: false })).not.toContain('discardReplies');
    expect(effects(relaxed, { ...sent(1, 43), queued: true })).toContain('discardReplies');
  });
  it('request: receive is EFSM before a request, unless a send of one still waits', () => {
    expect(mayReceiveReply(false, false)).toBe(false);
    expect(mayReceiveReply(false, true)).toBe(true);
    expect(mayReceiveReply(true, false)).toBe(true);
  });

  it('request: which replies count: from the peer asked, with a delimiter and a body (and the id, with correlate)', () => {
    const s = req([attach(1), attach(2), sent(1, 7)]);
    const empty = Buffer.alloc(0);
    const body = Buffer.from('x');
    expect(replyBodyStart(s.context, 1, [empty, body])).toBe(1);
    expect(replyBodyStart(s.context, 2, [empty, body])).toBe(-1); // not the peer asked
    expect(replyBodyStart(s.context, 1, [body])).toBe(-1); // no delimiter
    expect(replyBodyStart(s.context, 1, [empty])).toBe(-1); // no body
    const id = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    expect(isRequestIdFrame(id(7), 7)).toBe(true);
    const correlating: RequestContext = { ...s.context, correlate: true };
    expect(replyBodyStart(correlating, 1, [id(7), empty, body])).toBe(2);
    expect(replyBodyStart(correlating, 1, [id(6), empty, body])).toBe(-1); // a stale reply
    // Once the asked peer has left, anyone may answer (libzmq req.cpp).
    const left = req([attach(1), attach(2), sent(1, 7), { type: 'peer.detached', peerId: 1 }]);
    expect(left.context.turn.asked).toBe(null);
    expect(replyBodyStart(left.context, 2, [empty, body])).toBe(1);
  });

  it('request: a reply before any request is refused (EFSM); reply.received returns to idle', () => {
    const idle = req([attach(1)]);
    expect(idle.can({ type: 'reply.received' })).toBe(false);
    const s = req([attach(1), sent(1), { type: 'reply.received' }]);
    expect(s.matches('idle')).toBe(true);
    expect(s.can({ type: 'reply.received' })).toBe(false);
    expect(s.can(sent(1))).toBe(true);
  });

  it('request: peer edges leave the turn alone', () => {
    const s = req([attach(1), attach(2), sent(1), { type: 'pipe.muted', peerId: 2 }, attach(3), { type: 'peer.detached', peerId: 3 }]);
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.context.peers.list().map((p) => [p.id, p.ready])).toEqual([[1, true], [2, false]]);
    expect(s.context.turn.asked).toBe(1);
  });

  it('request: when the asked peer leaves, the request is still out (a reply is then taken from anyone)', () => {
    const s = req([attach(1), attach(2), sent(1), { type: 'peer.detached', peerId: 1 }]);
    expect(s.matches('awaitingReply')).toBe(true);
    expect(s.can({ type: 'reply.received' })).toBe(true);
    expect(ids(s)).toEqual([2]);
  });

  it('request: per-peer ready flags follow pipe.muted / pipe.ready (a request waits while none is ready)', () => {
    const ready = (s: ReqSnap) => s.context.peers.list().map((p) => p.ready);
    expect(ready(req([attach(1)]))).toEqual([true]);
    const muted = req([attach(1), { type: 'pipe.muted', peerId: 1 }]);
    expect(ready(muted)).toEqual([false]);
    expect(ready(req([attach(1), attach(2), { type: 'pipe.muted', peerId: 1 }]))).toEqual([false, true]);
    expect(ready(req([attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }]))).toEqual([true]);
    expect(req([attach(1), { type: 'peer.detached', peerId: 1 }]).context.peers.list()).toEqual([]);
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
    const [closed] = transition(reqFork, lingering, { type: 'pipes.drained' });
    expect(closed.value).toBe('closed');
    // Closing while a request is out.
    expect(req([attach(1), sent(1), { type: 'close', linger: 0, queued: 1 }]).value).toBe('closed');
  });

  it('request: xstate/graph walks it (pure: no invoke, no delays)', () => {
    // A finite view: whether any peer is attached, and any ready (repeated attaches of the one
    // peer id would make the context space infinite).
    const view = (s: ReqSnap) => [s.value, s.context.peers.size === 0 ? 'noPeers' : s.context.peers.readyCount > 0 ? 'ready' : 'mute'];
    const paths = getShortestPaths(reqFork, {
      input: {},
      events: [attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }, { type: 'peer.detached', peerId: 1 }, sent(1), { type: 'reply.received' }, { type: 'close', linger: 0, queued: 0 }],
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
    expect(ids(s)).toEqual([1]);
    expect(s.context.turn.requester).toBe(1);
    expect(replyTarget(s.value, s.context)).toBe(1);
  });

  it('reply: which requests count: the envelope ends at the first empty frame with a body after it', () => {
    const e = Buffer.alloc(0);
    const b = Buffer.from('b');
    expect(requestBodyStart([e, b])).toBe(1);
    expect(requestBodyStart([b, b, e, b])).toBe(3);
    expect(requestBodyStart([b])).toBe(-1);
    expect(requestBodyStart([b, e])).toBe(-1);
    expect([mayReceiveRequest('receiving'), mayReceiveRequest('replying'), maySendReply('receiving'), maySendReply('peerGone')]).toEqual([true, false, false, true]);
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
    // The machine knows the requester: its own peer.detached takes it to peerGone.
    const gone = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 1 }]);
    expect(gone.matches('peerGone')).toBe(true);
    expect(ids(gone)).toEqual([2]);
    expect(replyTarget(gone.value, gone.context)).toBe(null);
    const other = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 2 }]);
    expect(other.matches('replying')).toBe(true);
    const [after] = transition(repFork, gone, { type: 'reply.sent' });
    expect(after.matches('receiving')).toBe(true);
    // A request read from a peer that had already left: peerGone at once.
    const late = rep([attach(1), { type: 'peer.detached', peerId: 1 }, { type: 'request.received', peerId: 1 }]);
    expect(late.matches('peerGone')).toBe(true);
  });

  it('reply: per-peer HWM flags follow pipe.muted / pipe.ready', () => {
    const s = rep([attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(s.context.peers.list().map((p) => p.ready)).toEqual([true, false]);
    const [t] = transition(repFork, s, { type: 'pipe.ready', peerId: 2 });
    expect(t.context.peers.list().map((p) => p.ready)).toEqual([true, true]);
  });

  it('reply: xstate/graph walks it', () => {
    const paths = getShortestPaths(repFork, {
      events: [attach(1), { type: 'peer.detached', peerId: 1 }, { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }],
      serializeState: (s) => JSON.stringify([s.value, s.context.peers.size > 0]),
    });
    const views = new Set(paths.map((p) => JSON.stringify([p.state.value, p.state.context.peers.size > 0])));
    expect(views).toContain(JSON.stringify(['peerGone', false]));
    expect(views).toContain(JSON.stringify(['replying', true]));
  });
});

describe('the turn edges stay cheap', () => {
  // A round trip is four turn events (two per socket). These machines keep them to edges the
  // fast-edge shortcut takes (machines/fast-edges.ts): flat, no eventless transitions, no parallel
  // regions, and turn records changed in place, so no xstate macrostep runs and the context object
  // stays (its target snapshots are reused).
  it('request: request.sent and reply.received take the shortcut and keep the context object', () => {
    expect(costlyNodes(requestMachine)).toEqual([]);
    const steps = stepsPerTurn(requestMachine, [attach(1)], [sent(1), { type: 'reply.received' }]);
    expect(steps).toEqual([{ microsteps: 0, contextChanged: false }, { microsteps: 0, contextChanged: false }]);
  });

  it('reply: request.received and reply.sent take the shortcut and keep the context object', () => {
    expect(costlyNodes(replyMachine)).toEqual([]);
    const steps = stepsPerTurn(replyMachine, [attach(1)], [{ type: 'request.received', peerId: 1 }, { type: 'reply.sent' }]);
    expect(steps).toEqual([{ microsteps: 0, contextChanged: false }, { microsteps: 0, contextChanged: false }]);
  });
});
