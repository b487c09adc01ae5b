// Pure steps of the REQ and REP machines: no actor, no IO, only `initialTransition` and
// `transition`, plus a walk with xstate/graph to show the machines stay walkable.

import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { nextRequestId, requestMachine } from '../../machines/request.js';
import type { RequestEvent } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';
import type { ReplyEvent } from '../../machines/reply.js';

type ReqSnap = SnapshotFrom<typeof requestMachine>;
type RepSnap = SnapshotFrom<typeof replyMachine>;

const attach = (peerId: number) => ({ type: 'peer.attached', peerId, endpoint: 'inproc://x', peerType: 'REP' }) as const;

function req(events: RequestEvent[], input = { requestId: 100 }): ReqSnap {
  let [s] = initialTransition(requestMachine, input);
  for (const e of events) [s] = transition(requestMachine, s, e);
  return s;
}

function rep(events: ReplyEvent[]): RepSnap {
  let [s] = initialTransition(replyMachine);
  for (const e of events) [s] = transition(replyMachine, s, e);
  return s;
}

describe('requestMachine', () => {
  it('request: starts idle with no peers, its request id from input', () => {
    const s = req([]);
    expect(s.value).toEqual({ open: { turn: 'idle', peers: 'noPeers' } });
    expect(s.context.requestId).toBe(100);
    expect(s.context.turns).toBe(0);
  });

  it('request: without input the first request id is a random uint32', () => {
    const [s] = initialTransition(requestMachine, {});
    expect(Number.isInteger(s.context.requestId)).toBe(true);
    expect(s.context.requestId).toBeGreaterThanOrEqual(0);
    expect(s.context.requestId).toBeLessThan(2 ** 32);
  });

  it('request: request.sent moves to awaitingReply, records the peer and the next id', () => {
    const s = req([attach(1), { type: 'request.sent', peerId: 1 }]);
    expect(s.matches({ open: { turn: 'awaitingReply' } })).toBe(true);
    expect(s.context.replyPeerId).toBe(1);
    expect(s.context.requestId).toBe(101);
    expect(s.context.turns).toBe(1);
  });

  it('request: a second request.sent while awaiting a reply is refused (EFSM) unless relaxed', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }]);
    expect(s.can({ type: 'request.sent', peerId: 2 })).toBe(false);
    const [same] = transition(requestMachine, s, { type: 'request.sent', peerId: 2 });
    expect(same.context.replyPeerId).toBe(1);
    expect(same.context.turns).toBe(1);

    const relaxed = req([attach(1), attach(2), { type: 'option.changed', name: 'relaxed', value: true }, { type: 'request.sent', peerId: 1 }]);
    expect(relaxed.can({ type: 'request.sent', peerId: 2 })).toBe(true);
    const [next] = transition(requestMachine, relaxed, { type: 'request.sent', peerId: 2 });
    expect(next.matches({ open: { turn: 'awaitingReply' } })).toBe(true);
    expect(next.context.replyPeerId).toBe(2);
    expect(next.context.requestId).toBe(102);
  });

  it('request: a reply before any request is refused (EFSM); reply.received returns to idle', () => {
    const idle = req([attach(1)]);
    expect(idle.can({ type: 'reply.received' })).toBe(false);
    const s = req([attach(1), { type: 'request.sent', peerId: 1 }, { type: 'reply.received' }]);
    expect(s.matches({ open: { turn: 'idle' } })).toBe(true);
    expect(s.context.replyPeerId).toBeNull();
    expect(s.context.turns).toBe(2);
  });

  it('request: peer edges leave the turn alone (the regions are parallel)', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }, { type: 'pipe.muted', peerId: 2 }, attach(3), { type: 'peer.detached', peerId: 3 }]);
    expect(s.matches({ open: { turn: 'awaitingReply' } })).toBe(true);
    expect(s.context.replyPeerId).toBe(1);
  });

  it('request: when the asked peer leaves, a reply is accepted from anyone (replyPeerId null)', () => {
    const s = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }, { type: 'peer.detached', peerId: 1 }]);
    expect(s.matches({ open: { turn: 'awaitingReply' } })).toBe(true);
    expect(s.context.replyPeerId).toBeNull();
    const other = req([attach(1), attach(2), { type: 'request.sent', peerId: 1 }, { type: 'peer.detached', peerId: 2 }]);
    expect(other.context.replyPeerId).toBe(1);
  });

  it('request: the peers region shows noPeers, ready and mute from per-peer flags', () => {
    expect(req([attach(1)]).matches({ open: { peers: 'ready' } })).toBe(true);
    const muted = req([attach(1), { type: 'pipe.muted', peerId: 1 }]);
    expect(muted.matches({ open: { peers: 'mute' } })).toBe(true);
    expect(muted.context.peers[0]!.ready).toBe(false);
    expect(req([attach(1), attach(2), { type: 'pipe.muted', peerId: 1 }]).matches({ open: { peers: 'ready' } })).toBe(true);
    expect(req([attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }]).matches({ open: { peers: 'ready' } })).toBe(true);
    expect(req([attach(1), { type: 'peer.detached', peerId: 1 }]).matches({ open: { peers: 'noPeers' } })).toBe(true);
  });

  it('request: correlate is recorded; the id wraps at 2^32', () => {
    expect(req([{ type: 'option.changed', name: 'correlate', value: true }]).context.correlate).toBe(true);
    expect(nextRequestId(0xffffffff)).toBe(0);
    const s = req([attach(1), { type: 'request.sent', peerId: 1 }], { requestId: 0xffffffff });
    expect(s.context.requestId).toBe(0);
  });

  it('request: close without queued output ends at once; with output and linger it lingers', () => {
    expect(req([{ type: 'close', linger: -1, queued: 0 }]).value).toBe('closed');
    const lingering = req([{ type: 'close', linger: 100, queued: 2 }]);
    expect(lingering.value).toBe('lingering');
    const [closed] = transition(requestMachine, lingering, { type: 'pipes.drained' });
    expect(closed.value).toBe('closed');
  });

  it('request: xstate/graph walks it (pure: no invoke, no delays)', () => {
    const paths = getShortestPaths(requestMachine, {
      input: { requestId: 1 },
      events: [attach(1), { type: 'pipe.muted', peerId: 1 }, { type: 'pipe.ready', peerId: 1 }, { type: 'peer.detached', peerId: 1 }, { type: 'request.sent', peerId: 1 }, { type: 'reply.received' }, { type: 'close', linger: 0, queued: 0 }],
      // A finite view: the state value already says noPeers/ready/mute (turns, ids and repeated
      // attaches of the one peer id would make the context space infinite).
      serializeState: (s) => JSON.stringify([s.value, s.context.replyPeerId]),
    });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(values).toContain(JSON.stringify({ open: { turn: 'awaitingReply', peers: 'mute' } }));
    expect(values).toContain(JSON.stringify({ open: { turn: 'idle', peers: 'noPeers' } }));
    expect(values).toContain('"closed"');
  });
});

