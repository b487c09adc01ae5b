// One runtime's conformance run against the BUILT package: the same file runs on Node, Deno and Bun
// and prints one JSON line:
//   {"runtime": "deno", "version": "2.9.6", "peers": {"self": "deno 2.9.6", "node20": "node 20.20.2"},
//    "results": {"inproc.pair": "pass", "ipc.abstract.libzmq-name": {"unsupported": "why"}, "x": {"fail": "why"}, ...}}
// A check the runtime cannot do (it lacks a Node API, a kind of socket, ...) reports `unsupported`
// with the reason found here, never a pass; anything else that goes wrong is a `fail`.
//
//   node conformance.mjs <built src/index.js> [--node20 <Node 20 binary>]
//   deno run --allow-all conformance.mjs <built src/index.js> [--node20 <Node 20 binary>]
//   bun conformance.mjs <built src/index.js> [--node20 <Node 20 binary>]
//
// Between processes (peer.mjs runs the other side, by this runtime and by Node 20):
//
//   this process                      peer process
//   Publisher.bind(pub) ─────────────▶ Subscriber.connect(pub), subscribe "rt"
//   Request.connect(rep) ────────────▶ Reply.bind(rep)          "ping" ⇄ "pong:ping"

/* global Deno */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CHECK_TIMEOUT = 20_000;

const args = process.argv.slice(2);
const entryArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--node20');
if (entryArg === undefined) {
  process.stderr.write('usage: conformance.mjs <built src/index.js> [--node20 <Node 20 binary>]\n');
  process.exit(2);
}
const entry = pathToFileURL(resolve(entryArg)).href;
const node20 = args.includes('--node20') ? args[args.indexOf('--node20') + 1] : 'node';
const peerScript = join(dirname(fileURLToPath(import.meta.url)), 'peer.mjs');

const runtime = typeof Deno !== 'undefined' ? 'deno' : process.versions.bun !== undefined ? 'bun' : 'node';
const version = runtime === 'deno' ? Deno.version.deno : runtime === 'bun' ? process.versions.bun : process.versions.node;
/** How to start another process of this very runtime. */
const self = runtime === 'deno' ? [Deno.execPath(), 'run', '--allow-all'] : [process.execPath, ...process.execArgv];

const m = await import(entry);

/** A check the runtime cannot do; the reason goes into the report. */
class Unsupported extends Error {}

const results = {};
const peers = {};
const open = [];
const keep = (s) => (open.push(s), s);
const text = (msg) => msg.map((f) => f.toString());
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'monocoque-rt-'));
let n = 0;
const ipcPath = (name) => `ipc://${join(dir, `${name}-${n++}`)}`;

