// Shared pieces of the model-based socket tests: which paths to replay (every transition once),
// how to name them, how a replay makes peers come and go and fills their pipes, and the probes and
// checks every replay uses after each step. Test-only: no socket logic here.

import { afterEach, expect } from 'vitest';
import { transition } from 'xstate';
import type { AnyStateMachine, EventFromLogic, SnapshotFrom } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { forkable } from '../../machines/forkable.js';
import type { CloseEvent } from '../../machines/peers.js';
import type { MessageInput } from '../../src/core/frame.js';

export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** A `track` for one test file: every socket handed to it is closed after each test, passed or failed. */
export function closedAfterEach(): <S extends { close(): void }>(s: S) => S {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  return (s) => {
    open.push(s);
    return s;
  };
}

/** 'ok' when the call completes, else the error's `code` (EAGAIN, EFSM, EBADF, …). */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** The body of a received message, or its error code. */
export async function received(p: Promise<Buffer[]>): Promise<string[] | string> {
  try {
    return (await p).map((f) => f.toString());
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

export interface Step<S, E> {
  event: E;
  state: S;
}

export interface Path<S, E> {
  state: S;
  steps: Step<S, E>[];
}

type Snap<M extends AnyStateMachine> = SnapshotFrom<M>;
type Ev<M extends AnyStateMachine> = EventFromLogic<M>;

export interface CoverOptions<M extends AnyStateMachine> {
  /** Events the runtime can produce from a state (with their payloads). */
  events: (snapshot: Snap<M>) => Ev<M>[];
  /** A finite view of a state (leave out counters). */
  serializeState?: (snapshot: Snap<M>) => string;
  input?: unknown;
}

/**
 * Every transition once: the shortest path to each state, then each event the runtime can
 * produce there, one step further (so each edge of the reachable graph ends some path).
 */
export function transitionCover<M extends AnyStateMachine>(original: M, options: CoverOptions<M>): Path<Snap<M>, Ev<M>>[] {
  // The machines change their tables in place: the walk steps through forkable copies.
  const machine = forkable(original);
  const walk: Record<string, unknown> = { events: options.events, serializeState: options.serializeState ?? canonical };
  if (options.input !== undefined) walk.input = options.input;
  const shortest = getShortestPaths(machine, walk as never) as unknown as Path<Snap<M>, Ev<M>>[];
  const seen = new Set<string>();
  const once = (p: Path<Snap<M>, Ev<M>>) => {
    const key = JSON.stringify(p.steps.map((s) => s.event));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  // A shortest path extended by one step can be the shortest path to another state: kept once.
  return shortest.flatMap((path) => [
    path,
    ...options.events(path.state).map((event) => {
      const [state] = transition(machine, path.state as never, event as never) as unknown as [Snap<M>];
      return { ...path, state, steps: [...path.steps, { event, state }] };
    }),
  ]).filter(once);
}

/**
 * A state as value and context, with the peers in id order: the order peers attached in makes no
 * difference the tests can see, and would multiply the states.
 */
export function canonical(s: { value: unknown; context?: unknown }): string {
  // The tables serialise in key order (a peer table by id), so the JSON is already canonical.
  return JSON.stringify([s.value, s.context ?? {}]);
}

/** All paths that visit no state twice, of at most `maxSteps` events. */
export function simplePaths<M extends AnyStateMachine>(original: M, options: CoverOptions<M>, maxSteps: number): Path<Snap<M>, Ev<M>>[] {
  const machine = forkable(original);
  const walk: Record<string, unknown> = { events: options.events };
  if (options.serializeState !== undefined) walk.serializeState = options.serializeState;
  if (options.input !== undefined) walk.input = options.input;
  const all = getSimplePaths(machine, walk as never) as unknown as Path<Snap<M>, Ev<M>>[];
  return all.filter((p) => p.steps.length - 1 <= maxSteps);
}

/** The effects (action types, with params) a step asks the runtime for. */
export function effectsOf<M extends AnyStateMachine>(machine: M, before: Snap<M>, event: Ev<M>): { type: string; params: unknown }[] {
  const [, actions] = transition(forkable(machine), before as never, event as never);
  return actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
}

/** `peer.attached(1) → pipe.muted(1) → close`: a test name. */
export function pathName(path: { steps: readonly { event: { type: string } }[] }): string {
  const parts = path.steps.slice(1).map((s) => {
    const e = s.event as Record<string, unknown> & { type: string };
    const args: string[] = [];
    if ('peerId' in e) args.push(String(e.peerId));
    if ('prefix' in e) args.push(JSON.stringify(Buffer.from(String(e.prefix), 'hex').toString()));
    if ('name' in e) args.push(`${String(e.name)}=${String(e.value)}`);
    if (e.type === 'configure') args.push(JSON.stringify({ ...e, type: undefined }));
    if (e.type === 'close') args.push(`linger ${String(e.linger)}`);
    return args.length > 0 ? `${e.type}(${args.join(', ')})` : e.type;
  });
  return parts.join(' → ') || '(start)';
}

/** Unique test names (it.each needs no two equal, and two payloads can print alike). */
export function named<P extends { steps: readonly { event: { type: string } }[] }>(paths: P[]): [string, P][] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const base = pathName(p);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return [n === 1 ? base : `${base} #${n}`, p];
  });
}

