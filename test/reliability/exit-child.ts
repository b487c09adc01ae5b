// A process that closes sockets caught in every kind of pending call, then must exit by itself
// (shutdown.test.ts and scripts/reliability.ts run it). Run with tsx:
//
//   node --import tsx test/reliability/exit-child.ts '{"linger": 0, "silent": "tcp://127.0.0.1:PORT", "dir": "/tmp/..."}'
//
// `silent` is a server of the parent's that accepts and never answers (a handshake that hangs);
// `dir` an empty directory for ipc paths. The sockets, all closed in one go:
//
//   router (tcp, bound) ◀── dealer (round trip done, then a receive waits)
//                       ◀── req (request sent, the router never replies: its receive waits)
//   pub (ipc, bound)    ──▶ sub (subscribed, a receive waits)
//   queued: dealer ──▶ ipc path nobody listens on; 2 sends queued, a third waits (linger applies)
//   handshake: dealer ──▶ `silent`, a send and a receive wait
//   binding: dealer, bind to tcp://127.0.0.1:* under way, a receive waits
//
// It prints JSON lines on stdout: {"outcomes": {call: "resolved" | code}, "unhandled": [...],
// "leftover": [...active resources not there before...], "releasedAfterMs": n} once every socket is
// released, then {"exitAfterMs": n} from the `exit` event (both times from the close).

import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openConnections } from '../../src/transport/net-transport.js';
import { join } from 'node:path';
import { Dealer, Publisher, Request, Router, Subscriber } from '../../src/index.js';
import type { Socket } from '../../src/socket/socket.js';

const spec = JSON.parse(process.argv[2] as string) as { linger: number; silent: string; dir: string };
const unhandled: string[] = [];
process.on('unhandledRejection', (e) => unhandled.push(String((e as Error)?.stack ?? e)));
const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const kinds = (): Map<string, number> => {
  const m = new Map<string, number>();
  for (const k of process.getActiveResourcesInfo()) m.set(k, (m.get(k) ?? 0) + 1);
  // Our streams and servers are unref'd (an open socket keeps no process alive, as in zeromq.js), so
  // Node's list above leaves them out: count the tcp/ipc connections not released, and descriptors.
  m.set('net connection', openConnections());
  m.set('file descriptor', readdirSync('/proc/self/fd').length);
  return m;
};
const baseline = kinds();

const outcomes: Record<string, Promise<string>> = {};
const track = (name: string, p: Promise<unknown>): void => {
  outcomes[name] = p.then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
};
const once = (sock: Socket, type: 'handshake' | 'connect' | 'connect:retry'): Promise<void> =>
  new Promise((resolve) => sock.events.on(type, () => resolve()));

const linger = spec.linger;
const router = new Router({ linger });
await router.bind('tcp://127.0.0.1:*');
const dealer = new Dealer({ linger });
dealer.connect(router.lastEndpoint as string);
await dealer.send('hello');
const [id] = await router.receive();
await router.send([id, 'hi']);
await dealer.receive();
track('active dealer: receive', dealer.receive());

const req = new Request({ linger });
req.connect(router.lastEndpoint as string);
await req.send('no answer will come');
await router.receive();
track('req: receive of the reply', req.receive());
track('router: receive', router.receive());

const pub = new Publisher({ linger });
await pub.bind(`ipc://${join(spec.dir, 'pub.sock')}`);
const sub = new Subscriber({ linger });
const subscribed = once(sub, 'handshake');
sub.subscribe('');
sub.connect(pub.lastEndpoint as string);
await subscribed;
track('sub: receive', sub.receive());

const queued = new Dealer({ linger, sendHighWaterMark: 2 });
const retrying = once(queued, 'connect:retry');
queued.connect(`ipc://${join(spec.dir, 'nobody.sock')}`);
await retrying;
track('queued dealer: send 1', queued.send('one'));
track('queued dealer: send 2', queued.send('two'));
track('queued dealer: send 3 (waits)', queued.send('three'));

const shaking = new Dealer({ linger, sendHighWaterMark: 1 });
const opened = once(shaking, 'connect');
shaking.connect(spec.silent);
await opened;
track('handshaking dealer: send 1', shaking.send('one'));
track('handshaking dealer: send 2 (waits)', shaking.send('two'));
track('handshaking dealer: receive', shaking.receive());

const binding = new Dealer({ linger });
track('binding dealer: bind', binding.bind('tcp://127.0.0.1:*'));
track('binding dealer: receive', binding.receive());

const sockets: Socket[] = [router, dealer, req, pub, sub, queued, shaking, binding];
const closedAt = performance.now();
for (const s of sockets) s.close();
process.on('exit', () => say({ exitAfterMs: performance.now() - closedAt }));

const settled: Record<string, string> = {};
for (const [name, p] of Object.entries(outcomes)) settled[name] = await p;
await Promise.all(sockets.map((s) => s.whenReleased()));
const releasedAfterMs = performance.now() - closedAt;
// A full turn of the loop: streams destroyed at the release finish closing (close callbacks), and a
// rejection nobody handled has been reported.
await new Promise((r) => setImmediate(r));
await new Promise((r) => setTimeout(r, 0));
// What this process holds now that it did not hold before the sockets: nothing, if it is to exit.
const leftover: string[] = [];
for (const [k, n] of kinds()) if (n > (baseline.get(k) ?? 0)) leftover.push(`${k} x${n - (baseline.get(k) ?? 0)}`);
say({ outcomes: settled, unhandled, leftover, releasedAfterMs, closed: sockets.every((s) => s.closed) });