function expectEqual(what, got, want) {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

/** `p`, or a rejection once `ms` have passed (a hang is a failure, not a stuck run). */
function within(ms, p, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function report(name, e) {
  if (e === undefined) results[name] = 'pass';
  else if (e instanceof Unsupported) results[name] = { unsupported: e.message };
  else results[name] = { fail: String(e?.message ?? e).split('\n')[0] };
}

async function check(name, f) {
  try {
    await within(CHECK_TIMEOUT, f(), name);
    report(name);
  } catch (e) {
    report(name, e);
  } finally {
    for (const s of open.splice(0)) s.close();
  }
}

/** Publishes a "drop" and a "rt" message until `arrived` settles (a subscription travels on its own time). */
async function publishUntil(pub, arrived) {
  let done = false;
  arrived.then(() => (done = true), () => (done = true));
  while (!done) {
    await pub.send(['drop', 'x']);
    await pub.send(['rt', 'hello']);
    await delay(10);
  }
  return arrived;
}

// ---- inproc: every socket type, in one process ----

await check('inproc.pair', async () => {
  const a = keep(new m.Pair());
  const b = keep(new m.Pair());
  await a.bind('inproc://rt-pair');
  b.connect('inproc://rt-pair');
  await a.send('a→b');
  expectEqual('a→b', text(await b.receive()), ['a→b']);
  await b.send('b→a');
  expectEqual('b→a', text(await a.receive()), ['b→a']);
});

await check('inproc.push-pull', async () => {
  const push = keep(new m.Push());
  const pull = keep(new m.Pull());
  await push.bind('inproc://rt-push');
  pull.connect('inproc://rt-push');
  await push.send(['job', '42']);
  expectEqual('pull', text(await pull.receive()), ['job', '42']);
});

await check('inproc.req-rep', async () => {
  const rep = keep(new m.Reply());
  const req = keep(new m.Request());
  await rep.bind('inproc://rt-rep');
  req.connect('inproc://rt-rep');
  await req.send('ping');
  expectEqual('request', text(await rep.receive()), ['ping']);
  await rep.send('pong');
  expectEqual('reply', text(await req.receive()), ['pong']);
});

await check('inproc.dealer-router', async () => {
  const router = keep(new m.Router());
  const dealer = keep(new m.Dealer({ routingId: 'd1' }));
  await router.bind('inproc://rt-router');
  dealer.connect('inproc://rt-router');
  await dealer.send('up');
  expectEqual('router got', text(await router.receive()), ['d1', 'up']);
  await router.send(['d1', 'down']);
  expectEqual('dealer got', text(await dealer.receive()), ['down']);
});

await check('inproc.pub-sub', async () => {
  const pub = keep(new m.Publisher());
  const sub = keep(new m.Subscriber());
  await pub.bind('inproc://rt-pub');
  sub.subscribe('rt');
  sub.connect('inproc://rt-pub');
  expectEqual('sub', text(await publishUntil(pub, sub.receive())), ['rt', 'hello']);
});

await check('inproc.xpub-xsub', async () => {
  const xpub = keep(new m.XPublisher());
  const xsub = keep(new m.XSubscriber());
  await xpub.bind('inproc://rt-xpub');
  xsub.connect('inproc://rt-xpub');
  await xsub.send(Buffer.from('\x01rt'));
  const [subscription] = await xpub.receive();
  expectEqual('subscription at xpub', [...subscription], [1, 0x72, 0x74]);
  await xpub.send(['rt', 'hello']);
  expectEqual('xsub', text(await xsub.receive()), ['rt', 'hello']);
});

await check('inproc.zero-copy', async () => {
  const push = keep(new m.Push());
  const pull = keep(new m.Pull());
  await push.bind('inproc://rt-zero-copy');
  pull.connect('inproc://rt-zero-copy');
  const big = Buffer.alloc(4096, 7);
  await push.send(big);
  const [got] = await pull.receive();
  if (got !== big) throw new Error(`a ${big.length}-byte Buffer arrived as another object (${got?.constructor?.name}, ${got?.length} bytes)`);
});

// ---- monitor events and CURVE, over tcp in one process ----

await check('monitor.events', async () => {
  const pull = keep(new m.Pull());
  const push = keep(new m.Push());
  const seen = [];
  const handshake = new Promise((r) => pull.events.on('handshake', (e) => r(e)));
  pull.events.on('bind', (e) => seen.push(`bind ${e.address}`));
  await pull.bind('tcp://127.0.0.1:*');
  expectEqual('bind events', seen, [`bind ${pull.lastEndpoint}`]);
  push.connect(pull.lastEndpoint);
  await push.send('x');
  expectEqual('pull', text(await pull.receive()), ['x']);
  const e = await handshake;
  expectEqual('handshake peer', e.peer?.socketType, 'PUSH');
});

await check('curve.tcp', async () => {
  const server = m.curveKeyPair();
  const client = m.curveKeyPair();
  const pull = keep(new m.Pull({ curveServer: true, curveSecretKey: server.secretKey }));
  await pull.bind('tcp://127.0.0.1:*');
  const push = keep(new m.Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey }));
  const handshake = new Promise((r) => push.events.on('handshake', r));
  push.connect(pull.lastEndpoint);
  await push.send('sealed');
  expectEqual('pull', text(await pull.receive()), ['sealed']);
  await handshake;
  expectEqual('mechanisms', [pull.securityMechanism, push.securityMechanism], ['curve', 'curve']);
});

