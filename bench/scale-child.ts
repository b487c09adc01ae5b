// A scale benchmark's child process: many sockets of one implementation, driven by JSON-line
// commands from scale.ts (the same protocol as child.ts, see lib/child.ts), so the parent can time
// each phase, stop a measurement that runs past its cap and kill a process whose loop is blocked.
// Run with --expose-gc: `heap` forces a collection before it reads the heap.
//
//   node --expose-gc --import tsx bench/scale-child.ts --impl ours|zeromq --role R
//        [--bind inproc://x | tcp://127.0.0.1:*] [--connect ep] [--hwm N] [--backlog N]
//
// Roles (a role named for a transport-free half runs alone over tcp; `*-inproc` runs both halves):
//   router       a bound ROUTER. expect {count} -> armed, then done {t} once it has received count messages
//   dealers      DEALERs connecting. attach {count} -> attached {t0, t}: count new DEALERs, each sends
//                one message; release -> released (closes them)
//   xpub         a bound XPublisher. expect {count} -> armed, then done {t, first, maxGapMs} once it has
//                received count subscriptions (failed if none comes for 5 s); publish {count, prefix}
//                -> published (one message per topic)
//   subscribers  Subscribers connecting. open {count, handshake} -> opened (after each one's handshake
//                event if asked); warm {count, prefix} -> warmed: a Subscriber of its own subscribes
//                count topics, unwarm -> unwarmed closes it; subscribe {count, prefix, spread} ->
//                subscribed {t0, callsMs}: the first Subscriber takes all topics, or each one its
//                own (spread); check {count, spread, timeoutMs} -> check-armed, then checked {received}
//   pairs        create {count} -> created {seconds}: connected inproc PAIR pairs, one message through
//                each; close -> closed {seconds}
//   churn        cycles {count} -> cycled {seconds}: a REQ connects to a bound REP, one round trip, closes
//   linger       drain {count} -> drained {seconds}: count DEALERs on a bound ROUTER, one message queued
//                for each, the ROUTER closed (linger -1), then every DEALER reads its message; seconds
//                from the close to the last read
//   unbind       unbind {count} -> unbound {seconds}: one ROUTER binds count inproc names, a DEALER
//                connects to each; seconds to unbind every name (each unbind ends its connection)
// Any role: heap -> heap {heapUsed, rss, heapLimit} after a forced GC. Times `t`, `t0`, `first`
// are epoch ms (performance.timeOrigin + now), comparable across the processes of one machine.
// A step that runs out of a resource (zeromq.js's socket limit) reports failed {at, message, code}.

import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { loadImpl, make } from './lib/impl.js';
import type { BenchSocket, Impl, ImplName } from './lib/impl.js';
import { emit, runChild, serveCommands } from './lib/child-io.js';

type SubscriberSocket = BenchSocket & { subscribe(...prefixes: string[]): void };
/** Monitor events, as both implementations have them (zeromq.js's Observer, our SocketEvents). */
type Observed = BenchSocket & { events: { on(type: string, listener: () => void): unknown; close(): void } };

type Handler = (c: Record<string, unknown>) => Promise<void>;


/** Epoch ms with sub-ms resolution: the same clock in every process of this machine. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A run of the event loop: what close() or a detach left for the next turns has been done. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setImmediate(resolve));
}

const gc = (globalThis as { gc?: () => void }).gc;

async function heap(): Promise<void> {
  if (gc === undefined) throw new Error('scale-child needs node --expose-gc');
  await settle();
  gc();
  await settle();
  gc();
  const m = process.memoryUsage();
  emit('heap', { heapUsed: m.heapUsed, rss: m.rss, heapLimit: getHeapStatistics().heap_size_limit });
}

/** Reports a step that ran out of something (a socket or file limit) at item `at`. */
function failed(at: number, e: unknown): void {
  const err = e as { message?: unknown; code?: unknown };
  emit('failed', { at, message: String(err?.message ?? e), code: err?.code });
}

/** Resolves on the socket's first `handshake` event (a tcp connection ready for messages). */
function handshaken(s: BenchSocket): Promise<void> {
  const events = (s as Observed).events;
  return new Promise((resolve) => {
    events.on('handshake', () => {
      events.close();
      resolve();
    });
  });
}

