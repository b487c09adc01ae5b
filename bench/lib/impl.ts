// The two implementations a benchmark runs against, seen through the one API they share (the
// zeromq.js v6 shape): ours as it is published (dist/, which `npm run bench` builds first; set
// MONOCOQUE_BENCH_SOURCE=src to run the TypeScript sources through tsx instead), and zeromq.js
// (real libzmq) as the control.

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `node` is no ZeroMQ at all: the platform ceiling the benchmarks print beside the two (ceiling.ts, node-net.ts). */
export type ImplName = 'ours' | 'zeromq' | 'node';
/** The implementations every benchmark compares. */
export const IMPL_NAMES: readonly ImplName[] = ['ours', 'zeromq'];

/** The part of a socket the benchmarks use; both implementations have it. */
export interface BenchSocket {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  send(message: Uint8Array | string | (Uint8Array | string)[]): Promise<void>;
  receive(): Promise<Buffer[]>;
  close(): void;
  readonly lastEndpoint: string | null;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  linger: number;
}

export type SocketClass = new (options?: Record<string, unknown>) => BenchSocket;

/** Socket classes by zeromq.js name; a class our implementation does not export yet is absent. */
export interface Impl {
  readonly name: ImplName;
  readonly Push: SocketClass;
  readonly Pull: SocketClass;
  readonly Pair: SocketClass;
  readonly Request?: SocketClass;
  readonly Reply?: SocketClass;
  readonly Dealer?: SocketClass;
  readonly Router?: SocketClass;
  readonly Publisher?: SocketClass;
  readonly XPublisher?: SocketClass;
  readonly Subscriber?: SocketClass;
}

export type SocketTypeName = 'Push' | 'Pull' | 'Pair' | 'Request' | 'Reply' | 'Dealer' | 'Router' | 'Publisher' | 'XPublisher' | 'Subscriber';

function fromModule(name: ImplName, mod: object): Impl {
  const m = mod as Record<string, unknown>;
  const pick = (k: SocketTypeName): SocketClass | undefined => (typeof m[k] === 'function' ? (m[k] as SocketClass) : undefined);
  const need = (k: SocketTypeName): SocketClass => {
    const c = pick(k);
    if (c === undefined) throw new Error(`${name} does not export ${k}`);
    return c;
  };
  return {
    name,
    Push: need('Push'),
    Pull: need('Pull'),
    Pair: need('Pair'),
    Request: pick('Request'),
    Reply: pick('Reply'),
    Dealer: pick('Dealer'),
    Router: pick('Router'),
    Publisher: pick('Publisher'),
    XPublisher: pick('XPublisher'),
    Subscriber: pick('Subscriber'),
  };
}

/** Loads one implementation (only it: a child process running ours never loads libzmq). */
export async function loadImpl(name: ImplName): Promise<Impl> {
  if (name === 'node') {
    // One framed stream to one peer: it serves as Pair, and as a one-peer Push/Pull.
    const { NodeNetPair } = await import('./node-net.js');
    return { name, Push: NodeNetPair, Pull: NodeNetPair, Pair: NodeNetPair };
  }
  return name === 'ours' ? fromModule('ours', await loadOurs()) : fromModule('zeromq', await import('zeromq'));
}

/** Where ours is loaded from: `dist` (the built package, as users run it) or `src` (through tsx). */
export function oursSource(): 'dist' | 'src' {
  return process.env.MONOCOQUE_BENCH_SOURCE === 'src' ? 'src' : 'dist';
}

async function loadOurs(): Promise<typeof import('../../src/index.js')> {
  if (oursSource() === 'src') return import('../../src/index.js');
  try {
    // The same module as the sources, compiled by tsc (tsconfig.build.json): no tsx transform,
    // whose keep-names wrappers cost ours a little on every function and class it makes.
    return (await import('../../dist/src/index.js' as string)) as typeof import('../../src/index.js');
  } catch (e) {
    throw new Error(`bench: dist/src/index.js did not load (${(e as Error).message}); run \`npm run build\`, or set MONOCOQUE_BENCH_SOURCE=src`);
  }
}

/** The libzmq version under zeromq.js. */
export async function libzmqVersion(): Promise<string> {
  return (await import('zeromq')).version;
}

/** Why `impl` cannot run a benchmark that needs these socket types, or undefined if it can. */
export function missingTypes(impl: Impl, types: readonly SocketTypeName[]): string | undefined {
  const missing = types.filter((t) => impl[t] === undefined);
  return missing.length === 0 ? undefined : `${impl.name} does not export ${missing.join(', ')} yet`;
}

/** Builds a socket of a type the caller has checked is present. */
export function make(impl: Impl, type: SocketTypeName, options?: Record<string, unknown>): BenchSocket {
  const C = impl[type];
  if (C === undefined) throw new Error(`${impl.name} has no ${type}`);
  return new C(options);
}

/**
 * Whether `impl` can bind the given transport in this process: binds a PULL to a throwaway address
 * and reports the error code (EPROTONOSUPPORT while our tcp/ipc transport is missing).
 */
export async function probeTransport(impl: Impl, transport: 'tcp' | 'ipc'): Promise<string | undefined> {
  const s = new impl.Pull();
  try {
    await s.bind(transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${ipcPath('probe')}`);
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EPROTONOSUPPORT') return `${transport} transport not available yet in ${impl.name}`;
    return `${impl.name} cannot bind ${transport}: ${String(code ?? (e as Error).message)}`;
  } finally {
    s.close();
  }
}

let ipcCounter = 0;
const ipcPaths = new Set<string>();
/** A fresh ipc socket path under the temp directory, removed when this process exits. */
export function ipcPath(tag: string): string {
  const path = join(tmpdir(), `monocoque-bench-${process.pid}-${tag}-${ipcCounter++}.sock`);
  if (ipcPaths.size === 0) {
    process.on('exit', () => {
      for (const p of ipcPaths) rmSync(p, { force: true });
    });
  }
  ipcPaths.add(path);
  return path;
}