describe('replyMachine', () => {
  it('reply: starts receiving; request.received moves to replying toward that peer', () => {
    expect(rep([]).value).toEqual({ open: { turn: 'receiving', peers: 'noPeers' } });
    const s = rep([attach(1), { type: 'request.received', peerId: 1 }]);
    expect(s.value).toEqual({ open: { turn: { replying: 'toPeer' }, peers: 'attached' } });
    expect(s.context.replyPeerId).toBe(1);
  });

  it('reply: a reply before a request, or a second request before the reply, is refused (EFSM)', () => {
    expect(rep([attach(1)]).can({ type: 'reply.sent' })).toBe(false);
    expect(rep([attach(1), { type: 'request.received', peerId: 1 }]).can({ type: 'request.received', peerId: 1 })).toBe(false);
  });

  it('reply: reply.sent returns to receiving', () => {
    const s = rep([attach(1), { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }]);
    expect(s.matches({ open: { turn: 'receiving' } })).toBe(true);
    expect(s.context.replyPeerId).toBeNull();
    expect(s.context.turns).toBe(2);
  });

  it('reply: the requester leaving while a reply is owed shows peerGone (the reply will be dropped)', () => {
    const gone = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 1 }]);
    expect(gone.matches({ open: { turn: { replying: 'peerGone' } } })).toBe(true);
    expect(gone.context.replyPeerId).toBeNull();
    const other = rep([attach(1), attach(2), { type: 'request.received', peerId: 1 }, { type: 'peer.detached', peerId: 2 }]);
    expect(other.matches({ open: { turn: { replying: 'toPeer' } } })).toBe(true);
    const [after] = transition(replyMachine, gone, { type: 'reply.sent' });
    expect(after.matches({ open: { turn: 'receiving' } })).toBe(true);
  });

  it('reply: per-peer HWM flags follow pipe.muted / pipe.ready', () => {
    const s = rep([attach(1), attach(2), { type: 'pipe.muted', peerId: 2 }]);
    expect(s.context.peers.map((p) => p.ready)).toEqual([true, false]);
    const [t] = transition(replyMachine, s, { type: 'pipe.ready', peerId: 2 });
    expect(t.context.peers.map((p) => p.ready)).toEqual([true, true]);
  });

  it('reply: xstate/graph walks it', () => {
    const paths = getShortestPaths(replyMachine, {
      events: [attach(1), { type: 'peer.detached', peerId: 1 }, { type: 'request.received', peerId: 1 }, { type: 'reply.sent' }],
      serializeState: (s) => JSON.stringify([s.value, s.context.replyPeerId]),
    });
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(values).toContain(JSON.stringify({ open: { turn: { replying: 'peerGone' }, peers: 'noPeers' } }));
    expect(values).toContain(JSON.stringify({ open: { turn: { replying: 'toPeer' }, peers: 'attached' } }));
  });
});