/** Topic `i` under `prefix`, fixed width so that no topic is a prefix of another. */
function topic(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(7, '0')}`;
}

const payload = Buffer.from('scale');
const QUIET_MS = 5_000;

/**
 * The event loop's longest gap between two turns of a 1 ms timer, up to stop(): a block that
 * lasts until stop() counts too (monitorEventLoopDelay records nothing for a loop blocked from
 * its start to its end).
 */
function gapProbe(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    if (t - last > max) max = t - last;
    last = t;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, performance.now() - last);
    },
  };
}

/**
 * Set by an XPublisher that expects subscriptions, for Subscribers in the same process (inproc) to
 * call once their subscribe() loop has returned: from then on the publisher's loop is watched alone.
 */
let callsReturned: (() => void) | undefined;

/** The bound ROUTER: counts messages, one per DEALER. */
async function routerHalf(impl: Impl, address: string, backlog?: number): Promise<{ endpoint: string | null; handlers: Record<string, Handler> }> {
  const router = make(impl, 'Router', backlog === undefined ? {} : { backlog });
  await router.bind(address);
  return {
    endpoint: router.lastEndpoint,
    handlers: {
      async expect({ count }) {
        emit('armed');
        void (async () => {
          for (let i = 0; i < (count as number); i++) await router.receive();
          emit('done', { t: now() });
        })().catch((e) => failed(0, e));
      },
    },
  };
}

/** DEALERs connecting to `endpoint`, each sending one message once created. */
function dealersHalf(impl: Impl, endpoint: string): Record<string, Handler> {
  let dealers: BenchSocket[] = [];
  return {
    async attach({ count }) {
      const t0 = now();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < (count as number); i++) {
        let d: BenchSocket;
        try {
          d = make(impl, 'Dealer');
          dealers.push(d);
          d.connect(endpoint);
        } catch (e) {
          failed(i, e);
          return;
        }
        sends.push(d.send(payload));
      }
      try {
        await Promise.all(sends);
      } catch (e) {
        failed(count as number, e);
        return;
      }
      emit('attached', { t0, t: now() });
    },
    async release() {
      for (const d of dealers) d.close();
      dealers = [];
      await settle();
      emit('released');
    },
  };
}

/**
 * The bound XPublisher: counts the subscriptions it receives (libzmq's PUB is an XPUB that hides
 * them, `pub.cpp`; ours shares one base), watching its event loop's longest gap meanwhile.
 */
async function xpubHalf(impl: Impl, address: string, hwm: number | undefined, backlog?: number): Promise<{ endpoint: string | null; handlers: Record<string, Handler> }> {
  const xpub = make(impl, 'XPublisher', {
    ...(hwm === undefined ? {} : { sendHighWaterMark: hwm, receiveHighWaterMark: hwm }),
    ...(backlog === undefined ? {} : { backlog }),
  });
  await xpub.bind(address);
  return {
    endpoint: xpub.lastEndpoint,
    handlers: {
      async expect({ count }) {
        const n = count as number;
        const loop = gapProbe();
        let alone: { stop(): number } | undefined;
        callsReturned = () => (alone = gapProbe());
        let i = 0;
        let last = performance.now();
        let tick = last;
        // A subscription lost on the way (dropped past a high-water mark) would leave this waiting
        // for ever: report how many came once none has come for a while. A while of a free loop:
        // one blocked by this process's own work (opening 100,000 subscribers) is no silence.
        const quiet = setInterval(() => {
          const t = performance.now();
          if (t - tick > 500) last = t;
          tick = t;
          if (t - last < QUIET_MS) return;
          clearInterval(quiet);
          failed(i, new Error(`only ${i} of ${n} subscriptions arrived (none for ${QUIET_MS / 1000} s)`));
        }, 100);
        emit('armed');
        void (async () => {
          let first = 0;
          while (i < n) {
            const [sub] = await xpub.receive();
            last = performance.now();
            if (sub === undefined || sub[0] !== 1) continue; // a cancel or data: not a subscription
            if (i++ === 0) first = now();
          }
          const t = now();
          clearInterval(quiet);
          callsReturned = undefined;
          emit('done', { t, first, maxGapMs: loop.stop(), ...(alone === undefined ? {} : { maxGapAfterCallsMs: alone.stop() }) });
        })().catch((e) => failed(i, e));
      },
      async publish({ count, prefix }) {
        for (let i = 0; i < (count as number); i++) await xpub.send([topic(prefix as string, i), 'check']);
        emit('published');
      },
    },
  };
}

/** Subscribers connecting to `endpoint`: one takes all the topics, or each takes one (`spread`). */
function subscribersHalf(impl: Impl, endpoint: string, hwm: number | undefined): Record<string, Handler> {
  const subs: SubscriberSocket[] = [];
  let warmer: SubscriberSocket | undefined;
  const owner = (i: number, spread: unknown) => subs[spread === true ? i : 0] as SubscriberSocket;
  // A Subscriber drops subscriptions past its sendHighWaterMark (libzmq `dist.cpp`; ours too), so
  // it is set above N where it can be: zeromq.js has no sendHighWaterMark on a Subscriber. Over
  // inproc libzmq adds the XPublisher's receiveHighWaterMark to it (`pipe.cpp`), set above N too.
  const options = hwm === undefined ? {} : impl.name === 'ours' ? { sendHighWaterMark: hwm, receiveHighWaterMark: hwm } : { receiveHighWaterMark: hwm };
  const subscriber = () => make(impl, 'Subscriber', options) as SubscriberSocket;
  return {
    async open({ count, handshake }) {
      const up: Promise<unknown>[] = [];
      for (let i = 0; i < (count as number); i++) {
        try {
          const s = subscriber();
          subs.push(s);
          if (handshake === true) up.push(handshaken(s));
          s.connect(endpoint);
        } catch (e) {
          failed(i, e);
          return;
        }
      }
      await Promise.all(up);
      emit('opened');
    },
    // A Subscriber of its own warms both sides up and goes: the measured one starts with an empty
    // pipe (libzmq counts a subscription against the Subscriber's send high-water mark until the
    // publisher's side acknowledges a batch of them, `pipe.cpp`).
    async warm({ count, prefix }) {
      warmer = subscriber();
      warmer.connect(endpoint);
      for (let i = 0; i < (count as number); i++) warmer.subscribe(topic(prefix as string, i));
      emit('warmed');
    },
    async unwarm() {
      warmer?.close();
      warmer = undefined;
      await settle();
      emit('unwarmed');
    },
    async subscribe({ count, prefix, spread }) {
      const t0 = now();
      for (let i = 0; i < (count as number); i++) owner(i, spread).subscribe(topic(prefix as string, i));
      const callsMs = now() - t0;
      callsReturned?.();
      emit('subscribed', { t0, callsMs });
    },
    async check({ count, spread, timeoutMs }) {
      let received = 0;
      const n = count as number;
      const all = spread === true
        ? subs.slice(0, n).map(async (s) => {
          await s.receive();
          received++;
        })
        : [(async () => {
          const s = subs[0] as SubscriberSocket;
          for (let i = 0; i < n; i++) {
            await s.receive();
            received++;
          }
        })()];
      emit('check-armed');
      // In the background: over inproc the publisher's `publish` comes through the same command loop.
      let timer: ReturnType<typeof setTimeout> | undefined;
      void Promise.race([
        Promise.all(all),
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs as number))),
      ]).then(() => {
        clearTimeout(timer);
        emit('checked', { received });
      });
    },
  };
}

function pairsRole(impl: Impl): Record<string, Handler> {
  let sockets: BenchSocket[] = [];
  let seq = 0;
  return {
    async create({ count }) {
      const t0 = performance.now();
      for (let i = 0; i < (count as number); i++) {
        try {
          const address = `inproc://scale-pair-${seq++}`;
          const a = make(impl, 'Pair');
          sockets.push(a);
          await a.bind(address);
          const b = make(impl, 'Pair');
          sockets.push(b);
          b.connect(address);
          await b.send(payload);
          await a.receive();
        } catch (e) {
          failed(i, e);
          return;
        }
      }
      emit('created', { seconds: (performance.now() - t0) / 1000 });
    },
    async close() {
      const t0 = performance.now();
      for (const s of sockets) s.close();
      sockets = [];
      await settle();
      emit('closed', { seconds: (performance.now() - t0) / 1000 });
    },
  };
}

