// The interop matrix against real libzmq (the `zeromq` package, libzmq 4.3.5): every valid pairing
// of PROTOCOL.md §7 × which side is ours × which side binds × tcp/ipc, each exchanging real traffic
// in the pattern's natural direction(s). One table; the scenario per pairing is written once over
// "side a" and "side b", whoever implements them.

import { describe, expect, it } from 'vitest';
import * as ours from '../../src/index.js';
import {
  BIG,
  MEDIUM,
  SAMPLES,
  type Sock,
  type SocketType,
  type Transport,
  endpointFor,
  expectFrames,
  frames,
  inbox,
  open,
  PROBE,
  sendRoutable,
  summary,
  untilSubscribed,
} from './matrix-helpers.js';

type Side = 'a' | 'b';
type Opts = Record<string, unknown>;

interface Pairing {
  a: SocketType;
  b: SocketType;
  /** Options per side (routing ids, mandatory). */
  options?: { a?: Opts; b?: Opts };
  /** The traffic: `a` is the socket of type A, `b` of type B; `binder` tells which side bound. */
  run(a: Sock, b: Sock, binder: Side): Promise<void>;
}

// ---- scenarios ----

/** A reply distinct from the request it answers: the frames in reverse order. */
const answer = (m: Buffer[]): Buffer[] => [...m].reverse();
const SUB = Buffer.from([1]);
const CANCEL = Buffer.from([0]);
const TOPIC = 'keep';
const sub = (topic: string) => Buffer.concat([SUB, Buffer.from(topic)]);
const cancel = (topic: string) => Buffer.concat([CANCEL, Buffer.from(topic)]);

/** One way, every sample: multipart with empty frames, 300 bytes, 1 MiB. */
async function stream(from: Sock, to: Sock): Promise<void> {
  for (const m of SAMPLES) await from.send(m);
  for (const m of SAMPLES) expectFrames(await to.receive(), m);
}

//   REQ ──[request]──▶ REP ──[reverse]──▶ REQ, for each sample
async function reqRep(req: Sock, rep: Sock): Promise<void> {
  for (const m of SAMPLES) {
    await req.send(m);
    expectFrames(await rep.receive(), m);
    await rep.send(answer(m));
    expectFrames(await req.receive(), answer(m));
  }
}

//   REQ("alice") ──[request]──▶ ROUTER sees [alice, "", ...]; ROUTER ──[alice, "", reply]──▶ REQ
async function reqRouter(req: Sock, router: Sock): Promise<void> {
  for (const m of SAMPLES) {
    await req.send(m);
    expectFrames(await router.receive(), [frames('alice', ''), m].flat());
    await router.send([frames('alice', ''), answer(m)].flat());
    expectFrames(await req.receive(), answer(m));
  }
}

//   DEALER ──["", request]──▶ REP ──[reply]──▶ DEALER gets ["", reply]; a deeper envelope
//   (hop frames before the delimiter) comes back whole.
async function repDealer(rep: Sock, dealer: Sock): Promise<void> {
  for (const m of SAMPLES) {
    await dealer.send([frames(''), m].flat());
    expectFrames(await rep.receive(), m);
    await rep.send(answer(m));
    expectFrames(await dealer.receive(), [frames(''), answer(m)].flat());
  }
  await dealer.send(frames('hop-1', 'hop-2', '', 'deep'));
  expectFrames(await rep.receive(), frames('deep'));
  await rep.send(frames('back', ''));
  expectFrames(await dealer.receive(), frames('hop-1', 'hop-2', '', 'back', ''));
}

async function bothWays(a: Sock, b: Sock): Promise<void> {
  await stream(a, b);
  await stream(b, a);
}

//   ROUTER(mandatory) ──[alice, ...]──▶ DEALER("alice") first (ids are learnt at the handshake,
//   so EHOSTUNREACH until then), then DEALER ──▶ ROUTER sees [alice, ...] for each sample.
async function dealerRouter(dealer: Sock, router: Sock): Promise<void> {
  await sendRoutable(router, [frames('alice'), SAMPLES[0]].flat());
  expectFrames(await dealer.receive(), SAMPLES[0]);
  for (const m of SAMPLES) {
    await dealer.send(m);
    expectFrames(await router.receive(), [frames('alice'), m].flat());
    await router.send([frames('alice'), answer(m)].flat());
    expectFrames(await dealer.receive(), answer(m));
  }
}

//   a = ROUTER("alice"), b = ROUTER("bob"), both mandatory. The connecter addresses the binder by
//   its id first (retrying EHOSTUNREACH until the handshake is done); then each answers the other.
async function routerRouter(a: Sock, b: Sock, binder: Side): Promise<void> {
  const [connecter, cid, bound, bid] = binder === 'a' ? [b, 'bob', a, 'alice'] : [a, 'alice', b, 'bob'];
  await sendRoutable(connecter, [frames(bid), SAMPLES[0]].flat());
  expectFrames(await bound.receive(), [frames(cid), SAMPLES[0]].flat());
  for (const m of SAMPLES) {
    await bound.send([frames(cid), m].flat());
    expectFrames(await connecter.receive(), [frames(bid), m].flat());
    await connecter.send([frames(bid), answer(m)].flat());
    expectFrames(await bound.receive(), [frames(cid), answer(m)].flat());
  }
}

