// A security benchmark child process: one socket of one implementation speaking CURVE, PLAIN or
// NULL over tcp, driven by JSON-line commands on stdin, reporting JSON-line events on stdout (see
// lib/child.ts), as child.ts does for the NULL rows. Exits when stdin ends.
//
//   node --import tsx bench/security-child.ts --impl ours|zeromq --mechanism curve|plain|null
//        --role pull|push|rep|handshakes [--bind tcp://127.0.0.1:*] [--connect tcp://127.0.0.1:5555]
//        [--server-key=Z85] [--size 16]
//
// The binding roles (pull, rep) are the servers: a CURVE server makes its key pair and reports its
// public key as `serverKey` in `ready`; a PLAIN server starts a ZAP handler at
// inproc://zeromq.zap.01 in its context first (libzmq refuses PLAIN without one, and so do we):
// ours the Authenticator, zeromq.js a Router answering each request. The connecting roles (push,
// handshakes) are the clients: CURVE with `--server-key=KEY` (after '=': a Z85 key may start with
// '-') and a key pair of their own, PLAIN with the one user the server's handler lets in.
//
// Roles: pull, on {"cmd":"expect","count":N}, says "armed", receives N messages and reports "done"
// with the rate measured from its first message to its last; push sends N messages on
// {"cmd":"send","count":N} and reports "sent" (the same loops as child.ts); rep echoes for ever;
// handshakes, on {"cmd":"handshakes","count":N}, N times one after another: makes a REQ, connects
// it, sends 16 bytes, awaits the echo (the handshake is done before it can arrive), closes it; it
// reports the rate and the median cycle in µs. Any role answers {"cmd":"usage"} with the CPU time
// the whole process (all its threads) has used, in µs, and its event loop's busy and idle time, in ms.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { medianOf } from './lib/benchmark.js';
import { emit, fail, runChild, serveCommands, streamHandlers } from './lib/child-io.js';
import type { Handlers } from './lib/child-io.js';
import { loadImpl, make } from './lib/impl.js';
import type { BenchSocket, Impl, ImplName } from './lib/impl.js';

// Types only: the parent (security.ts) imports them with `import type`, which runs nothing of this file.
export type Mechanism = 'curve' | 'plain' | 'null';
export type SecurityRole = 'pull' | 'push' | 'rep' | 'handshakes';

/** The one PLAIN user the servers' ZAP handlers let in. */
const PLAIN_USER = 'user';
const PLAIN_PASSWORD = 'pass';
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** What an implementation offers for security beyond the socket classes. */
interface Security {
  curveKeyPair(): KeyPair;
  /** Anything to load before the first CURVE handshake (ours: libsodium), so no round pays for it. */
  curveReady(): Promise<void>;
  /** Starts a ZAP handler in the default context letting PLAIN_USER in with PLAIN_PASSWORD. */
  startZap(): Promise<void>;
}

async function loadSecurity(name: ImplName): Promise<Security> {
  if (name === 'ours') {
    const m = await import('../src/index.js');
    return {
      curveKeyPair: m.curveKeyPair,
      curveReady: m.curveReady,
      async startZap() {
        const auth = new m.Authenticator({ context: m.defaultContext() });
        auth.configurePlain({ [PLAIN_USER]: PLAIN_PASSWORD });
        await auth.start();
      },
    };
  }
  if (name === 'zeromq') {
    const zmq = await import('zeromq');
    return {
      curveKeyPair: zmq.curveKeyPair,
      curveReady: async () => {},
      async startZap() {
        const zap = new zmq.Router({ linger: 0 });
        await zap.bind(ZAP_ENDPOINT);
        void (async () => {
          // [routing id, '', version, request id, domain, address, identity, mechanism, username, password]
          for await (const [id, , , requestId, , , , mechanism, username, password] of zap) {
            const ok = String(mechanism) === 'PLAIN' && String(username) === PLAIN_USER && String(password) === PLAIN_PASSWORD;
            await zap.send([id as Buffer, '', '1.0', requestId as Buffer, ok ? '200' : '400', ok ? 'OK' : 'wrong username or password', '', '']);
          }
        })().catch(fail);
      },
    };
  }
  throw new Error(`--impl must be ours or zeromq, not ${name}`);
}


const { values: args } = parseArgs({
  options: {
    impl: { type: 'string' },
    role: { type: 'string' },
    mechanism: { type: 'string' },
    bind: { type: 'string' },
    connect: { type: 'string' },
    'server-key': { type: 'string' },
    size: { type: 'string', default: '16' },
  },
});

function need(name: 'bind' | 'connect' | 'server-key'): string {
  const v = args[name];
  if (v === undefined) throw new Error(`--role ${String(args.role)} --mechanism ${String(args.mechanism)} needs --${name}`);
  return v;
}

async function main(): Promise<void> {
  const implName = args.impl as ImplName;
  const impl: Impl = await loadImpl(implName);
  const security = await loadSecurity(implName);
  const role = args.role as SecurityRole;
  const mechanism = args.mechanism as Mechanism;
  if (!['curve', 'plain', 'null'].includes(mechanism)) throw new Error(`--mechanism must be curve, plain or null, not ${String(mechanism)}`);
  const size = Number(args.size);
  const server = role === 'pull' || role === 'rep';
  if (!server && role !== 'push' && role !== 'handshakes') throw new Error(`--role must be pull, push, rep or handshakes, not ${String(role)}`);
  if (mechanism === 'curve') await security.curveReady();

  // The options that make a socket of this role speak the mechanism.
  let options: Record<string, unknown> = {};
  let serverKey: string | undefined;
  if (mechanism === 'curve' && server) {
    const pair = security.curveKeyPair();
    serverKey = pair.publicKey;
    options = { curveServer: true, curveSecretKey: pair.secretKey };
  } else if (mechanism === 'curve') {
    const pair = security.curveKeyPair();
    options = { curveServerKey: need('server-key'), curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey };
  } else if (mechanism === 'plain' && server) {
    await security.startZap();
    options = { plainServer: true };
  } else if (mechanism === 'plain') {
    options = { plainUsername: PLAIN_USER, plainPassword: PLAIN_PASSWORD };
  }

  const payload = Buffer.alloc(size, 0x61);
  let socket: BenchSocket | undefined;
  let closing = false;
  if (role === 'handshakes') {
    need('connect');
  } else {
    socket = make(impl, role === 'pull' ? 'Pull' : role === 'push' ? 'Push' : 'Reply', options);
    if (server) await socket.bind(need('bind'));
    else socket.connect(need('connect'));
  }
  emit('ready', { endpoint: socket?.lastEndpoint ?? null, serverKey, pid: process.pid });

  if (role === 'rep') {
    const s = socket as BenchSocket;
    void (async () => {
      try {
        for (;;) await s.send(await s.receive());
      } catch (e) {
        if (!closing) fail(e);
      }
    })();
  }

  const handlers: Handlers = {
    ...streamHandlers(() => socket as BenchSocket, payload),
    async handshakes({ count = 0 }) {
      const endpoint = need('connect');
      const samples = new Float64Array(count);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        const req = make(impl, 'Request', { ...options, linger: 0 });
        req.connect(endpoint);
        await req.send(payload);
        await req.receive();
        req.close();
        samples[i] = performance.now() - t;
      }
      const seconds = (performance.now() - t0) / 1000;
      emit('done', { count, seconds, rate: count / seconds, medianMicros: medianOf(samples) * 1000 });
    },
  };

  await serveCommands(handlers);
  closing = true;
  socket?.close();
}

runChild(main);
