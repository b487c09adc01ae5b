// Model-based tests for the Publisher, XPublisher, Subscriber and XSubscriber machines: paths from
// xstate/graph, replayed on real sockets over inproc (a fresh Context per path). After every step
// the real socket's machine must be where the model is (state value; peers, ready flags,
// subscriptions; noDrop / verbosity), and the socket must do what that state predicts: which
// subscriber receives which message, which send waits (noDrop), which subscription notices an
// XPUB hands its application, what a subscriber receives from each publisher.
//
// Bounds (every transition once: the shortest path to each state, then each event the runtime can
// produce there, one step further). Prefixes: "" (everything) and "a"; probe topics "a…" and "b…".
//   Publisher, XPublisher — 2 peer labels (Subscriber / XSubscriber sockets that connect). Events:
//     attach, detach, subscription.added (a prefix the peer does not hold), subscription.removed
//     (one it holds), close (linger 0). Publisher also: pipe.muted of label 1 (with noDrop only if
//     no mute peer would match the fill), pipe.ready, noDrop on/off, close with linger ≠ 0 while
//     a peer is mute / pipes.drained / linger.expired; label 1 subscribes to "a", label 2 to "".
//     XPublisher also: verbosity null → allSubs → allSubsUnsubs → null; both labels subscribe to
//     "a" (XPUB delivers through the same code as PUB, covered there).
//     PUB (SNDHWM 2) → SUB (RCVHWM 1): pipe capacity 3, low-water mark 2.
//   Subscriber, XSubscriber — 2 peer labels (Publisher / XPublisher sockets that bind). Events:
//     attach, detach, subscribe ("a" counted up to 2, "" up to 1), unsubscribe (also of a prefix
//     not subscribed), close. No pipe.muted: publishers read subscriptions as they come, so a
//     subscriber's pipe never fills.

import { describe, expect, it } from 'vitest';
import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import type { CloseEvent, PeerEvent, PeerTable } from '../../machines/peers.js';
import { publisherMachine } from '../../machines/publisher.js';
import type { ConfigureEvent, SubscriberTrie, SubscriptionEvent, Verbosity } from '../../machines/publisher.js';
import { countOf, subscriberMachine } from '../../machines/subscriber.js';
import type { SubscribeEvent, SubscriberConfigureEvent } from '../../machines/subscriber.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';
import type { NotifyParams } from '../../machines/xpublisher.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';
import { Context } from '../../src/socket/context.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { bindPeer, closeEvents, closedAfterEach, connectPeer, detachPeer, drain, drainOthers, effectsOf, expectEnded, expectState, fill, hex, named, outcome, peerIdOf, pipeToward, replayClosing, replaySteps, transitionCover } from './replay.js';

type Label = 1 | 2;
const labels: Label[] = [1, 2];
const PREFIXES = ['', hex('a')];
const TOPICS = ['a-probe', 'b-probe'];

const track = closedAfterEach();

/** Who holds which prefix, as the trie shows it to inspectors: prefix (hex) -> peer ids. */
type SubscriberTable = Record<string, number[]>;
const tableOf = (trie: SubscriberTrie): SubscriberTable => JSON.parse(JSON.stringify(trie)) as SubscriberTable;
const matches = (prefixHex: string, topic: string) => topic.startsWith(Buffer.from(prefixHex, 'hex').toString());
const holds = (table: SubscriberTable, prefix: string, id: number) => Object.hasOwn(table, prefix) && (table[prefix] as number[]).includes(id);
const wants = (table: SubscriberTable, id: number, topic: string) => PREFIXES.some((p) => holds(table, p, id) && matches(p, topic));
/** A subscription message: 1 (subscribe) or 0 (cancel), then the prefix. */
const subMsg = (subscribe: boolean, prefixHex: string) => Buffer.concat([Buffer.from([subscribe ? 1 : 0]), Buffer.from(prefixHex, 'hex')]);

type PubSock = Publisher | XPublisher;
type SubSock = Subscriber | XSubscriber;