/**
 * The steps to replay (the first only names the start), each with the model's state before it, the
 * next event's type (which tells replayClosing how long to linger), the peer label its event names
 * and the peer in `peers` under that label (looked up as the step starts: the steps add and remove).
 */
export function* replaySteps<S, E extends { type: string }, L, P>(
  path: { steps: readonly Step<S, E>[] },
  peers: Map<L, P>,
): Generator<{ step: Step<S, E>; before: S; next: string | undefined; label: L | undefined; peer: P | undefined }> {
  for (let i = 1; i < path.steps.length; i++) {
    const step = path.steps[i];
    const label = 'peerId' in step.event ? (step.event.peerId as L) : undefined;
    const peer = label === undefined ? undefined : peers.get(label);
    yield { step, before: path.steps[i - 1].state, next: path.steps[i + 1]?.event.type, label, peer };
  }
}

/** The close events a state offers: linger 0, and while some peer is mute (its full pipe holds `queued` messages) one that lingers too. */
export function closeEvents(peers: Iterable<{ ready: boolean }>, queued: number): CloseEvent[] {
  if (![...peers].some((p) => !p.ready)) return [{ type: 'close', linger: 0, queued: 0 }];
  return [{ type: 'close', linger: 0, queued }, { type: 'close', linger: -1, queued }];
}

/** What reads a socket's pipes: its peer host (the runtime's own view; a socket hands that to its pipes). */
function readerOf(other: object): unknown {
  return (other as { host?: unknown }).host ?? other;
}

/** The pipe a socket writes toward `reader` (the runtime's own view: to know when a fill is done). */
export function pipeToward(sock: object, reader: object): { writable: boolean; size: number } | undefined {
  const peers = (sock as unknown as { peers: Map<number, { out: { reader: unknown; writable: boolean; size: number } }> }).peers;
  const host = readerOf(reader);
  for (const p of peers.values()) if (p.out.reader === host) return p.out;
  return undefined;
}

/** The runtime's peer id of the connection between `sock` and `other` (undefined if none). */
export function peerIdOf(sock: object, other: object): number | undefined {
  const peers = (sock as unknown as { peers: Map<number, { id: number; out: { reader: unknown } }> }).peers;
  const host = readerOf(other);
  for (const p of peers.values()) if (p.out.reader === host) return p.id;
  return undefined;
}

/** The label in `peers` of the connection `sock` knows as peer `id` (-1 if none). */
export function labelOf<L>(sock: object, peers: Map<L, object>, id: number): L | -1 {
  for (const [l, p] of peers) if (peerIdOf(sock, p) === id) return l;
  return -1;
}

/** Peer `label` connects to the socket under test at `endpoint`, and is kept under that label. */
export function connectPeer<L, P extends { connect(endpoint: string): void }>(peers: Map<L, P>, label: L, peer: P, endpoint: string): void {
  peer.connect(endpoint);
  peers.set(label, peer);
}

