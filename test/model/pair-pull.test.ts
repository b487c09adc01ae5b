// Model-based tests for the Pull and Pair machines: paths from xstate/graph, replayed on real
// sockets over inproc (a fresh Context per path). After every step the real socket's machine
// must be where the model is (state value, and which peers with which ready flags), and the socket
// must do what that state predicts.
//
// Bounds:
//   Pull  — 2 peer labels (Push sockets that connect), events attach / detach / close.
//           All simple paths (the graph has 6 states, so every simple path has at most 5 steps).
//   Pair  — 2 peer labels (Pair sockets that connect; the second is refused while one is paired),
//           events attach / detach / pipe.muted / pipe.ready / close (linger 0, and linger ≠ 0
//           from mute, which lingers) / pipes.drained / linger.expired. Every transition once
//           (shortest path to each state + each possible event there), and every simple path of
//           at most 5 steps.
//   Pair (SNDHWM 1) ──inproc──▶ peer Pair (RCVHWM 1): pipe capacity 2, low-water mark 1.

import { describe, expect, it } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { pairMachine } from '../../machines/pair.js';
import { pullMachine } from '../../machines/pull.js';
import type { CloseEvent, PeerEvent } from '../../machines/peers.js';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { closeEvents, closedAfterEach, connectPeer, detachPeer, drain, expectEnded, expectState, fill, named, outcome, peerIdOf, received, replayClosing, replaySteps, simplePaths, transitionCover } from './replay.js';

type Label = 1 | 2;
const labels: Label[] = [1, 2];
type Ev = PeerEvent | CloseEvent;

const track = closedAfterEach();

/** Model peers (ids are labels) as [runtime id, ready], to compare with the real machine's. */
function expectSamePeers(real: Iterable<{ id: number; ready: boolean }>, model: Iterable<{ id: number; ready: boolean }>, idOf: (l: Label) => number | undefined): void {
  const want = [...model].map((p) => [idOf(p.id as Label), p.ready]).sort((a, b) => Number(a[0]) - Number(b[0]));
  const got = [...real].map((p) => [p.id, p.ready]).sort((a, b) => Number(a[0]) - Number(b[0]));
  expect(got).toEqual(want);
}

describe('model: the Pull machine replayed on Push peers', () => {
  const endpoint = 'inproc://model-pull';
  const eventsAt = (s: SnapshotFrom<typeof pullMachine>): Ev[] => {
    if (s.status !== 'active') return [];
    const out: Ev[] = [];
    for (const l of labels) {
      if (s.context.peers.has(l)) out.push({ type: 'peer.detached', peerId: l });
      else out.push({ type: 'peer.attached', peerId: l, endpoint, peerType: 'PUSH' });
    }
    out.push({ type: 'close', linger: 0, queued: 0 });
    return out;
  };
  const paths = simplePaths(pullMachine, { events: eventsAt }, 5);

  it('model: the simple paths reach noPeers, attached and closed', () => {
    expect(new Set(paths.map((p) => JSON.stringify(p.state.value)))).toEqual(new Set(['{"open":"noPeers"}', '{"open":"attached"}', '"closed"']));
    // Peer tables serialise in id order, so attaching 1 then 2 and 2 then 1 reach one state.
    expect(paths.length).toBe(14);
  });

  it.each(named(paths))('pull path: %s', async (_name, path) => {
    const context = new Context();
    const pull = track(new Pull({ context, receiveHighWaterMark: 2, receiveTimeout: 0, linger: 0 }));
    await pull.bind(endpoint);
    const pushes = new Map<Label, Push>();
    let n = 0;
    for (const { step, label } of replaySteps(path, pushes)) {
      const e = step.event;
      if (e.type === 'peer.attached') {
        connectPeer(pushes, label as Label, track(new Push({ context, sendHighWaterMark: 2, sendTimeout: 0, linger: 0 })), endpoint);
      } else if (e.type === 'peer.detached') {
        detachPeer(pushes, label as Label);
      } else if (e.type === 'close') {
        pull.close();
      }
      await expectState(pull, step.state);
      // A Pull never lingers: its only end is closed.
      if (await expectEnded(pull, step.state)) continue;
      const value = JSON.stringify(step.state.value);
      expectSamePeers(pull.getSnapshot().context.peers, step.state.context.peers, (l) => peerIdOf(pull, pushes.get(l) as object));
      expect(await outcome(pull.send('x'))).toBe('ENOTSUP');
      if (value === '{"open":"noPeers"}') {
        expect(await outcome(pull.receive())).toBe('EAGAIN');
      } else {
        // Every attached Push reaches this Pull, each once, in its own order.
        const sent: string[] = [];
        for (const [l, push] of pushes) {
          for (let k = 0; k < 2; k++) {
            const m = `${l}:${n++}`;
            expect(await outcome(push.send(m))).toBe('ok');
            sent.push(m);
          }
        }
        const got = (await drain(pull)).map((m) => m[0] as string);
        expect([...got].sort()).toEqual([...sent].sort());
        for (const l of pushes.keys()) expect(got.filter((m) => m.startsWith(`${l}:`))).toEqual(sent.filter((m) => m.startsWith(`${l}:`)));
        expect(await outcome(pull.receive())).toBe('EAGAIN');
      }
    }
  });
});