/** Subscribes or cancels as each kind does: an XSUB sends the subscription message, a SUB calls the method. */
async function change(sub: SubSock, subscribe: boolean, prefixHex: string): Promise<void> {
  if (sub instanceof XSubscriber) expect(await outcome(sub.send(subMsg(subscribe, prefixHex)))).toBe('ok');
  else if (subscribe) (sub as Subscriber).subscribe(Buffer.from(prefixHex, 'hex'));
  else (sub as Subscriber).unsubscribe(Buffer.from(prefixHex, 'hex'));
}

// ---------------------------------------------------------------------------------------------
// The publishing side: PUB and XPUB.

type PubEvent = PeerEvent | CloseEvent | SubscriptionEvent | ConfigureEvent;
interface PubContext {
  peers: PeerTable;
  subscriptions: SubscriberTrie;
  whenMute: 'drop' | 'wait';
  verbosity?: Verbosity;
}
type PubSnap = { value: unknown; status: string; context: PubContext };

const nextVerbosity = (v: Verbosity | undefined): Verbosity => (v === null ? 'allSubs' : v === 'allSubs' ? 'allSubsUnsubs' : null);

/** The topic that fills label `l`'s pipe: "a…" if it holds "a", else "b…" (only "" matches). */
const fillTopic = (s: PubSnap, l: number) => (holds(tableOf(s.context.subscriptions), hex('a'), l) ? 'a-fill' : 'b-fill');

/** Which events a publisher path may take. */
interface PubAlphabet {
  xpub: boolean;
  /** The prefixes each label subscribes to and cancels. */
  prefixes: Record<Label, string[]>;
  /** Labels whose pipe the paths fill and drain. */
  mute: Label[];
  /** Whether paths toggle noDrop / cycle verbosity. */
  noDrop: boolean;
  verbosity: boolean;
}

function publisherEvents(cfg: PubAlphabet) {
  return (s: PubSnap): PubEvent[] => {
    if (s.status !== 'active') return [];
    if (s.value === 'lingering') return [{ type: 'pipes.drained' }, { type: 'linger.expired' }];
    const peers = s.context.peers.list();
    const subscriptions = tableOf(s.context.subscriptions);
    const whenMute = s.context.whenMute;
    const out: PubEvent[] = [];
    for (const l of labels) {
      const p = peers.find((x) => x.id === l);
      if (p === undefined) {
        out.push({ type: 'peer.attached', peerId: l, endpoint: 'inproc://model-pub', peerType: cfg.xpub ? 'XSUB' : 'SUB' });
        continue;
      }
      out.push({ type: 'peer.detached', peerId: l });
      for (const prefix of cfg.prefixes[l]) {
        out.push(holds(subscriptions, prefix, l) ? { type: 'subscription.removed', peerId: l, prefix } : { type: 'subscription.added', peerId: l, prefix });
      }
      if (!cfg.mute.includes(l)) continue;
      if (!p.ready) out.push({ type: 'pipe.ready', peerId: l });
      else if (PREFIXES.some((prefix) => holds(subscriptions, prefix, l))) {
        const topic = fillTopic(s, l);
        const blocked = whenMute === 'wait' && peers.some((q) => !q.ready && wants(subscriptions, q.id, topic));
        if (!blocked) out.push({ type: 'pipe.muted', peerId: l });
      }
    }
    if (cfg.noDrop) out.push({ type: 'configure', noDrop: whenMute === 'drop' });
    if (cfg.verbosity) out.push({ type: 'configure', verbosity: nextVerbosity(s.context.verbosity) });
    out.push(...closeEvents(peers, 3));
    return out;
  };
}

/** Peers in id order, so the order they attached in does not make two states. */
const pubState = (s: PubSnap) =>
  JSON.stringify([s.value, s.context.peers.list().map((p) => [p.id, p.ready]), s.context.subscriptions, s.context.whenMute, s.context.verbosity]);

