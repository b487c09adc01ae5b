// Model-based tests for the Dealer and Router machines: paths from xstate/graph, replayed on real
// sockets over inproc (a fresh Context per path). After every step the real socket's machine must
// be where the model is (state value; peers, ready flags and routing ids), and the socket must do
// what that state predicts.
//
// Bounds (every transition once: the shortest path to each state, then each event the runtime can
// produce there, one step further):
//   Dealer — 2 peer labels (Dealer sockets that connect). Events: attach, detach, pipe.muted,
//            pipe.ready, close (linger 0; linger ≠ 0 while some peer is mute, which lingers),
//            pipes.drained, linger.expired. Dealer (SNDHWM 1) → peer (RCVHWM 1): pipe capacity 2.
//   Router — peer labels, all Dealers: 1 and 2 announce routing id "a" (the second is refused,
//            or with handover takes it over), 3 announces none (a generated id), 4 is a Dealer the
//            Router connects to before it binds (attached with a generated id, then
//            `peer.identified` as "a"). Two alphabets, each covered on its own:
//              identity — labels 1-4, attach / detach / peer.identified / handover on-off / close
//                         (181 paths, at most 5 steps);
//              delivery — labels 1 and 3, attach / detach / pipe.muted / pipe.ready / mandatory
//                         on-off / close (linger 0, or ≠ 0 from a mute peer) / pipes.drained /
//                         linger.expired (117 paths, at most 6 steps).
//            (Both at once: over 1000 paths; the regions multiply.) States are told apart by
//            value, handover and the peers (id, ready, routing id with every generated id as one
//            symbol), not by the generated-id counter.