/** Peer `label` binds `name`, the socket under test connects to it, and it is kept under that label. */
export async function bindPeer<L, P extends { bind(endpoint: string): Promise<void> }>(
  sock: { connect(endpoint: string): void },
  peers: Map<L, P>,
  label: L,
  peer: P,
  name: string,
): Promise<void> {
  await peer.bind(name);
  sock.connect(name);
  peers.set(label, peer);
}

/** Peer `label` leaves: closed (if there) and forgotten. */
export function detachPeer<L>(peers: Map<L, { close(): void }>, label: L): void {
  peers.get(label)?.close();
  peers.delete(label);
}

/**
 * Everything receivable now, as strings. Stops at EAGAIN too: a SUB whose queue holds only
 * messages it no longer wants says `readable` (see the report on issue 3 item 6), and the
 * receive that finds nothing discards them.
 */
export async function drain(sock: { readable: boolean; receive(): Promise<Buffer[]> }): Promise<string[][]> {
  const out: string[][] = [];
  while (sock.readable) {
    try {
      out.push((await sock.receive()).map((f) => f.toString()));
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') throw e;
      break;
    }
  }
  await tick();
  return out;
}

export const hex = (s: string): string => Buffer.from(s).toString('hex');

/** A `pipe.muted` step: sends until the pipe toward `reader` is full, every send taken at once. */
export async function fill(sock: { send(message: MessageInput): Promise<void> }, reader: object, message: () => MessageInput): Promise<void> {
  while (pipeToward(sock, reader)?.writable) expect(await outcome(sock.send(message()))).toBe('ok');
}

/** Once a fill has landed (a tick): drains the peers but `label` that the model keeps ready, as the fill may have fed them too. */
export async function drainOthers<L extends number>(
  peers: Map<L, { readable: boolean; receive(): Promise<Buffer[]> }>,
  label: L | undefined,
  model: Iterable<{ id: number; ready: boolean }>,
): Promise<void> {
  await tick();
  const entries = [...model];
  for (const [other, p] of peers) if (other !== label && entries.find((x) => x.id === other)?.ready === true) await drain(p);
}

/** After a tick, the socket's machine is where the model is: returns the snapshot it checked. */
export async function expectState<S extends { getSnapshot(): { value: unknown } }>(sock: S, state: { value: unknown }): Promise<ReturnType<S['getSnapshot']>> {
  await tick();
  const snap = sock.getSnapshot() as ReturnType<S['getSnapshot']>;
  expect(snap.value).toEqual(state.value);
  return snap;
}

/** Whether a state is one of the ends every socket machine shares: lingering, or closed. */
export const ended = (s: { value: unknown }): boolean => s.value === 'lingering' || s.value === 'closed';

/**
 * Once the model has ended (lingering or closed), sending `message` and receiving are EBADF: true
 * then, and the replay probes that step no further.
 */
export async function expectEnded(
  sock: { send(message: MessageInput): Promise<void>; receive(): Promise<Buffer[]> },
  state: { value: unknown },
  message: MessageInput = 'x',
): Promise<boolean> {
  if (!ended(state)) return false;
  expect(await outcome(sock.send(message))).toBe('EBADF');
  expect(await outcome(sock.receive())).toBe('EBADF');
  return true;
}

/**
 * The linger of a close whose next step is `linger.expired`. The check that the socket lingers
 * comes a timer tick after close(), so the linger must outlast any stall between the two: at 5 ms
 * a whole-suite run once found the socket closed already (2026-12-07, REQ on ROUTER peers).
 */
const LINGER_STEP = 100;

/**
 * Replays the closing events every socket machine shares: `close` (linger 0 as the model says,
 * else -1 so the peers' reads end it, or LINGER_STEP ms when the model's next step is the timer),
 * `pipes.drained` (the peers read everything) and `linger.expired` (the timer ran out).
 */
export async function replayClosing(
  sock: { linger: number; close(): void; whenReleased(): Promise<void> },
  event: { type: string; linger?: number },
  next: string | undefined,
  peers: Iterable<{ readable: boolean; receive(): Promise<Buffer[]> }>,
): Promise<void> {
  if (event.type === 'close') {
    sock.linger = event.linger === 0 ? 0 : next === 'linger.expired' ? LINGER_STEP : -1;
    sock.close();
    return;
  }
  if (event.type === 'pipes.drained') for (const p of peers) await drain(p);
  await sock.whenReleased();
}