async function replayPublisher(xpub: boolean, machine: AnyStateMachine, path: { steps: { event: PubEvent; state: PubSnap }[] }): Promise<void> {
  const context = new Context();
  const endpoint = 'inproc://model-pub';
  const pub: PubSock = track(xpub ? new XPublisher({ context, sendHighWaterMark: 2, sendTimeout: 0, receiveTimeout: 0, linger: 0 }) : new Publisher({ context, sendHighWaterMark: 2, sendTimeout: 0, receiveTimeout: 0, linger: 0 }));
  await pub.bind(endpoint);
  const subs = new Map<Label, SubSock>();
  const newSub = (): SubSock => track(xpub ? new XSubscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0, linger: 0 }) : new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0, linger: 0 }));
  let n = 0;
  for (const { step, before, next, label, peer: sub } of replaySteps(path, subs)) {
    const e = step.event;
    switch (e.type) {
      case 'peer.attached':
        connectPeer(subs, label as Label, newSub(), endpoint);
        break;
      case 'peer.detached':
        detachPeer(subs, label as Label);
        break;
      case 'subscription.added':
        await change(sub as SubSock, true, e.prefix);
        break;
      case 'subscription.removed':
        await change(sub as SubSock, false, e.prefix);
        break;
      case 'pipe.muted': {
        const topic = fillTopic(before, label as number);
        await fill(pub, sub as object, () => [topic, `${n++}`]);
        await drainOthers(subs, label, step.state.context.peers);
        break;
      }
      case 'pipe.ready':
        await drain(sub as SubSock);
        break;
      case 'configure':
        if (e.noDrop !== undefined) pub.noDrop = e.noDrop;
        if (e.verbosity !== undefined) (pub as XPublisher).verbosity = e.verbosity;
        break;
      case 'close':
      case 'pipes.drained':
      case 'linger.expired':
        await replayClosing(pub, e, next, subs.values());
        break;
    }
    const snap = (await expectState(pub, step.state)) as unknown as PubSnap;
    if (await expectEnded(pub, step.state)) continue;
    const model = step.state.context;
    // Peers, ready flags and the subscriber table, with runtime ids in place of labels.
    const idOf = (l: number) => peerIdOf(pub, subs.get(l as Label) as object) as number;
    expect(snap.context.peers.list().map((p) => [p.id, p.ready]).sort()).toEqual(model.peers.list().map((p) => [idOf(p.id), p.ready]).sort());
    const table: SubscriberTable = {};
    for (const [prefix, ids] of Object.entries(tableOf(model.subscriptions))) table[prefix] = ids.map(idOf).sort();
    const realTable: SubscriberTable = {};
    for (const [prefix, ids] of Object.entries(tableOf(snap.context.subscriptions))) realTable[prefix] = [...ids].sort();
    expect(realTable).toEqual(table);
    expect(snap.context.whenMute).toBe(model.whenMute);
    if (xpub) {
      expect(snap.context.verbosity).toBe(model.verbosity);
      // The XPUB application sees exactly the notices the machine asked for, in order.
      const notices = effectsOf(machine, before as never, e as never)
        .filter((a) => a.type === 'notify')
        .flatMap((a) => (a.params as NotifyParams).prefixes.map((prefix) => subMsg((a.params as NotifyParams).subscribe, prefix).toString('hex')));
      const got: string[] = [];
      while (pub.readable) got.push(((await pub.receive())[0] as Buffer).toString('hex'));
      expect(got).toEqual(notices);
      // Upstream messages from each XSUB reach the application, as sent.
      for (const [l, s] of subs) expect(await outcome(s.send(`up${l}`))).toBe('ok');
      const ups: string[] = [];
      while (pub.readable) ups.push(((await pub.receive())[0] as Buffer).toString());
      expect(ups).toEqual([...subs.keys()].map((l) => `up${l}`));
      expect(await outcome(pub.receive())).toBe('EAGAIN');
    } else {
      expect(await outcome(pub.receive())).toBe('ENOTSUP');
    }
    // Probes: with noDrop a topic a mute subscriber wants waits; otherwise it is sent, reaches
    // every ready subscriber that wants it, and is dropped for the mute ones.
    const accepted: string[] = [];
    const sizes = new Map<Label, number | undefined>([...subs].map(([l, s]) => [l, pipeToward(pub, s)?.size]));
    for (const topic of TOPICS) {
      const blocked = model.whenMute === 'wait' && model.peers.list().some((p) => !p.ready && wants(tableOf(model.subscriptions), p.id, topic));
      expect(await outcome(pub.send([topic, `${n}`]))).toBe(blocked ? 'EAGAIN' : 'ok');
      if (!blocked) accepted.push(`${topic}/${n}`);
      n++;
    }
    for (const p of model.peers) {
      const s = subs.get(p.id as Label) as SubSock;
      if (!p.ready) {
        expect(pipeToward(pub, s)?.size).toBe(sizes.get(p.id as Label));
        continue;
      }
      const got = (await drain(s)).map((m) => m.join('/'));
      expect(got).toEqual(accepted.filter((m) => wants(tableOf(model.subscriptions), p.id, m)));
    }
    await expectState(pub, step.state);
  }
}