import { describe, expect, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { dealerMachine } from '../../machines/dealer.js';
import type { DealerEvent } from '../../machines/dealer.js';
import { routerMachine } from '../../machines/router.js';
import type { RouterEvent } from '../../machines/router.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { closeEvents, closedAfterEach, connectPeer, detachPeer, drain, drainOthers, expectEnded, expectState, fill, hex, named, outcome, peerIdOf, pipeToward, received, replayClosing, replaySteps, transitionCover } from './replay.js';

const track = closedAfterEach();

describe('model: the Dealer machine replayed on Dealer peers', () => {
  type Label = 1 | 2;
  const labels: Label[] = [1, 2];
  const endpoint = 'inproc://model-dealer';
  const eventsAt = (s: SnapshotFrom<typeof dealerMachine>): DealerEvent[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const out: DealerEvent[] = [];
    for (const l of labels) {
      const p = s.context.peers.get(l);
      if (p === undefined) out.push({ type: 'peer.attached', peerId: l, endpoint, peerType: 'DEALER' });
      else out.push({ type: 'peer.detached', peerId: l }, p.ready ? { type: 'pipe.muted', peerId: l } : { type: 'pipe.ready', peerId: l });
    }
    out.push(...closeEvents(s.context.peers, 2));
    return out;
  };
  const paths = transitionCover(dealerMachine, { events: eventsAt });

  it('model: the traversal reaches noPeers, ready, mute, lingering and closed', () => {
    expect(new Set(paths.map((p) => JSON.stringify(p.state.value)))).toEqual(
      new Set(['{"open":"noPeers"}', '{"open":"ready"}', '{"open":"mute"}', '"lingering"', '"closed"']),
    );
  });

  it.each(named(paths))('dealer path: %s', async (_name, path) => {
    const context = new Context();
    const dealer = track(new Dealer({ context, sendHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    await dealer.bind(endpoint);
    const peers = new Map<Label, Dealer>();
    let n = 0;
    for (const { step, next, label, peer } of replaySteps(path, peers)) {
      const e = step.event;
      switch (e.type) {
        case 'peer.attached':
          connectPeer(peers, label as Label, track(new Dealer({ context, receiveHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 })), endpoint);
          break;
        case 'peer.detached':
          detachPeer(peers, label as Label);
          break;
        case 'pipe.muted':
          // Fill this peer's pipe (round-robin feeds the others too), then drain the others the
          // model keeps ready.
          await fill(dealer, peer as object, () => `fill${n++}`);
          await drainOthers(peers, label, step.state.context.peers);
          break;
        case 'pipe.ready':
          await drain(peer as Dealer);
          break;
        case 'close':
        case 'pipes.drained':
        case 'linger.expired':
          await replayClosing(dealer, e, next, peers.values());
          break;
      }
      await expectState(dealer, step.state);
      if (await expectEnded(dealer, step.state)) continue;
      const value = JSON.stringify(step.state.value);
      const model = step.state.context.peers;
      const want = model.list().map((p) => [peerIdOf(dealer, peers.get(p.id as Label) as object), p.ready]).sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(dealer.getSnapshot().context.peers.list().map((p) => [p.id, p.ready])).toEqual(want);
      // Receiving: every peer's message arrives once (fair queueing over all of them).
      const up: string[] = [];
      for (const [l, p] of peers) {
        expect(await outcome(p.send(`up${l}:${n}`))).toBe('ok');
        up.push(`up${l}:${n++}`);
      }
      expect((await drain(dealer)).map((m) => m[0]).sort()).toEqual(up.sort());
      expect(await outcome(dealer.receive())).toBe('EAGAIN');
      // Sending: ready sends at once to one ready peer; noPeers and mute wait.
      if (value === '{"open":"ready"}') {
        expect(dealer.writable).toBe(true);
        const probe = `probe${n++}`;
        expect(await outcome(dealer.send(probe))).toBe('ok');
        const got: string[] = [];
        for (const p of model) if (p.ready) got.push(...(await drain(peers.get(p.id as Label) as Dealer)).map((m) => m[0] as string));
        expect(got).toEqual([probe]);
      } else {
        expect(dealer.writable).toBe(false);
        expect(await outcome(dealer.send('probe'))).toBe('EAGAIN');
      }
      await expectState(dealer, step.state);
    }
  });
});

type RouterLabel = 1 | 2 | 3 | 4;
interface RouterCase {
  /** The peer labels in play. */
  labels: RouterLabel[];
  /** Labels whose pipe the paths fill and drain. */
  mute: RouterLabel[];
  /** Whether the paths toggle mandatory / handover. */
  mandatory: boolean;
  handover: boolean;
}

// Two alphabets, to keep the product of regions small: the identity table (who holds "a", with
// handover on and off), and delivery (mute peers, mandatory on and off).
describe.each([
  ['identity', { labels: [1, 2, 3, 4], mute: [], mandatory: false, handover: true }],
  ['delivery', { labels: [1, 3], mute: [1, 3], mandatory: true, handover: false }],
] as [string, RouterCase][])('model: the Router machine replayed on Dealer peers (%s)', (_case, cfg) => {
  type Label = RouterLabel;
  const labels = cfg.labels;
  const endpoint = 'inproc://model-router';
  const A = hex('a');
  const isGenerated = (id: string | undefined) => id !== undefined && id.length === 10 && id.startsWith('00');
  const eventsAt = (s: SnapshotFrom<typeof routerMachine>): RouterEvent[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const out: RouterEvent[] = [];
    for (const l of labels) {
      const p = s.context.peers.get(l);
      if (p === undefined) {
        if (l === 4) out.push({ type: 'peer.attached', peerId: l, endpoint: 'inproc://model-late', peerType: '' });
        else out.push({ type: 'peer.attached', peerId: l, endpoint, peerType: 'DEALER', ...(l === 3 ? {} : { routingId: A }) });
        continue;
      }
      out.push({ type: 'peer.detached', peerId: l });
      if (l === 4 && isGenerated(p.routingId)) out.push({ type: 'peer.identified', peerId: l, peerType: 'DEALER', routingId: A });
      if (cfg.mute.includes(l)) out.push(p.ready ? { type: 'pipe.muted', peerId: l } : { type: 'pipe.ready', peerId: l });
    }
    const mandatory = s.matches({ open: { mandatory: 'on' } });
    if (cfg.mandatory) out.push({ type: 'option.changed', name: 'mandatory', value: !mandatory });
    if (cfg.handover) out.push({ type: 'option.changed', name: 'handover', value: !s.context.handover });
    out.push(...closeEvents(s.context.peers, 2));
    return out;
  };
  const serializeState = (s: SnapshotFrom<typeof routerMachine>) =>
    JSON.stringify([
      s.value,
      s.context.handover,
      s.context.peers.list().map((p) => [p.id, p.ready, isGenerated(p.routingId) ? 'gen' : p.routingId]),
    ]);
  const paths = transitionCover(routerMachine, { events: eventsAt, serializeState, input: { nextGeneratedId: 0 } });

  it('model: the traversal reaches what this alphabet can', () => {
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const peers of ['noPeers', 'attached']) expect(values).toContain(JSON.stringify({ open: { peers, mandatory: 'off' } }));
    expect(values).toContain('"closed"');
    if (cfg.mandatory) {
      expect(values).toContain(JSON.stringify({ open: { peers: 'attached', mandatory: 'on' } }));
      expect(values).toContain('"lingering"');
    }
    if (cfg.labels.includes(4)) {
      // Some path hands "a" over (on attach and on identify), some refuses a duplicate.
      const handedOver = (p: (typeof paths)[number]) => p.state.context.handover && p.state.context.routes.holderOf(A) !== undefined && p.steps.length > 3;
      expect(paths.some((p) => p.steps.some((s) => s.event.type === 'peer.identified'))).toBe(true);
      expect(paths.some(handedOver)).toBe(true);
    }
  });

  it.each(named(paths))('router path: %s', async (_name, path) => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    await router.bind(endpoint);
    const peers = new Map<Label, Dealer>();
    let late = ''; // the name label 4 binds, once the Router has connected to it
    let n = 0;
    const newDealer = (routingId: string | undefined) =>
      track(new Dealer({ context, receiveHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0, ...(routingId === undefined ? {} : { routingId }) }));
    for (const { step, next, label, peer } of replaySteps(path, peers)) {
      const e = step.event;
      switch (e.type) {
        case 'peer.attached':
          detachPeer(peers, label as Label);
          if (label === 4) {
            late = `inproc://model-late-${n++}`;
            router.connect(late);
          } else {
            connectPeer(peers, label as Label, newDealer(label === 3 ? undefined : 'a'), endpoint);
          }
          break;
        case 'peer.identified': {
          const d = newDealer('a');
          await d.bind(late);
          peers.set(4, d);
          break;
        }
        case 'peer.detached':
          if (peer !== undefined) peer.close();
          else router.disconnect(late); // label 4 before its Dealer bound
          peers.delete(label as Label);
          break;
        case 'pipe.muted': {
          const id = router.getSnapshot().context.peers.get(peerIdOf(router, peer as object) ?? -1)?.routingId as string;
          await fill(router, peer as object, () => [Buffer.from(id, 'hex'), `fill${n++}`]);
          break;
        }
        case 'pipe.ready':
          await drain(peer as Dealer);
          break;
        case 'option.changed':
          if (e.name === 'mandatory') router.mandatory = e.value;
          else router.handover = e.value;
          break;
        case 'close':
        case 'pipes.drained':
        case 'linger.expired':
          await replayClosing(router, e, next, peers.values());
          break;
      }
      const snap = await expectState(router, step.state);
      if (await expectEnded(router, step.state, [A, 'x'])) continue;
      expect(snap.context.handover).toBe(step.state.context.handover);
      // The identity table: each model peer is the real connection to that label's Dealer, with
      // the same ready flag and routing id (a generated id: any `00` + 4 bytes).
      const realOf = (l: Label) => (l === 4 && !peers.has(4) ? [...snap.context.peers].find((p) => p.endpoint.startsWith('inproc://model-late'))?.id : peerIdOf(router, peers.get(l) as object));
      const model = step.state.context.peers;
      expect(snap.context.peers.size).toBe(model.size);
      for (const p of model) {
        const real = snap.context.peers.get(realOf(p.id as Label) ?? -1);
        expect(real, `label ${p.id}`).toBeDefined();
        expect(real?.ready).toBe(p.ready);
        if (isGenerated(p.routingId)) expect(isGenerated(real?.routingId)).toBe(true);
        else expect(real?.routingId).toBe(p.routingId);
        expect(snap.context.routes.holderOf(real?.routingId as string)).toBe(real?.id);
      }
      const mandatory = step.state.matches({ open: { mandatory: 'on' } });
      // Each peer's message arrives behind its routing id; a reply by that id goes back to it
      // (ready), or is dropped (mute, mandatory off) or waits (mute, mandatory on).
      for (const p of model) {
        const l = p.id as Label;
        const d = peers.get(l);
        if (d === undefined) continue; // label 4 before its Dealer bound
        const id = snap.context.peers.get(realOf(l) ?? -1)?.routingId as string;
        expect(await outcome(d.send(`up${n}`))).toBe('ok');
        const got = await router.receive();
        expect(got[0]?.toString('hex')).toBe(id);
        expect(got[1]?.toString()).toBe(`up${n++}`);
        const pipe = pipeToward(router, d);
        const before = pipe?.size;
        const r = await outcome(router.send([Buffer.from(id, 'hex'), `down${n}`]));
        if (p.ready) {
          expect(r).toBe('ok');
          expect(await received(d.receive())).toEqual([`down${n}`]);
        } else {
          expect(r).toBe(mandatory ? 'EAGAIN' : 'ok');
          expect(pipe?.size).toBe(before);
        }
        n++;
      }
      expect(await outcome(router.receive())).toBe('EAGAIN');
      // An id nobody holds: dropped, or EHOSTUNREACH with mandatory.
      expect(await outcome(router.send([hex('nobody'), 'x']))).toBe(mandatory ? 'EHOSTUNREACH' : 'ok');
      // A refused or evicted Dealer has no link any more: its sends wait.
      for (const [l, d] of peers) if (!model.has(l)) expect(await outcome(d.send('stray'))).toBe('EAGAIN');
      await expectState(router, step.state);
    }
  });
});