async function churnRole(impl: Impl): Promise<Record<string, Handler>> {
  const address = 'inproc://scale-churn';
  const rep = make(impl, 'Reply');
  await rep.bind(address);
  void (async () => {
    for (;;) await rep.send(await rep.receive());
  })().catch(() => {}); // ends when the process does
  return {
    async cycles({ count }) {
      const t0 = performance.now();
      for (let i = 0; i < (count as number); i++) {
        let req: BenchSocket;
        try {
          req = make(impl, 'Request');
          req.connect(address);
        } catch (e) {
          failed(i, e);
          return;
        }
        await req.send(payload);
        await req.receive();
        req.close();
      }
      emit('cycled', { seconds: (performance.now() - t0) / 1000 });
    },
  };
}

/**
 * A ROUTER (`options`) and `count` DEALERs, the i-th connected to `addressOf(i)`, after `bind` has
 * bound the ROUTER. On a failure (zeromq.js's socket limit) it reports it, closes them all and
 * gives undefined.
 */
async function routerAndDealers(impl: Impl, count: number, options: Record<string, unknown>, bind: (router: BenchSocket) => Promise<void>,
  addressOf: (i: number) => string, dealerOptions: (i: number) => Record<string, unknown>): Promise<{ router: BenchSocket; dealers: BenchSocket[] } | undefined> {
  const router = make(impl, 'Router', options);
  const dealers: BenchSocket[] = [];
  try {
    await bind(router);
    for (let i = 0; i < count; i++) {
      const d = make(impl, 'Dealer', dealerOptions(i));
      dealers.push(d);
      d.connect(addressOf(i));
    }
    await settle();
    return { router, dealers };
  } catch (e) {
    failed(dealers.length, e);
    router.close();
    for (const d of dealers) d.close();
    return undefined;
  }
}

