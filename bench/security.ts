// Security benchmarks: CURVE and PLAIN over tcp, each side in a child process of its own (for both
// implementations), as the NULL rows in network.ts; see security-child.ts for what each process does.
// `tcp-plain-push-pull-16b` has the shape of network.ts's `tcp-push-pull-16b` (NULL), to set them
// side by side in one run: `npm run bench -- tcp-push-pull-16b tcp-plain`.

import type { Benchmark, Session, Target } from './lib/benchmark.js';
import { scaled } from './lib/benchmark.js';
import { Child, End } from './lib/child.js';
import { missingTypes, probeTransport } from './lib/impl.js';
import { streamSession } from './network.js';
import type { Impl, ImplName, SocketTypeName } from './lib/impl.js';
import type { Mechanism, SecurityRole } from './security-child.js';

const SCRIPT = new URL('./security-child.ts', import.meta.url);
const BIND = 'tcp://127.0.0.1:*';

/** Why `impl` cannot speak `mechanism` here: a build without CURVE, or our exports not there yet. */
async function missingSecurity(impl: Impl, mechanism: Mechanism): Promise<string | undefined> {
  if (impl.name === 'zeromq') {
    const zmq = await import('zeromq');
    return mechanism === 'curve' && zmq.capability.curve !== true ? 'zeromq.js was built without CURVE' : undefined;
  }
  const m = (await import('../src/index.js')) as Record<string, unknown>;
  const needed = mechanism === 'curve' ? ['curveKeyPair', 'curveReady'] : mechanism === 'plain' ? ['Authenticator', 'defaultContext'] : [];
  const missing = needed.filter((k) => typeof m[k] !== 'function');
  return missing.length === 0 ? undefined : `ours does not export ${missing.join(', ')} yet`;
}

async function unavailable(impl: Impl, mechanism: Mechanism, types: SocketTypeName[]): Promise<string | undefined> {
  return missingTypes(impl, types) ?? (await probeTransport(impl, 'tcp')) ?? (await missingSecurity(impl, mechanism));
}

function launch(impl: ImplName, mechanism: Mechanism, role: SecurityRole, args: string[]) {
  return Child.launch({ label: `${impl}:${mechanism}-${role}`, script: SCRIPT, args: ['--impl', impl, '--mechanism', mechanism, '--role', role, ...args] });
}

/** Starts the server (it binds; a CURVE server reports its public key), then the client at the endpoint it reports. */
async function serverAndClient(impl: Impl, mechanism: Mechanism, serverRole: 'pull' | 'rep', clientRole: 'push' | 'handshakes', size: number) {
  const s = await launch(impl.name, mechanism, serverRole, ['--bind', BIND]);
  const { endpoint, serverKey } = s.ready;
  try {
    if (typeof endpoint !== 'string') throw new Error(`${impl.name} ${mechanism} ${serverRole} child reported no endpoint`);
    if (mechanism === 'curve' && typeof serverKey !== 'string') throw new Error(`${impl.name} curve ${serverRole} child reported no public key`);
    // A Z85 key may start with '-', which parseArgs takes for an option unless it follows '='.
    const c = await launch(impl.name, mechanism, clientRole, ['--connect', endpoint, '--size', String(size), ...(mechanism === 'curve' ? [`--server-key=${serverKey as string}`] : [])]);
    return { server: s.child, client: c.child };
  } catch (e) {
    await s.child.close();
    throw e;
  }
}

const SAID: Record<Mechanism, string> = { curve: 'CURVE', plain: 'PLAIN (a ZAP handler checks the user)', null: 'NULL' };

/**
 * PUSH (one process) -> PULL (another) over tcp with `mechanism`: the receiver times from its first
 * message to its last, as network.ts's push-pull rows do. The PULL is the server (it binds).
 */
function securePushPull(name: string, mechanism: Mechanism, size: number, count: number, target: Target): Benchmark {
  return {
    name,
    description: `PUSH -> PULL over tcp with ${SAID[mechanism]}, ${size}-byte messages, two processes`,
    unit: 'msg/s',
    better: 'higher',
    target,
    extra: true,
    unavailable: (impl) => unavailable(impl, mechanism, ['Push', 'Pull']),
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale);
      const { server: receiver, client: sender } = await serverAndClient(impl, mechanism, 'pull', 'push', size);
      return streamSession(new End(receiver), new End(sender), { expect: n, send: n }, false, scale);
    },
  };
}

/** The CPU time a child's process has used (µs) and its event loop's busy and idle time (ms). */
async function usage(child: Child): Promise<{ cpu: number; active: number; idle: number }> {
  child.send({ cmd: 'usage' });
  const u = await child.expect('usage');
  return { cpu: u.cpuMicros as number, active: (u.loopActiveMs as number | undefined) ?? 0, idle: (u.loopIdleMs as number | undefined) ?? 0 };
}

/**
 * A CURVE REP server (one process) and a client (another) that, `count` times one after another,
 * makes a REQ, connects, completes the CURVE handshake, makes one 16-byte round trip and closes:
 * handshakes per second, with the median cycle and the CPU time of both processes per cycle.
 */
function curveHandshakes(name: string, count: number, target?: Target): Benchmark {
  return {
    name,
    description: 'CURVE handshakes over tcp: a REQ connects to a CURVE REP, one 16-byte round trip, closes; one after another, two processes',
    unit: 'hs/s',
    better: 'higher',
    extra: true,
    ...(target === undefined ? {} : { target }),
    unavailable: (impl) => unavailable(impl, 'curve', ['Request', 'Reply']),
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale);
      const { server, client } = await serverAndClient(impl, 'curve', 'rep', 'handshakes', 16);
      return {
        async round() {
          const c0 = await usage(client);
          const s0 = await usage(server);
          client.send({ cmd: 'handshakes', count: n });
          const done = await client.expect('done');
          const c1 = await usage(client);
          const s1 = await usage(server);
          const busy = s1.active - s0.active;
          return {
            value: done.rate as number,
            extra: {
              medianMicros: done.medianMicros as number,
              cpuMicros: (c1.cpu - c0.cpu + s1.cpu - s0.cpu) / n,
              cpuClientMicros: (c1.cpu - c0.cpu) / n,
              cpuServerMicros: (s1.cpu - s0.cpu) / n,
              serverLoopUtilisation: busy / (busy + s1.idle - s0.idle),
            },
          };
        },
        async close() {
          await Promise.all([client.close(), server.close()]);
        },
      };
    },
  };
}

export const securityBenchmarks: Benchmark[] = [
  securePushPull('tcp-curve-push-pull-1k', 'curve', 1024, 100_000, { op: '>=', ratio: 1 }),
  curveHandshakes('tcp-curve-handshakes', 1_000),
  // The target of the NULL row it sits beside (tcp-push-pull-16b): PLAIN costs nothing per message.
  securePushPull('tcp-plain-push-pull-16b', 'plain', 16, 200_000, { op: '>=', ratio: 5 }),
];