// Two alphabets. Delivery (PUB): label 1 subscribes to "a" and can be filled, label 2 to "",
// noDrop on/off. Notices (XPUB): both labels subscribe to "a" (first subscriber, last cancel),
// verbosity cycles; XPUB delivers through the same code as PUB.
describe.each([
  ['Publisher', publisherMachine, { xpub: false, prefixes: { 1: [hex('a')], 2: [''] }, mute: [1], noDrop: true, verbosity: false }],
  ['XPublisher', xpublisherMachine, { xpub: true, prefixes: { 1: [hex('a')], 2: [hex('a')] }, mute: [], noDrop: false, verbosity: true }],
] as [string, AnyStateMachine, PubAlphabet][])('model: the %s machine replayed on subscribers', (kind, machine, cfg) => {
  const paths = transitionCover(machine, { events: publisherEvents(cfg) as never, serializeState: pubState as never });

  it('model: the traversal reaches what this alphabet can', () => {
    const values = new Set(paths.map((p) => JSON.stringify((p.state as { value: unknown }).value)));
    const want = ['{"open":"noPeers"}', '{"open":"flowing"}', '"closed"'];
    if (cfg.mute.length > 0) want.push('{"open":"congested"}', '"lingering"');
    expect(values).toEqual(new Set(want));
  });

  it.each(named(paths as { steps: { event: PubEvent; state: PubSnap }[] }[]))(`${kind.toLowerCase()} path: %s`, async (_name, path) => {
    await replayPublisher(cfg.xpub, machine, path);
  });
});

// ---------------------------------------------------------------------------------------------
// The subscribing side: SUB and XSUB.

// The machine's events; the traversal sends no `configure` (invertMatching is tested in test/socket/pub-sub.test.ts).
type SubEvent = PeerEvent | CloseEvent | SubscribeEvent | SubscriberConfigureEvent;
type SubSnap = SnapshotFrom<typeof subscriberMachine>;


function subscriberEvents(s: SubSnap): SubEvent[] {
  if (s.status !== 'active') return [];
  const out: SubEvent[] = [];
  for (const l of labels) {
    if (s.context.peers.has(l)) out.push({ type: 'peer.detached', peerId: l });
    else out.push({ type: 'peer.attached', peerId: l, endpoint: `inproc://model-sub-${l}`, peerType: 'PUB' });
  }
  for (const prefix of PREFIXES) {
    if (countOf(s.context.subscriptions, prefix) < (prefix === '' ? 1 : 2)) out.push({ type: 'subscribe', prefix });
    out.push({ type: 'unsubscribe', prefix });
  }
  out.push({ type: 'close', linger: 0, queued: 0 });
  return out;
}

