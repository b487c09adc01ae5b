// Property: random sequences of connect, send, receive and close over every valid pairing never
// lose, reorder (per pipe) or duplicate an accepted message, apart from the drops the rules name.
//
// One socket binds; up to three of the other type connect (inproc, a fresh Context per run, HWM 1-3
// on every socket, sendTimeout and receiveTimeout 0, linger -1 so a closed sender's queued
// messages still leave). Each message carries a sequence number. Where an accepted message went is
// read off the sender's pipes (which grew by one), and checked against the rules:
//   PUSH, DEALER, REQ, PAIR — exactly one pipe (a send that waits: no pipe had room);
//   PUB, XPUB — every subscriber whose subscription matches and whose pipe had room, no other
//     (PUB to a full subscriber: dropped for it);
//   ROUTER — the peer its first frame names if that peer is there with room; otherwise dropped
//     (mandatory: EHOSTUNREACH / EAGAIN instead, and nothing is queued);
//   REP — the requester if it is still there with room (a reply to a vanished peer: dropped);
//   XSUB (upstream) — every publisher with room.
// Every receive must yield a message that went to that receiver, once, after the earlier ones on
// the same pipe; a REQ must only ever yield the reply to its current request. At the end every
// open socket is drained, and every message that went to a receiver still open must have been
// received, except replies a REQ discards as stale (to an older request, or a second reply).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';

type Kind = 'PUSH' | 'PULL' | 'PAIR' | 'DEALER' | 'ROUTER' | 'REQ' | 'REP' | 'PUB' | 'SUB' | 'XPUB' | 'XSUB';

const pairings: { name: string; binder: Kind; connector: Kind }[] = [
  { name: 'REQ/REP', binder: 'REP', connector: 'REQ' },
  { name: 'REQ/ROUTER', binder: 'ROUTER', connector: 'REQ' },
  { name: 'DEALER/REP', binder: 'REP', connector: 'DEALER' },
  { name: 'DEALER/DEALER', binder: 'DEALER', connector: 'DEALER' },
  { name: 'DEALER/ROUTER', binder: 'ROUTER', connector: 'DEALER' },
  { name: 'ROUTER/ROUTER', binder: 'ROUTER', connector: 'ROUTER' },
  { name: 'PUB/SUB', binder: 'PUB', connector: 'SUB' },
  { name: 'XPUB/XSUB', binder: 'XPUB', connector: 'XSUB' },
  { name: 'PAIR/PAIR', binder: 'PAIR', connector: 'PAIR' },
  { name: 'PUSH/PULL', binder: 'PULL', connector: 'PUSH' },
];

type Op =
  | { kind: 'connect'; pick: number }
  | { kind: 'send'; who: number; pick: number }
  | { kind: 'receive'; who: number }
  | { kind: 'close'; who: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.nat(7).map((pick) => ({ kind: 'connect' as const, pick })) },
  { weight: 6, arbitrary: fc.record({ who: fc.nat(3), pick: fc.nat(7) }).map((r) => ({ kind: 'send' as const, ...r })) },
  { weight: 5, arbitrary: fc.nat(3).map((who) => ({ kind: 'receive' as const, who })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((who) => ({ kind: 'close' as const, who })) },
);

interface Node {
  name: string;
  kind: Kind;
  sock: Socket;
  open: boolean;
  routingId: string;
  /** SUB / XSUB: the prefix subscribed to. */
  prefix?: string;
  /** REQ: a request is out (`current`, its sequence number); replies already taken. */
  awaiting: boolean;
  current: number | null;
  answered: Set<number>;
  /** REP: the request being answered and who asked. */
  replying: boolean;
  question?: number;
  requester?: Node | undefined;
  /** ROUTER facing REQs: requests received (routing id, sequence number), to answer. */
  pending: { id: Buffer; q: number }[];
}

interface Sent {
  seq: number;
  sender: Node;
  dests: Set<Node>;
  /** A reply: the request it answers. */
  answers?: number | undefined;
  received: Set<Node>;
}

