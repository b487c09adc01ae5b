// The inproc conformance run in a browser page (built by vite from `monocoque/browser`'s source,
// opened by test/browser/conformance.test.ts): every socket type over inproc, zero copy, a monitor
// event, and tcp refused as a browser must refuse it. Each check's outcome goes on `window.__result`
// ("pass" or the reason it failed); the test judges them.

import {
  Context,
  Dealer,
  Pair,
  Publisher,
  Pull,
  Push,
  Reply,
  Request,
  Router,
  Subscriber,
  XPublisher,
  XSubscriber,
} from '../../../src/browser.js';

export type ConformanceResult = Record<string, string>;

const decode = (frames: Uint8Array[]): string[] => frames.map((f) => new TextDecoder().decode(f));
const same = (got: string[], want: string[]): void => {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
};

type Closable = { close(): void };

const checks: Record<string, (context: Context, keep: <T extends Closable>(s: T) => T) => Promise<void>> = {
  async pair(context, keep) {
    const a = keep(new Pair({ context }));
    const b = keep(new Pair({ context }));
    await a.bind('inproc://pair');
    b.connect('inproc://pair');
    await a.send('to b');
    same(decode(await b.receive()), ['to b']);
    await b.send('to a');
    same(decode(await a.receive()), ['to a']);
  },
  async 'push-pull'(context, keep) {
    const pull = keep(new Pull({ context }));
    const push = keep(new Push({ context }));
    await pull.bind('inproc://pipeline');
    push.connect('inproc://pipeline');
    await push.send(['job', '42']);
    same(decode(await pull.receive()), ['job', '42']);
  },
  async 'req-rep'(context, keep) {
    const rep = keep(new Reply({ context }));
    const req = keep(new Request({ context }));
    await rep.bind('inproc://service');
    req.connect('inproc://service');
    await req.send('question');
    same(decode(await rep.receive()), ['question']);
    await rep.send('answer');
    same(decode(await req.receive()), ['answer']);
  },
  async 'dealer-router'(context, keep) {
    const router = keep(new Router({ context }));
    const dealer = keep(new Dealer({ context, routingId: 'worker' }));
    await router.bind('inproc://broker');
    dealer.connect('inproc://broker');
    await dealer.send('ready');
    const [id, body] = await router.receive();
    same(decode([id, body]), ['worker', 'ready']);
    await router.send([id, 'work']);
    same(decode(await dealer.receive()), ['work']);
  },
  async 'pub-sub'(context, keep) {
    const pub = keep(new Publisher({ context }));
    const sub = keep(new Subscriber({ context }));
    await pub.bind('inproc://news');
    sub.connect('inproc://news');
    sub.subscribe('weather');
    await pub.send(['sports', 'goal']);
    await pub.send(['weather', 'sun']);
    same(decode(await sub.receive()), ['weather', 'sun']);
  },
  async 'xpub-xsub'(context, keep) {
    const xpub = keep(new XPublisher({ context }));
    const xsub = keep(new XSubscriber({ context }));
    await xpub.bind('inproc://x');
    xsub.connect('inproc://x');
    await xsub.send(new Uint8Array([1, ...new TextEncoder().encode('t')]));
    const [subscription] = await xpub.receive();
    if (subscription[0] !== 1) throw new Error(`XPUB got ${subscription[0]} as the subscribe flag`);
    await xpub.send(['t', 'x']);
    same(decode(await xsub.receive()), ['t', 'x']);
  },
  async 'zero-copy'(context, keep) {
    const pull = keep(new Pull({ context }));
    const push = keep(new Push({ context }));
    await pull.bind('inproc://zero-copy');
    push.connect('inproc://zero-copy');
    const big = new Uint8Array(4096).fill(7);
    await push.send(big);
    const [got] = await pull.receive();
    if (got !== big && got.buffer !== big.buffer) throw new Error('a 4 KiB frame arrived as a copy');
  },
  async 'monitor-event'(context, keep) {
    const pull = keep(new Pull({ context }));
    const seen = new Promise<string>((resolve) => pull.events.on('bind', (e) => resolve(e.address ?? '')));
    await pull.bind('inproc://watched');
    const address = await seen;
    if (address !== 'inproc://watched') throw new Error(`bind event named ${JSON.stringify(address)}`);
  },
  async 'tcp-refused'(context, keep) {
    const pull = keep(new Pull({ context }));
    try {
      await pull.bind('tcp://127.0.0.1:*');
    } catch (e) {
      if ((e as { code?: string }).code === 'EPROTONOSUPPORT') return;
      throw e;
    }
    throw new Error('a browser bound tcp');
  },
};

const result: ConformanceResult = {};
for (const [name, check] of Object.entries(checks)) {
  const context = new Context();
  const open: Closable[] = [];
  try {
    await check(context, (s) => (open.push(s), s));
    result[name] = 'pass';
  } catch (e) {
    result[name] = String((e as Error).message ?? e);
  } finally {
    for (const s of open) s.close();
  }
}
result.buffer = typeof (globalThis as { Buffer?: unknown }).Buffer;
(globalThis as typeof globalThis & { __result?: ConformanceResult }).__result = result;
document.getElementById('result')!.textContent = JSON.stringify(result, null, 2);