/** A closing ROUTER's drain: one message queued for each of many DEALERs, read after the close. */
function lingerRole(impl: Impl): Record<string, Handler> {
  let seq = 0;
  return {
    async drain({ count }) {
      const address = `inproc://scale-linger-${seq++}`;
      const n = count as number;
      const made = await routerAndDealers(impl, n, { linger: -1 }, (r) => r.bind(address), () => address, (i) => ({ routingId: `d${i}`, linger: 0 }));
      if (made === undefined) return;
      const { router, dealers } = made;
      for (let i = 0; i < n; i++) await router.send([`d${i}`, payload]);
      const t0 = performance.now();
      router.close();
      for (const d of dealers) await d.receive();
      const seconds = (performance.now() - t0) / 1000;
      for (const d of dealers) d.close();
      await settle();
      emit('drained', { seconds });
    },
  };
}

/** One socket bound to many inproc names, each with a connection, unbinding them one by one. */
function unbindRole(impl: Impl): Record<string, Handler> {
  let seq = 0;
  return {
    async unbind({ count }) {
      const prefix = `inproc://scale-unbind-${seq++}-`;
      const n = count as number;
      const bindAll = async (r: BenchSocket): Promise<void> => {
        for (let i = 0; i < n; i++) await r.bind(`${prefix}${i}`);
      };
      const made = await routerAndDealers(impl, n, { linger: 0 }, bindAll, (i) => `${prefix}${i}`, () => ({ linger: 0 }));
      if (made === undefined) return;
      const { dealers } = made;
      const router = made.router as BenchSocket & { unbind(address: string): Promise<void> };
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await router.unbind(`${prefix}${i}`);
      const seconds = (performance.now() - t0) / 1000;
      router.close();
      for (const d of dealers) d.close();
      await settle();
      emit('unbound', { seconds });
    },
  };
}

const { values: args } = parseArgs({
  options: {
    impl: { type: 'string' },
    role: { type: 'string' },
    bind: { type: 'string' },
    connect: { type: 'string' },
    hwm: { type: 'string' },
    /** The binder's ZMQ_BACKLOG (router, xpub), for N peers connecting at once over tcp. */
    backlog: { type: 'string' },
  },
});

function need(name: 'bind' | 'connect'): string {
  const v = args[name];
  if (v === undefined) throw new Error(`--role ${String(args.role)} needs --${name}`);
  return v;
}

async function main(): Promise<void> {
  const implName = args.impl as ImplName;
  if (implName !== 'ours' && implName !== 'zeromq') throw new Error(`--impl must be ours or zeromq, not ${String(args.impl)}`);
  const impl = await loadImpl(implName);
  const hwm = args.hwm === undefined ? undefined : Number(args.hwm);
  const backlog = args.backlog === undefined ? undefined : Number(args.backlog);
  let handlers: Record<string, Handler>;
  let endpoint: string | null = null;
  switch (args.role) {
    case 'router': {
      const half = await routerHalf(impl, need('bind'), backlog);
      ({ endpoint, handlers } = half);
      break;
    }
    case 'dealers':
      handlers = dealersHalf(impl, need('connect'));
      break;
    case 'attach-inproc': {
      const half = await routerHalf(impl, need('bind'));
      handlers = { ...half.handlers, ...dealersHalf(impl, need('bind')) };
      break;
    }
    case 'xpub': {
      const half = await xpubHalf(impl, need('bind'), hwm, backlog);
      ({ endpoint, handlers } = half);
      break;
    }
    case 'subscribers':
      handlers = subscribersHalf(impl, need('connect'), hwm);
      break;
    case 'subs-inproc': {
      const half = await xpubHalf(impl, need('bind'), hwm);
      handlers = { ...half.handlers, ...subscribersHalf(impl, need('bind'), hwm) };
      break;
    }
    case 'pairs':
      handlers = pairsRole(impl);
      break;
    case 'churn':
      handlers = await churnRole(impl);
      break;
    case 'linger':
      handlers = lingerRole(impl);
      break;
    case 'unbind':
      handlers = unbindRole(impl);
      break;
    default:
      throw new Error(`--role must be router, dealers, attach-inproc, xpub, subscribers, subs-inproc, pairs, churn, linger or unbind, not ${String(args.role)}`);
  }
  handlers.heap = heap;
  emit('ready', { endpoint, pid: process.pid });
  await serveCommands(handlers);
}

// The parent ends a measurement by killing this process (a loop blocked at scale cannot be asked);
// stdin ending is the same request, and the sockets go with the process.
runChild(main);
