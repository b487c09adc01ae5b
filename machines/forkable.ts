// Exploring a socket machine purely (xstate/graph, or xstate's `transition()` taken from one snapshot
// down several paths): the tables in a socket machine's context (peers, routes, subscriptions), and
// the Authenticator's address lists, are changed in place by the actions, so two steps from one
// snapshot would share them. A forkable machine copies those tables and arrays before each step. For
// tests and tools; sockets never need it.

import type { ActorScope, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';

/** A context value that can copy itself (PeerTable, RouteTable, the subscription tries). */
interface Copyable {
  clone(): unknown;
}

function isCopyable(x: unknown): x is Copyable {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Copyable>).clone === 'function';
}

/**
 * The context with each table in it copied, and each array (the Authenticator's address lists grow
 * in place); other values are shared: they are never changed in place.
 */
export function copyContext<T>(context: T): T {
  if (typeof context !== 'object' || context === null) return context;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) out[k] = isCopyable(v) ? v.clone() : Array.isArray(v) ? v.slice() : v;
  return out as T;
}

/**
 * `machine`, but each `transition` starts from a copy of the snapshot whose tables are copies, so the
 * snapshot it was given stays as it was. Built with the machine's public `resolveState`; socket
 * machines have no children or history, which that leaves out.
 *
 * ```ts
 * const paths = getShortestPaths(forkable(pubMachine), { events })
 * ```
 */
export function forkable<TMachine extends AnyStateMachine>(machine: TMachine): TMachine {
  const fork = Object.create(machine) as TMachine;
  Object.defineProperty(fork, 'transition', {
    configurable: true,
    value(this: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject, scope: ActorScope<AnyMachineSnapshot, EventObject>): AnyMachineSnapshot {
      const copy = snapshot.status === 'active'
        ? (machine.resolveState({ value: snapshot.value, context: copyContext(snapshot.context), historyValue: snapshot.historyValue } as never) as AnyMachineSnapshot)
        : snapshot;
      return machine.transition(copy as never, event as never, scope as never) as AnyMachineSnapshot;
    },
  });
  return fork;
}
