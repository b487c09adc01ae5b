// Model-based tests for the Request and Reply machines: paths from xstate/graph, replayed on real
// sockets over inproc (a fresh Context per path). After every step the real socket's machine must
// be where the model is (state value; peers and ready flags; relaxed / correlate), and the socket
// must do what that state predicts: EFSM out
// of turn, EAGAIN where it would wait, the reply from the peer asked, the reply back to the
// requester, EBADF once closed.
//
// Neither machine keeps the peer a request went to (the runtime does): the tests track it along
// each path, from the events that path takes.
//
// Bounds (every transition once: the shortest path to each state, then each event the runtime can
// produce there, one step further):
//   Request — peer labels are Routers that bind (so a test can answer from any peer, with any
//             envelope). REQ (SNDHWM 1) → Router (RCVHWM 1): pipe capacity 2. Events: attach,
//             detach, request.sent (only toward the one ready peer: round-robin is not in the
//             model), reply.received, relaxed on/off, pipe.muted (only relaxed, awaiting, and it
//             the one ready peer: a burst of relaxed requests fills it), pipe.ready, close
//             (linger 0; ≠ 0 while a peer is mute) / pipes.drained / linger.expired. Two
//             alphabets: 2 labels; 1 label plus correlate on/off (only between requests).
//   Reply   — 2 peer labels, Dealers that connect: label 1 asks (so the requester is known from
//             the state: the one label that asks), label 2 only attaches, leaves, and sends
//             requests REP must not take while replying. REP (SNDHWM 1) → Dealer (RCVHWM 1):
//             capacity 2. Events: attach, detach, request.received, reply.sent,
//             requester.detached (which the runtime adds when the requester leaves while a reply
//             is owed: one real action, the detach, makes both model steps), pipe.muted (only
//             between requests: a run of request/reply turns fills it, so the real machine takes
//             turn events the model step sums up), pipe.ready, close (as above).

import { describe, expect, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { requestMachine } from '../../machines/request.js';
import type { RequestEvent } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';
import type { ReplyEvent } from '../../machines/reply.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import { bindPeer, closeEvents, closedAfterEach, connectPeer, detachPeer, drain, ended, expectEnded, expectState, labelOf, named, outcome, pipeToward, received, replayClosing, replaySteps, tick, transitionCover } from './replay.js';

type Label = 1 | 2;
const labels: Label[] = [1, 2];

const track = closedAfterEach();

/** Whether a state value names `name` somewhere (the machines' nesting is theirs to change). */
function has(s: { value: unknown }, name: string): boolean {
  return JSON.stringify(s.value).includes(`"${name}"`);
}

function idFrame(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id >>> 0, 0);
  return b;
}