/** What the publisher sends once the subscription to "keep" is in effect; only MATCHING may arrive. */
const PUBLISHED: Buffer[][] = [
  frames('kee', 'prefix of the topic: no match'),
  [Buffer.from(TOPIC), Buffer.alloc(0), MEDIUM, Buffer.alloc(0)],
  frames('drop', 'x'),
  frames(''),
  frames('keeper', 'longer than the topic: a match', ''),
  frames('Keep', 'case differs: no match'),
  [Buffer.from(TOPIC), BIG],
];
const MATCHING = PUBLISHED.filter((m) => m[0].subarray(0, TOPIC.length).equals(Buffer.from(TOPIC)));
const END = frames('keep.end');

/**
 * PUB/XPUB → SUB/XSUB. The subscriber subscribes to "keep" (SUB by the option, XSUB by sending
 * 0x01 "keep"). An XPUB shows the subscription to its application, which is how we know it took
 * effect; a PUB does not, so a probe is published until one arrives. Then the published mix goes
 * out and only its matching messages must come in, in order. XPUB also sees the XSUB's upstream
 * messages and the cancel.
 */
async function pubSub(pub: Sock, subscriber: Sock, pubType: SocketType, subType: SocketType): Promise<void> {
  const box = inbox(subscriber, END[0]);
  if (subType === 'SUB') subscriber.subscribe!(TOPIC);
  else await subscriber.send(sub(TOPIC));
  if (pubType === 'XPUB') expectFrames(await pub.receive(), [sub(TOPIC)]);
  else await untilSubscribed(pub, box);

  for (const m of PUBLISHED) await pub.send(m);
  await pub.send(END);
  await box.done;
  const got = box.messages.filter((m) => !m[0].equals(PROBE));
  expect(got.map(summary)).toEqual(MATCHING.map(summary));

  if (pubType !== 'XPUB') return;
  if (subType === 'XSUB') {
    // Not a subscription (first byte neither 0 nor 1): goes upstream to the XPUB's application.
    await subscriber.send(frames('up', '', 'stream'));
    expectFrames(await pub.receive(), frames('up', '', 'stream'));
    await subscriber.send(cancel(TOPIC));
  } else {
    subscriber.unsubscribe!(TOPIC);
  }
  expectFrames(await pub.receive(), [cancel(TOPIC)]);
}

// ---- the table ----

const PAIRINGS: Pairing[] = [
  { a: 'REQ', b: 'REP', run: reqRep },
  { a: 'REQ', b: 'ROUTER', options: { a: { routingId: 'alice' } }, run: reqRouter },
  { a: 'REP', b: 'DEALER', run: repDealer },
  { a: 'DEALER', b: 'DEALER', run: bothWays },
  { a: 'DEALER', b: 'ROUTER', options: { a: { routingId: 'alice' }, b: { mandatory: true } }, run: dealerRouter },
  {
    a: 'ROUTER',
    b: 'ROUTER',
    options: { a: { routingId: 'alice', mandatory: true }, b: { routingId: 'bob', mandatory: true } },
    run: routerRouter,
  },
  { a: 'PUB', b: 'SUB', run: (a, b) => pubSub(a, b, 'PUB', 'SUB') },
  { a: 'PUB', b: 'XSUB', run: (a, b) => pubSub(a, b, 'PUB', 'XSUB') },
  { a: 'XPUB', b: 'SUB', run: (a, b) => pubSub(a, b, 'XPUB', 'SUB') },
  { a: 'XPUB', b: 'XSUB', run: (a, b) => pubSub(a, b, 'XPUB', 'XSUB') },
  { a: 'PUSH', b: 'PULL', run: stream },
  { a: 'PAIR', b: 'PAIR', run: bothWays },
];

interface Case {
  name: string;
  pairing: Pairing;
  ours: Side;
  binder: Side;
  transport: Transport;
}

/**
 * The product: ours ∈ {a, b} × binder ∈ {a, b} × {tcp, ipc}. For a pairing of one type with itself
 * (DEALER, ROUTER, PAIR) "ours is b" repeats "ours is a" with the roles renamed, so it is left out.
 */
function casesOf(p: Pairing): Case[] {
  const out: Case[] = [];
  for (const oursSide of p.a === p.b ? (['a'] as const) : (['a', 'b'] as const)) {
    for (const binder of ['a', 'b'] as const) {
      for (const transport of ['tcp', 'ipc'] as const) {
        const role = (s: Side) => `${s === 'a' ? p.a : p.b}(${s === oursSide ? 'ours' : 'libzmq'}, ${s === binder ? 'binds' : 'connects'})`;
        out.push({ name: `${role('a')} ↔ ${role('b')} over ${transport}`, pairing: p, ours: oursSide, binder, transport });
      }
    }
  }
  return out;
}

describe.each(PAIRINGS.map((p) => [`${p.a} ↔ ${p.b}`, p] as const))('interop matrix: %s', (_label, pairing) => {
  it.each(casesOf(pairing).map((c) => [c.name, c] as const))('%s', async (_name, { pairing: p, ours: oursSide, binder, transport }) => {
    const context = new ours.Context();
    const make = (s: Side) => open(s === oursSide ? 'ours' : 'libzmq', s === 'a' ? p.a : p.b, p.options?.[s] ?? {}, context);
    const a = make('a');
    const b = make('b');
    const [bound, connecting] = binder === 'a' ? [a, b] : [b, a];
    await bound.bind(endpointFor(transport));
    connecting.connect(bound.lastEndpoint!);
    await p.run(a, b, binder);
  });
});

// The table is what it says: 9 asymmetric pairings × 8 + 3 symmetric × 4.
it('interop matrix: the table has every valid pairing, each way round, each binder, each transport', () => {
  expect(PAIRINGS.flatMap(casesOf)).toHaveLength(84);
});