interface PipeView {
  reader: unknown;
  size: number;
  writable: boolean;
}

/** Each socket by the peer host its pipes name as their reader (the runtime's own view). */
const socketOfHost = new WeakMap<object, Socket>();

/** The sender's outgoing pipes: reader socket → size and room (the runtime's own view). */
function outPipes(sock: Socket): Map<unknown, PipeView> {
  const peers = (sock as unknown as { peers: Map<number, { out: PipeView & { reader: object } }> }).peers;
  const out = new Map<unknown, PipeView>();
  for (const p of peers.values()) {
    const reader = socketOfHost.get(p.out.reader) ?? p.out.reader;
    out.set(reader, { reader, size: p.out.size, writable: p.out.writable });
  }
  return out;
}

function make(kind: Kind, context: Context, hwm: number, extra: Record<string, unknown>): Socket {
  const sock = makeSocket(kind, context, hwm, extra);
  socketOfHost.set((sock as unknown as { host: object }).host, sock);
  return sock;
}

function makeSocket(kind: Kind, context: Context, hwm: number, extra: Record<string, unknown>): Socket {
  const o = { context, sendHighWaterMark: hwm, receiveHighWaterMark: hwm, sendTimeout: 0, receiveTimeout: 0, ...extra };
  switch (kind) {
    case 'PUSH': return new Push(o);
    case 'PULL': return new Pull(o);
    case 'PAIR': return new Pair(o);
    case 'DEALER': return new Dealer(o);
    case 'ROUTER': return new Router(o);
    case 'REQ': return new Request(o);
    case 'REP': return new Reply(o);
    case 'PUB': return new Publisher(o);
    case 'SUB': return new Subscriber(o);
    case 'XPUB': return new XPublisher(o);
    case 'XSUB': return new XSubscriber(o);
  }
}

