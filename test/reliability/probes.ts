// What a process holds, read the same way before and after a churn run: open file descriptors
// (/proc/self/fd), Node's active handles and timers (process.getActiveResourcesInfo()), the heap after
// a full collection, and the actors of one Context that are still running (seen through its
// inspection observer, held weakly so the census itself keeps nothing alive).

import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { openConnections } from '../../src/transport/net-transport.js';

export interface Resources {
  /** Entries of /proc/self/fd. */
  fds: number;
  /**
   * tcp/ipc connections not released (net-transport's count): our streams and their timers are
   * unref'd, as an open socket keeps no process alive, so `handles` and `timers` no longer see them.
   */
  connections: number;
  /** process.getActiveResourcesInfo() without timers: sockets, servers, pipes, requests. */
  handles: number;
  /** Active (ref'd) timers: the `Timeout` entries of process.getActiveResourcesInfo(). */
  timers: number;
  /** heapUsed after a full collection, in bytes. */
  heap: number;
  /** Actors of the watched Context that are running (snapshot status `active`). */
  actors: number;
  /** Actor objects of the watched Context not collected, running or not. */
  actorObjects: number;
  /** The handles by kind, for a report that names what grew. */
  kinds: Record<string, number>;
}

/** A full-collection gc() even without --expose-gc (the V8 flag set at run time, the function taken from a fresh context). */
export function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const gc = collector();

const SENTINEL = Symbol('sentinel');

/**
 * Objects reported once garbage collected (a FinalizationRegistry, which holds none of them, where a
 * WeakRef's deref() would keep its target for the rest of the job), and a way to know the reports
 * are complete: `flush()` collects until an object registered after the others is reported, and a
 * registry reports what one collection found in one go.
 */
export class Finalizations<T> {
  readonly #registry: FinalizationRegistry<T | typeof SENTINEL>;
  #sentinelSeen = false;

  constructor(onCollected: (held: T) => void) {
    this.#registry = new FinalizationRegistry((held) => {
      if (held === SENTINEL) this.#sentinelSeen = true;
      else onCollected(held);
    });
  }

  register(target: object, held: T): void {
    this.#registry.register(target, held);
  }

  /** Resolves once everything collected so far has been reported. */
  async flush(): Promise<void> {
    this.#sentinelSeen = false;
    this.#registry.register({}, SENTINEL);
    // Bounded, as a guard: a V8 that never ran cleanup tasks would fail here instead of hanging.
    for (let turns = 0; !this.#sentinelSeen; turns++) {
      if (turns === 1000) throw new Error('FinalizationRegistry callbacks did not run');
      await new Promise((r) => setImmediate(r));
      gc();
    }
  }
}

/**
 * Counts the actors of the Contexts whose `inspect` option it is: those running (as their inspection
 * events tell: created, then a snapshot whose status is `done`, `stopped` or `error` ends them) and
 * those still in memory (created and not reported collected). It keeps no actor alive.
 */
export class ActorCensus {
  /** Running actors: sessionId -> the actor's id (its machine's, for a report that names what grew). */
  readonly #running = new Map<string, string>();
  /** Actors not collected: sessionId -> id and the last status seen. */
  readonly #inMemory = new Map<string, { id: string; status: string }>();
  readonly #collected = new Finalizations<string>((sessionId) => {
    this.#inMemory.delete(sessionId);
    // Collected without a last snapshot (never started, say): not running either.
    this.#running.delete(sessionId);
  });

  readonly inspect = (e: InspectionEvent): void => {
    if (e.type === '@xstate.actor') {
      const actor = e.actorRef as AnyActorRef & { logic?: { id?: string } };
      const id = actor.logic?.id ?? actor.id;
      this.#running.set(actor.sessionId, id);
      this.#inMemory.set(actor.sessionId, { id, status: 'active' });
      this.#collected.register(actor, actor.sessionId);
    } else if (e.type === '@xstate.snapshot') {
      const status = (e.snapshot as { status?: string }).status ?? 'active';
      const known = this.#inMemory.get(e.actorRef.sessionId);
      if (known !== undefined) known.status = status;
      if (status !== 'active') this.#running.delete(e.actorRef.sessionId);
    }
  };

  /** Collects and waits for the reports of what was collected (call before reading `reachable`). */
  flush(): Promise<void> {
    return this.#collected.flush();
  }

  /** Actors running: created and not yet done, stopped or failed. */
  get live(): number {
    return this.#running.size;
  }

  /** Actor objects not collected (after `flush()`: a stopped actor still held is a leak). */
  get reachable(): number {
    return this.#inMemory.size;
  }

  /** Actor objects not collected, by id and last status: what a report names when they grew. */
  reachableById(): Record<string, number> {
    const by: Record<string, number> = {};
    for (const { id, status } of this.#inMemory.values()) by[`${id} (${status})`] = (by[`${id} (${status})`] ?? 0) + 1;
    return by;
  }
}

/** Collects garbage until the heap stops shrinking (finalizers and weak callbacks get turns between). */
export async function settleHeap(): Promise<number> {
  let heap = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    // A turn first: what the current job touched lets go, and finalizers of the last round run.
    await new Promise((r) => setImmediate(r));
    gc();
    const now = process.memoryUsage().heapUsed;
    if (now >= heap) return Math.min(now, heap);
    heap = now;
  }
  return heap;
}

export async function measure(census?: ActorCensus): Promise<Resources> {
  // A closed tcp/ipc connection is released once its stream has closed, which on a loaded machine
  // can take more than the few turns below: up to a second for them to finish. One that never
  // does (a leak) is still there after it, and counted.
  for (let i = 0; i < 100 && openConnections() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  // Collected and reported first, so the census's own table holds only actors still in memory.
  await census?.flush();
  const heap = await settleHeap();
  await census?.flush();
  const kinds: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) kinds[kind] = (kinds[kind] ?? 0) + 1;
  const timers = kinds.Timeout ?? 0;
  let handles = 0;
  for (const [kind, n] of Object.entries(kinds)) if (kind !== 'Timeout' && kind !== 'Immediate') handles += n;
  return { fds: readdirSync('/proc/self/fd').length, connections: openConnections(), handles, timers, heap, actors: census?.live ?? 0, actorObjects: census?.reachable ?? 0, kinds };
}

/** after − before, field by field (kinds: those that changed). */
export function growth(before: Resources, after: Resources): Omit<Resources, 'kinds'> & { kinds: Record<string, number> } {
  const kinds: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before.kinds), ...Object.keys(after.kinds)])) {
    const d = (after.kinds[k] ?? 0) - (before.kinds[k] ?? 0);
    if (d !== 0) kinds[k] = d;
  }
  return {
    fds: after.fds - before.fds,
    connections: after.connections - before.connections,
    handles: after.handles - before.handles,
    timers: after.timers - before.timers,
    heap: after.heap - before.heap,
    actors: after.actors - before.actors,
    actorObjects: after.actorObjects - before.actorObjects,
    kinds,
  };
}