describe('model: the Pair machine replayed on Pair peers', () => {
  const endpoint = 'inproc://model-pair';
  const attach = (peerId: Label): Ev => ({ type: 'peer.attached', peerId, endpoint, peerType: 'PAIR' });
  const eventsAt = (s: SnapshotFrom<typeof pairMachine>): Ev[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const out: Ev[] = [];
    const peer = s.context.peers.first();
    for (const l of labels) {
      // A label that is not our peer attaches (refused while paired); our peer may leave, fill, drain.
      if (peer?.id !== l) out.push(attach(l));
      else {
        out.push({ type: 'peer.detached', peerId: l });
        out.push(peer.ready ? { type: 'pipe.muted', peerId: l } : { type: 'pipe.ready', peerId: l });
      }
    }
    // Queued output only while the peer is mute (elsewhere its pipe is drained): then close lingers.
    out.push(...closeEvents(s.context.peers, 2));
    return out;
  };
  const cover = transitionCover(pairMachine, { events: eventsAt });
  const simple = simplePaths(pairMachine, { events: eventsAt }, 5);

  it('model: the traversal reaches unpaired, ready, mute, lingering and closed', () => {
    const values = new Set([...cover, ...simple].map((p) => JSON.stringify(p.state.value)));
    expect(values).toEqual(
      new Set(['{"open":"unpaired"}', '{"open":{"paired":"ready"}}', '{"open":{"paired":"mute"}}', '"lingering"', '"closed"']),
    );
  });

  it.each(named([...cover, ...simple]))('pair path: %s', async (_name, path) => {
    const context = new Context();
    const pair = track(new Pair({ context, sendHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
    await pair.bind(endpoint);
    const others = new Map<Label, Pair>();
    let n = 0;
    for (const { step, next, label, peer: other } of replaySteps(path, others)) {
      const e = step.event;
      switch (e.type) {
        case 'peer.attached':
          other?.close();
          connectPeer(others, label as Label, track(new Pair({ context, receiveHighWaterMark: 1, sendTimeout: 0, receiveTimeout: 0, linger: 0 })), endpoint);
          break;
        case 'peer.detached':
          detachPeer(others, label as Label);
          break;
        case 'pipe.muted':
          await fill(pair, other as object, () => `fill${n++}`);
          break;
        case 'pipe.ready':
          await drain(other as Pair);
          break;
        case 'close':
        case 'pipes.drained':
        case 'linger.expired':
          await replayClosing(pair, e, next, others.values());
          break;
      }
      await expectState(pair, step.state);
      if (await expectEnded(pair, step.state)) continue;
      const value = JSON.stringify(step.state.value);
      const ourPeer = step.state.context.peers.first()?.id as Label | undefined;
      expectSamePeers(pair.getSnapshot().context.peers, step.state.context.peers, (l) => peerIdOf(pair, others.get(l) as object));
      // A refused peer has no link: its sends wait, and nothing of it reaches us.
      for (const [l, o] of others) if (l !== ourPeer) expect(await outcome(o.send('stray'))).toBe('EAGAIN');
      if (value === '{"open":"unpaired"}') {
        expect(pair.writable).toBe(false);
        expect(await outcome(pair.send('x'))).toBe('EAGAIN');
        expect(await outcome(pair.receive())).toBe('EAGAIN');
        continue;
      }
      const peer = others.get(ourPeer as Label) as Pair;
      // Both directions work with our one peer.
      expect(await outcome(peer.send(`hello${n}`))).toBe('ok');
      expect(await received(pair.receive())).toEqual([`hello${n++}`]);
      expect(await outcome(pair.receive())).toBe('EAGAIN');
      if (value === '{"open":{"paired":"ready"}}') {
        expect(pair.writable).toBe(true);
        expect(await outcome(pair.send(`probe${n}`))).toBe('ok');
        expect(await received(peer.receive())).toEqual([`probe${n++}`]);
      } else {
        expect(pair.writable).toBe(false);
        expect(await outcome(pair.send('probe'))).toBe('EAGAIN');
      }
      await expectState(pair, step.state);
    }
  });
});