async function replaySubscriber(xsub: boolean, path: { steps: { event: SubEvent; state: SubSnap }[] }): Promise<void> {
  const context = new Context();
  const sub: SubSock = track(xsub ? new XSubscriber({ context, receiveTimeout: 0, sendTimeout: 0, linger: 0 }) : new Subscriber({ context, receiveTimeout: 0, linger: 0 }));
  const pubs = new Map<Label, PubSock>();
  let n = 0;
  for (const { step, before, label } of replaySteps(path, pubs)) {
    const e = step.event;
    switch (e.type) {
      case 'peer.attached': {
        const p: PubSock = track(xsub ? new XPublisher({ context, sendTimeout: 0, receiveTimeout: 0, linger: 0 }) : new Publisher({ context, sendTimeout: 0, linger: 0 }));
        await bindPeer(sub, pubs, label as Label, p, `inproc://model-sub-${label}-${n++}`);
        break;
      }
      case 'peer.detached':
        detachPeer(pubs, label as Label);
        break;
      case 'subscribe':
      case 'unsubscribe':
        await change(sub, e.type === 'subscribe', e.prefix);
        break;
      case 'close':
        sub.close();
        break;
    }
    const snap = (await expectState(sub, step.state)) as SubSnap;
    // A subscriber never lingers: its only end is closed.
    if (await expectEnded(sub, step.state)) continue;
    const model = step.state.context;
    expect(snap.context.peers.list().map((p) => p.id).sort()).toEqual(model.peers.list().map((p) => peerIdOf(sub, pubs.get(p.id as Label) as object)).sort());
    expect(snap.context.subscriptions.toJSON()).toEqual(model.subscriptions.toJSON());
    const subscribed = PREFIXES.filter((p) => countOf(model.subscriptions, p) > 0);
    if (xsub) {
      // Each XPUB is told of a prefix when our count of it goes 0 → 1 or 1 → 0 (a new XPUB: every
      // subscribed prefix, in byte order); repeats and partial cancels stay with the XSUB.
      const had = PREFIXES.filter((p) => countOf(before.context.subscriptions, p) > 0);
      for (const [l, p] of pubs) {
        const want =
          e.type === 'peer.attached' && e.peerId === l
            ? [...subscribed].sort().map((x) => subMsg(true, x).toString('hex'))
            : [
                ...subscribed.filter((x) => !had.includes(x)).map((x) => subMsg(true, x).toString('hex')),
                ...had.filter((x) => !subscribed.includes(x)).map((x) => subMsg(false, x).toString('hex')),
              ];
        const got: string[] = [];
        while (p.readable) got.push(((await p.receive())[0] as Buffer).toString('hex'));
        expect(got, `notices at publisher ${l}`).toEqual(want);
      }
      // Anything else an XSUB sends goes upstream to every publisher.
      expect(await outcome(sub.send(`up${n}`))).toBe('ok');
      for (const p of pubs.values()) expect(((await p.receive())[0] as Buffer).toString()).toBe(`up${n}`);
      n++;
    } else {
      expect(await outcome(sub.send('x'))).toBe('ENOTSUP');
    }
    // Every publisher's probes arrive if a subscribed prefix matches them, each publisher's in order.
    const want: string[] = [];
    for (const [l, p] of pubs) {
      for (const topic of TOPICS) {
        expect(await outcome(p.send([topic, `${l}`]))).toBe('ok');
        if (subscribed.some((x) => matches(x, topic))) want.push(`${topic}/${l}`);
      }
    }
    const got = (await drain(sub)).map((m) => m.join('/'));
    expect([...got].sort()).toEqual([...want].sort());
    for (const l of pubs.keys()) expect(got.filter((m) => m.endsWith(`/${l}`))).toEqual(want.filter((m) => m.endsWith(`/${l}`)));
    expect(await outcome(sub.receive())).toBe('EAGAIN');
    await expectState(sub, step.state);
  }
}

describe.each([
  ['Subscriber', false, subscriberMachine],
  ['XSubscriber', true, xsubscriberMachine],
] as [string, boolean, typeof subscriberMachine][])('model: the %s machine replayed on publishers', (kind, xsub, machine) => {
  const paths = transitionCover(machine, { events: subscriberEvents });

  it('model: the traversal reaches noPeers, attached and closed, with "a" counted 0, 1 and 2', () => {
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(values).toEqual(new Set(['{"open":"noPeers"}', '{"open":"attached"}', '"closed"']));
    for (const c of [0, 1, 2]) expect(paths.some((p) => countOf(p.state.context.subscriptions, hex('a')) === c)).toBe(true);
    expect(paths.some((p) => countOf(p.state.context.subscriptions, '') === 1)).toBe(true);
  });

  it.each(named(paths))(`${kind.toLowerCase()} path: %s`, async (_name, path) => {
    await replaySubscriber(xsub, path);
  });
});