const canReceive = (k: Kind) => k !== 'PUSH' && k !== 'PUB';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function run(pairing: (typeof pairings)[number], ops: Op[], hwm: number, mandatory: boolean): Promise<void> {
  const context = new Context();
  const endpoint = 'inproc://pairing';
  const nodes = new Map<unknown, Node>();
  const node = (name: string, kind: Kind, sock: Socket, routingId: string): Node => {
    const n: Node = { name, kind, sock, open: true, routingId, awaiting: false, current: null, answered: new Set(), replying: false, pending: [] };
    nodes.set(sock, n);
    return n;
  };
  const binder = node('B', pairing.binder, make(pairing.binder, context, hwm, { routingId: 'hub', ...(pairing.binder === 'ROUTER' ? { mandatory } : {}) }), 'hub');
  await binder.sock.bind(endpoint);
  const connectors: Node[] = [];
  const sent = new Map<number, Sent>();
  const lastOnPipe = new Map<string, number>();
  let seq = 0;

  const take = (to: Node, frames: Buffer[]) => {
    const body = (frames[frames.length - 1] as Buffer).toString();
    // What is not a message of ours: XPUB's subscription notices, the drain's untracked replies.
    if (to.kind === 'XPUB' && frames.length === 1 && (frames[0]?.[0] === 0 || frames[0]?.[0] === 1)) return;
    if (body.startsWith('final')) {
      if (to.kind === 'REQ') {
        to.awaiting = false;
        to.answered.add(to.current as number);
      }
      return;
    }
    const s = sent.get(Number(body.slice(1)));
    expect(s, `${to.name} received ${body}, never accepted`).toBeDefined();
    const rec = s as Sent;
    expect(rec.dests.has(to), `${body} reached ${to.name}, not where it was queued`).toBe(true);
    expect(rec.received.has(to), `${body} twice at ${to.name}`).toBe(false);
    rec.received.add(to);
    const pipe = `${rec.sender.name}>${to.name}`;
    expect(rec.seq, `order on ${pipe}`).toBeGreaterThan(lastOnPipe.get(pipe) ?? -1);
    lastOnPipe.set(pipe, rec.seq);
    // Envelopes and turns.
    if (to.kind === 'ROUTER') {
      expect(frames[0]?.toString()).toBe(rec.sender.routingId);
      if (rec.sender.kind === 'REQ') to.pending.push({ id: frames[0] as Buffer, q: rec.seq });
    }
    if (to.kind === 'REP') {
      to.replying = true;
      to.question = rec.seq;
      to.requester = rec.sender;
    }
    if (to.kind === 'REQ') {
      expect(rec.answers, `${to.name} took a reply to ${String(rec.answers)} while asking ${String(to.current)}`).toBe(to.current);
      to.awaiting = false;
      to.answered.add(rec.seq);
      to.answered.add(rec.answers as number);
    }
  };

  const receive = async (n: Node): Promise<boolean> => {
    if (!n.open || !canReceive(n.kind)) return false;
    if (n.kind === 'REP' && n.replying) return false;
    if (n.kind === 'REQ' && !n.awaiting) return false;
    try {
      take(n, await n.sock.receive());
      return true;
    } catch (e) {
      expect((e as { code?: string }).code).toBe('EAGAIN');
      return false;
    }
  };

  const send = async (n: Node, pick: number) => {
    if (!n.open) return;
    const body = `m${seq}`;
    let frames: (string | Buffer)[];
    let answers: number | undefined;
    let target: unknown; // ROUTER: the socket its id names
    let targetId = '';
    switch (n.kind) {
      case 'PULL':
      case 'SUB':
        return;
      case 'PUSH':
      case 'PAIR':
      case 'XSUB':
        frames = [body];
        break;
      case 'DEALER':
        frames = pairing.binder === 'REP' ? ['', body] : [body];
        break;
      case 'REQ':
        if (n.awaiting) return;
        frames = [body];
        break;
      case 'REP':
        if (!n.replying) return;
        frames = [body];
        answers = n.question;
        break;
      case 'PUB':
      case 'XPUB':
        frames = [pick % 2 === 0 ? 'a' : 'b', body];
        break;
      case 'ROUTER': {
        if (pairing.connector === 'REQ') {
          const q = n.pending[pick % Math.max(1, n.pending.length)];
          if (q === undefined) return;
          targetId = q.id.toString();
          frames = [q.id, '', body];
          answers = q.q;
        } else {
          const ids = n === binder ? [...connectors.map((c) => c.routingId), 'nobody'] : ['hub', 'nobody'];
          targetId = ids[pick % ids.length] as string;
          frames = [targetId, body];
        }
        target = [...nodes.values()].find((x) => x.routingId === targetId && x.open)?.sock;
        break;
      }
    }
    const before = outPipes(n.sock);
    const result = await code(n.sock.send(frames));
    const after = outPipes(n.sock);
    const grew = new Set<Node>();
    for (const [reader, view] of after) {
      const d = view.size - (before.get(reader)?.size ?? 0);
      if (d > 0) {
        expect(d, `one send queued ${d} copies`).toBe(1);
        grew.add(nodes.get(reader) as Node);
      }
    }
    const room = (reader: unknown) => before.get(reader)?.writable === true;
    // An XPUB reads what XSUBs send up as soon as it arrives (subscriptions must apply at once), so
    // those pipes never grow: where an upstream message went is checked at the receiving end.
    if (n.kind === 'XSUB') for (const [reader] of before) if (room(reader)) grew.add(nodes.get(reader) as Node);
    // Where it had to go, by the sender's rules.
    let expected: Set<Node> | 'one';
    let expectedCode = 'ok';
    switch (n.kind) {
      case 'PUB':
      case 'XPUB': {
        expected = new Set();
        for (const [reader] of before) {
          const c = nodes.get(reader) as Node;
          if (room(reader) && c.prefix !== undefined && String(frames[0]).startsWith(c.prefix)) expected.add(c);
        }
        break;
      }
      case 'XSUB':
        expected = new Set([...before.keys()].filter(room).map((r) => nodes.get(r) as Node));
        break;
      case 'ROUTER': {
        const known = target !== undefined && before.has(target);
        const mandatoryHere = n === binder && mandatory;
        expected = known && room(target) ? new Set([nodes.get(target) as Node]) : new Set();
        if (mandatoryHere) expectedCode = !known ? 'EHOSTUNREACH' : room(target) ? 'ok' : 'EAGAIN';
        break;
      }
      case 'REP': {
        const r = n.requester?.sock;
        expected = r !== undefined && before.has(r) && room(r) ? new Set([n.requester as Node]) : new Set();
        n.replying = false;
        break;
      }
      default:
        // Round-robin: one pipe with room takes it; none with room: the send waits (EAGAIN).
        expected = 'one';
        expectedCode = [...before.values()].some((v) => v.writable) ? 'ok' : 'EAGAIN';
    }
    expect(result, `${n.name} send ${body}`).toBe(expectedCode);
    if (result !== 'ok') {
      expect(grew.size).toBe(0);
      return;
    }
    if (expected === 'one') expect(grew.size, `${n.name} queued ${body} on ${grew.size} pipes`).toBe(1);
    else expect([...grew].map((x) => x.name).sort()).toEqual([...expected].map((x) => x.name).sort());
    sent.set(seq, { seq, sender: n, dests: grew, answers, received: new Set() });
    if (n.kind === 'REQ') {
      n.awaiting = true;
      n.current = seq;
    }
    seq++;
  };

  const at = (who: number) => (who === 0 ? binder : connectors[who - 1]);
  for (const o of ops) {
    if (o.kind === 'connect') {
      if (connectors.length >= 3) continue;
      const id = `c${connectors.length + 1}`;
      const c = node(id, pairing.connector, make(pairing.connector, context, hwm, { routingId: id }), id);
      c.sock.connect(endpoint);
      if (c.kind === 'SUB' || c.kind === 'XSUB') {
        c.prefix = o.pick % 2 === 0 ? '' : 'a';
        if (c.sock instanceof XSubscriber) expect(await code(c.sock.send(Buffer.from(`\x01${c.prefix}`)))).toBe('ok');
        else (c.sock as Subscriber).subscribe(c.prefix);
      }
      connectors.push(c);
    } else if (o.kind === 'send') {
      const n = at(o.who);
      if (n !== undefined) await send(n, o.pick);
    } else if (o.kind === 'receive') {
      const n = at(o.who);
      if (n !== undefined) await receive(n);
    } else {
      const n = connectors[o.who - 1];
      if (n !== undefined && n.open) {
        n.open = false;
        n.sock.close();
      }
    }
    await new Promise((r) => setTimeout(r, 0));
  }

  // Drain every open receiver (a REP answers what it took, untracked, to take the next).
  for (let round = 0, progress = true; progress && round < 50; round++) {
    progress = false;
    for (const n of [binder, ...connectors]) {
      if (!n.open) continue;
      if (n.kind === 'REP' && n.replying) {
        expect(await code(n.sock.send('final'))).toBe('ok');
        n.replying = false;
      }
      while (await receive(n)) progress = true;
    }
    await new Promise((r) => setTimeout(r, 0));
  }

  for (const s of sent.values()) {
    for (const d of s.dests) {
      if (!d.open || s.received.has(d)) continue;
      // A REQ discards replies that are not to its current request, and a second reply to it.
      if (d.kind === 'REQ' && (s.answers !== d.current || d.answered.has(d.current as number))) continue;
      expect.fail(`${pairing.name}: m${s.seq} from ${s.sender.name} was queued to ${d.name} (still open) and never received`);
    }
  }
  for (const c of connectors) c.sock.close();
  binder.sock.close();
}

describe('property: random pairings never lose, reorder or duplicate an accepted message', () => {
  it.each(pairings.map((p) => [p.name, p] as const))('property: %s', async (_name, pairing) => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (ops, hwm, mandatory) =>
        run(pairing, ops, hwm, mandatory),
      ),
      { numRuns: 100 },
    );
  });
});