// Two alphabets, so the regions do not multiply: two peers with relaxed on and off; one peer with
// relaxed and correlate on and off.
describe.each([
  ['two peers', { labels: [1, 2] as Label[], correlate: false }],
  ['correlate', { labels: [1] as Label[], correlate: true }],
])('model: the Request machine replayed on Router peers (%s)', (_case, cfg) => {
  type Snap = SnapshotFrom<typeof requestMachine>;
  const awaiting = (s: Snap) => has(s, 'awaitingReply');
  const eventsAt = (s: Snap): RequestEvent[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const { peers, relaxed, correlate } = s.context;
    const out: RequestEvent[] = [];
    const ready = peers.list().filter((p) => p.ready);
    for (const l of cfg.labels) {
      const p = peers.get(l);
      if (p === undefined) {
        out.push({ type: 'peer.attached', peerId: l, endpoint: `inproc://model-req-${l}`, peerType: 'ROUTER' });
        continue;
      }
      out.push({ type: 'peer.detached', peerId: l });
      const onlyReady = p.ready && ready.length === 1;
      // (the model's request id is not the real one: the replay checks ids itself)
      if (onlyReady && (!awaiting(s) || relaxed)) out.push({ type: 'request.sent', peerId: l, requestId: 0 });
      if (!p.ready) out.push({ type: 'pipe.ready', peerId: l });
      else if (onlyReady && awaiting(s) && relaxed) out.push({ type: 'pipe.muted', peerId: l });
    }
    // A reply comes from the peer asked, or from anyone once that peer has left.
    if (awaiting(s) && peers.size > 0) out.push({ type: 'reply.received' });
    out.push({ type: 'option.changed', name: 'relaxed', value: !relaxed });
    if (cfg.correlate && !awaiting(s)) out.push({ type: 'option.changed', name: 'correlate', value: !correlate });
    out.push(...closeEvents(peers, 2));
    return out;
  };
  const paths = transitionCover(requestMachine, { events: eventsAt, input: {} });

  it('model: the traversal reaches idle and awaiting with no peer, a ready one and only mute ones; lingering and closed', () => {
    const reached = (turn: string, peers: (ps: { ready: boolean }[]) => boolean) => paths.some((p) => has(p.state, turn) && !ended(p.state) && peers(p.state.context.peers.list()));
    for (const turn of ['idle', 'awaitingReply']) {
      expect(reached(turn, (ps) => ps.length === 0)).toBe(true);
      if (cfg.labels.length > 1) expect(reached(turn, (ps) => ps.length === 2)).toBe(true);
      expect(reached(turn, (ps) => ps.some((p) => p.ready))).toBe(true);
    }
    // A REQ pipe fills only with a burst of relaxed requests: all-mute is reached while awaiting.
    expect(reached('awaitingReply', (ps) => ps.length > 0 && ps.every((p) => !p.ready))).toBe(true);
    expect(paths.some((p) => p.state.value === 'lingering')).toBe(true);
    expect(paths.some((p) => p.state.value === 'closed')).toBe(true);
  });

  it.each(named(paths))('req path: %s', async (_name, path) => {
    const context = new Context();
    const req = track(new Request({ context, routingId: 'req', sendHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    const routers = new Map<Label, Router>();
    const REQ = Buffer.from('req');
    let n = 0;
    // The peer asked and the last request id, as the replay sees them (the machine keeps them too:
    // checked against its turn record after each step).
    let asked: Label | null = null;
    let lastId: number | undefined;
    for (const { step, before, next, label, peer: router } of replaySteps(path, routers)) {
      const e = step.event;
      switch (e.type) {
        case 'peer.attached': {
          const r = track(new Router({ context, receiveHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
          await bindPeer(req, routers, label as Label, r, `inproc://model-req-${label}-${n++}`);
          break;
        }
        case 'peer.detached':
          detachPeer(routers, label as Label);
          if (asked === label) asked = null;
          break;
        case 'request.sent': {
          // The one ready peer gets it, behind our routing id, the request id (correlate: one
          // more than the last) and the empty delimiter.
          const body = `q${n++}`;
          expect(await outcome(req.send(body))).toBe('ok');
          const got = await (router as Router).receive();
          expect(got[0]?.toString()).toBe('req');
          if (before.context.correlate) {
            expect(got.length).toBe(4);
            const id = (got[1] as Buffer).readUInt32LE(0);
            if (lastId !== undefined) expect(id).toBe((lastId + 1) >>> 0);
            lastId = id;
          } else {
            expect(got.length).toBe(3);
            lastId = undefined;
          }
          expect(got.slice(-2).map((f) => f.toString())).toEqual(['', body]);
          asked = label as Label;
          break;
        }
        case 'reply.received': {
          const from = asked ?? (before.context.peers.first()?.id as Label);
          const r = routers.get(from) as Router;
          const body = `r${n++}`;
          expect(await outcome(r.send([REQ, ...(before.context.correlate ? [idFrame(lastId as number)] : []), '', body]))).toBe('ok');
          expect(await received(req.receive())).toEqual([body]);
          asked = null;
          break;
        }
        case 'pipe.muted':
          // A burst of relaxed requests, all to the one ready peer, until its pipe is full.
          while (pipeToward(req, router as object)?.writable) {
            expect(await outcome(req.send(`burst${n++}`))).toBe('ok');
            if (lastId !== undefined) lastId = (lastId + 1) >>> 0;
          }
          asked = label as Label;
          break;
        case 'pipe.ready':
          await drain(router as Router);
          break;
        case 'option.changed':
          if (e.name === 'relaxed') req.relaxed = e.value;
          else req.correlate = e.value;
          break;
        case 'close':
        case 'pipes.drained':
        case 'linger.expired':
          await replayClosing(req, e, next, routers.values());
          break;
      }
      const snap = await expectState(req, step.state);
      if (await expectEnded(req, step.state)) continue;
      const model = step.state.context;
      expect(snap.context.peers.list().map((p) => [labelOf(req, routers, p.id), p.ready]).sort()).toEqual(model.peers.list().map((p) => [p.id, p.ready]).sort());
      expect([snap.context.relaxed, snap.context.correlate]).toEqual([model.relaxed, model.correlate]);
      // The machine's turn record names the peer asked (null once it left) and the id sent.
      if (awaiting(step.state)) {
        expect(snap.context.turn.asked === null ? null : labelOf(req, routers, snap.context.turn.asked)).toBe(asked);
        if (lastId !== undefined) expect(snap.context.turn.requestId).toBe(lastId);
      }
      const anyReady = model.peers.readyCount > 0;
      if (!awaiting(step.state)) {
        expect(await outcome(req.receive())).toBe('EFSM');
        expect(req.writable).toBe(anyReady);
        if (!anyReady) expect(await outcome(req.send('x'))).toBe('EAGAIN');
        continue;
      }
      // Awaiting a reply: nothing yet; a second request is EFSM unless relaxed.
      expect(await outcome(req.receive())).toBe('EAGAIN');
      expect(req.writable).toBe(model.relaxed && anyReady);
      if (!model.relaxed) expect(await outcome(req.send('x'))).toBe('EFSM');
      else if (!anyReady) expect(await outcome(req.send('x'))).toBe('EAGAIN');
      if (asked !== null) {
        // A reply from a peer not asked is discarded; so is one with the wrong request id.
        const envelope = model.correlate ? [idFrame(lastId as number)] : [];
        for (const [l, r] of routers) {
          if (l === asked) continue;
          expect(await outcome(r.send([REQ, ...envelope, '', 'stale']))).toBe('ok');
          expect(await outcome(req.receive())).toBe('EAGAIN');
        }
        if (model.correlate) {
          const r = routers.get(asked) as Router;
          expect(await outcome(r.send([REQ, idFrame((lastId as number) + 1), '', 'wrong id']))).toBe('ok');
          expect(await outcome(req.receive())).toBe('EAGAIN');
        }
      }
      await expectState(req, step.state);
    }
  });
});

describe('model: the Reply machine replayed on Dealer peers', () => {
  type Snap = SnapshotFrom<typeof replyMachine>;
  const receiving = (s: Snap) => has(s, 'receiving');
  const endpoint = 'inproc://model-rep';
  const REQUESTER: Label = 1;
  const eventsAt = (s: Snap): ReplyEvent[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const out: ReplyEvent[] = [];
    for (const l of labels) {
      const p = s.context.peers.get(l);
      if (p === undefined) {
        out.push({ type: 'peer.attached', peerId: l, endpoint, peerType: 'DEALER' });
        continue;
      }
      out.push({ type: 'peer.detached', peerId: l });
      if (l !== REQUESTER) continue;
      if (receiving(s)) out.push({ type: 'request.received', peerId: l });
      if (!p.ready) out.push({ type: 'pipe.ready', peerId: l });
      else if (receiving(s)) out.push({ type: 'pipe.muted', peerId: l });
    }
    if (!receiving(s)) out.push({ type: 'reply.sent' });
    out.push(...closeEvents(s.context.peers, 2));
    return out;
  };
  const paths = transitionCover(replyMachine, { events: eventsAt });

  it('model: the traversal reaches receiving, replying, peerGone (with and without peers), lingering and closed', () => {
    const reached = (name: string, peers: number) => paths.some((p) => has(p.state, name) && p.state.context.peers.size === peers);
    expect(reached('receiving', 0)).toBe(true);
    expect(reached('replying', 1)).toBe(true);
    expect(reached('replying', 2)).toBe(true);
    expect(reached('peerGone', 0)).toBe(true);
    expect(reached('peerGone', 1)).toBe(true);
    expect(paths.some((p) => p.state.value === 'lingering')).toBe(true);
    expect(paths.some((p) => p.state.value === 'closed')).toBe(true);
  });

  it.each(named(paths))('rep path: %s', async (_name, path) => {
    const context = new Context();
    const rep = track(new Reply({ context, sendHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    await rep.bind(endpoint);
    const dealers = new Map<Label, Dealer>();
    let n = 0;
    let requester: Dealer | undefined; // the Dealer whose request is being answered
    const newDealer = () => track(new Dealer({ context, receiveHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    for (const { step, before, next, label, peer: dealer } of replaySteps(path, dealers)) {
      const e = step.event;
      switch (e.type) {
        case 'peer.attached':
          connectPeer(dealers, label as Label, newDealer(), endpoint);
          break;
        case 'peer.detached':
          detachPeer(dealers, label as Label);
          break;
        case 'request.received': {
          const body = `q${n++}`;
          expect(await outcome((dealer as Dealer).send(['', body]))).toBe('ok');
          expect(await received(rep.receive())).toEqual([body]);
          requester = dealer;
          break;
        }
        case 'reply.sent': {
          // The reply goes back to the requester (behind its envelope) if it is there with room;
          // otherwise it is dropped. REP never waits.
          const to = requester;
          requester = undefined;
          const pipe = to === undefined || to.closed ? undefined : pipeToward(rep, to);
          const size = pipe?.size;
          const body = `r${n++}`;
          expect(await outcome(rep.send(body))).toBe('ok');
          if (has(before, 'replying') && before.context.peers.get(REQUESTER)?.ready === true) {
            expect(await received((to as Dealer).receive())).toEqual(['', body]);
          } else if (pipe !== undefined) {
            expect(pipe.size).toBe(size);
          }
          break;
        }
        case 'pipe.muted':
          // Request/reply turns with this peer until its pipe is full (the real machine takes
          // those turn events; the model sums them up as this one step).
          while (pipeToward(rep, dealer as object)?.writable) {
            expect(await outcome((dealer as Dealer).send(['', `burst${n}`]))).toBe('ok');
            expect(await received(rep.receive())).toEqual([`burst${n}`]);
            expect(await outcome(rep.send(`burst-reply${n++}`))).toBe('ok');
          }
          break;
        case 'pipe.ready':
          await drain(dealer as Dealer);
          break;
        case 'close':
        case 'pipes.drained':
        case 'linger.expired':
          await replayClosing(rep, e, next, dealers.values());
          break;
      }
      const snap = await expectState(rep, step.state);
      if (await expectEnded(rep, step.state)) continue;
      const model = step.state.context;
      expect(snap.context.peers.list().map((p) => [labelOf(rep, dealers, p.id), p.ready]).sort()).toEqual(model.peers.list().map((p) => [p.id, p.ready]).sort());
      // The machine's turn record names the requester while a reply is owed to a peer still there.
      if (has(step.state, 'replying')) expect(labelOf(rep, dealers, snap.context.turn.requester as number)).toBe(model.turn.requester);
      if (receiving(step.state)) {
        expect(await outcome(rep.send('x'))).toBe('EFSM');
        expect(rep.writable).toBe(false);
        expect(await outcome(rep.receive())).toBe('EAGAIN');
      } else {
        expect(await outcome(rep.receive())).toBe('EFSM');
        expect(rep.writable).toBe(true);
        // Another peer's request waits its turn: not taken while a reply is owed.
        const other = dealers.get(2);
        if (other !== undefined && model.peers.has(2)) {
          expect(await outcome(other.send(['', 'later']))).toBe('ok');
          expect(await outcome(rep.receive())).toBe('EFSM');
          expect(rep.readable).toBe(false);
          // Take it back out of REP's queue is not possible; close and replace that Dealer so
          // the next request.received reads label 1's request.
          other.close();
          connectPeer(dealers, 2, newDealer(), endpoint);
          await tick();
        }
      }
      await expectState(rep, step.state);
    }
  });
});