// ---- tcp and ipc between two processes: this runtime and Node 20 as the peer ----

/** Starts peer.mjs under `command`; `next(key)` resolves with the peer's first report carrying `key`. */
function startPeer(command, spec) {
  const child = spawn(command[0], [...command.slice(1), peerScript, JSON.stringify({ entry, ...spec })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reports = [];
  const waiting = [];
  let ended;
  let stderr = '';
  let buffered = '';
  const settle = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i];
      const found = reports.find((r) => w.key in r);
      const error = reports.find((r) => 'error' in r);
      if (found !== undefined) w.resolve(found);
      else if (error !== undefined) w.reject(new Error(`peer: ${error.error.split('\n')[0]}`));
      else if (ended !== undefined) w.reject(new Error(`peer ended (${ended}) before reporting "${w.key}"${stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n')[0]}`}`));
      else continue;
      waiting.splice(i, 1);
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      try {
        reports.push(JSON.parse(line));
      } catch {
        stderr += `${line}\n`;
      }
    }
    settle();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => {
    child.on('error', (e) => {
      ended = `spawn error ${e.code ?? e.message}`;
      settle();
      resolve(ended);
    });
    child.on('close', (code, signal) => {
      ended = signal !== null ? `signal ${signal}` : `exit code ${code}`;
      settle();
      resolve(ended);
    });
  });
  return {
    next: (key) => new Promise((resolve, reject) => (waiting.push({ key, resolve, reject }), settle())),
    exited,
    kill: (signal) => child.kill(signal),
  };
}

/** REQ/REP and PUB/SUB with one peer process: results under `<transport>.req-rep.<peer>` and `<transport>.pub-sub.<peer>`. */
async function crossProcess(transport, peerName, command) {
  const names = [`${transport}.req-rep.${peerName}`, `${transport}.pub-sub.${peerName}`];
  const endpoint = (role) => (transport === 'tcp' ? 'tcp://127.0.0.1:*' : ipcPath(role));
  let peer;
  try {
    const pub = keep(new m.Publisher());
    await pub.bind(endpoint('pub'));
    peer = startPeer(command, { rep: endpoint('rep'), sub: pub.lastEndpoint });
    const bound = within(CHECK_TIMEOUT, peer.next('bound'), 'peer bind');
    const reqRep = (async () => {
      const report = await bound;
      peers[peerName] ??= `${report.runtime} ${report.version}`;
      const req = keep(new m.Request());
      req.connect(report.bound);
      await req.send('ping');
      expectEqual('reply', text(await req.receive()), ['pong:ping']);
    })();
    const pubSub = publishUntil(pub, peer.next('sub')).then((report) => expectEqual('sub', report.sub, ['rt', 'hello']));
    const outcomes = await Promise.allSettled([within(CHECK_TIMEOUT, reqRep, names[0]), within(CHECK_TIMEOUT, pubSub, names[1])]);
    // The peer closed its sockets and exits by itself: a handle left open would keep it running.
    const exit = await within(CHECK_TIMEOUT, peer.exited, 'peer exit').catch((e) => e.message);
    outcomes.forEach((o, i) => report(names[i], o.status === 'fulfilled'
      ? (exit === 'exit code 0' ? undefined : new Error(`peer did not exit cleanly after closing its sockets: ${exit}`))
      : o.reason));
  } catch (e) {
    for (const name of names) report(name, e);
  } finally {
    peer?.kill();
    for (const s of open.splice(0)) s.close();
  }
}

const peerCommands = { self, node20: [node20] };
for (const transport of ['tcp', 'ipc']) {
  for (const [peerName, command] of Object.entries(peerCommands)) await crossProcess(transport, peerName, command);
}

// ---- what else the transports ask of the runtime's node:net, node:fs and node:dns ----

await check('tcp.host-names', async () => {
  const rep = keep(new m.Reply());
  await rep.bind('tcp://localhost:*'); // resolved by node:dns, IPv4 unless ipv6 is set
  const port = /:(\d+)$/.exec(rep.lastEndpoint)?.[1];
  if (port === undefined) throw new Error(`lastEndpoint ${rep.lastEndpoint} names no port`);
  const req = keep(new m.Request());
  req.connect(`tcp://localhost:${port}`);
  await req.send('ping');
  expectEqual('request', text(await rep.receive()), ['ping']);
});

await check('ipc.path-rules', async () => {
  // `ipc://*`: a generated path under the temp dir, removed again when the socket closes.
  const wild = keep(new m.Pull());
  await wild.bind('ipc://*');
  const path = wild.lastEndpoint.slice('ipc://'.length);
  if (!existsSync(path)) throw new Error(`ipc://* bound ${wild.lastEndpoint}, but there is no such file`);
  wild.close();
  while (existsSync(path)) await delay(10);
  // A live socket file is EADDRINUSE; one left by a process that died is replaced.
  const live = keep(new m.Pull());
  const endpoint = ipcPath('stale');
  await live.bind(endpoint);
  const second = keep(new m.Pull());
  const code = await second.bind(endpoint).then(() => 'bound', (e) => e.code);
  expectEqual('bind to a live socket file', code, 'EADDRINUSE');
  live.close();
  const stale = ipcPath('stale');
  const dead = startPeer(self, { rep: stale });
  try {
    await dead.next('bound');
  } finally {
    dead.kill('SIGKILL');
  }
  await dead.exited;
  if (!lstatSync(stale.slice('ipc://'.length)).isSocket()) throw new Error('the killed peer left no socket file');
  const heir = keep(new m.Push());
  await heir.bind(stale);
  const pull = keep(new m.Pull());
  pull.connect(stale);
  await heir.send('heir');
  expectEqual('pull', text(await pull.receive()), ['heir']);
});

// ---- Linux abstract ipc names (`ipc://@name`) between two processes of this runtime ----

const abstractName = `monocoque-rt-${process.pid}`;
await check('ipc.abstract.self', async () => {
  if (process.platform !== 'linux') throw new Unsupported(`abstract ipc names are Linux only; this is ${process.platform}`);
  const peer = startPeer(self, { rep: `ipc://@${abstractName}` });
  try {
    const { bound } = await peer.next('bound');
    expectEqual('bound', bound, `ipc://@${abstractName}`);
    const req = keep(new m.Request());
    req.connect(bound);
    await req.send('ping');
    expectEqual('reply', text(await req.receive()), ['pong:ping']);
    expectEqual('peer exit', await peer.exited, 'exit code 0');
  } finally {
    peer.kill();
  }
});

// What the kernel shows for a bound abstract name: libzmq binds and dials the name's own length, so
// a name padded with NULs to the whole 108-byte sun_path is one libzmq cannot reach.
await check('ipc.abstract.libzmq-name', async () => {
  if (process.platform !== 'linux') throw new Unsupported(`abstract ipc names are Linux only; this is ${process.platform}`);
  const rep = keep(new m.Reply());
  await rep.bind(`ipc://@${abstractName}-name`);
  let table;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch (e) {
    throw new Unsupported(`/proc/net/unix is not readable here (${e.code ?? e.message})`);
  }
  // Its last column is the path; an abstract name starts with '@' and shows each NUL as '@'.
  const names = table.split('\n').map((l) => l.trim().split(/\s+/).pop()).filter((p) => p?.startsWith(`@${abstractName}-name`));
  if (names.length === 0) throw new Error(`@${abstractName}-name is not in /proc/net/unix`);
  const padded = names.find((p) => p !== `@${abstractName}-name`);
  if (padded !== undefined) {
    throw new Unsupported(`this runtime's libuv ${process.versions.uv ?? ''} binds the name NUL-padded to 108 bytes `
      + `(${padded.length - 1} bytes, not ${abstractName.length + 5}): our sockets on it reach each other, libzmq's cannot`);
  }
});

rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ runtime, version, peers, results })}\n`);
// Every socket is closed; exit now rather than wait on anything a runtime keeps (the peers check a
// clean exit by themselves).
process.exit(0);
