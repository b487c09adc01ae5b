// Plain edges: a shortcut through xstate's transition algorithm for the edges that do nothing but
// change the state of a flat machine (REQ/REP's lockstep turns). Same machine, same events, same
// snapshots; only the time taken differs. Never changes what a machine decides.
//
// Why: xstate's macrostep is general SCXML (transition domains, exit and entry sets, an eventless
// scan after every step) and costs ~3 µs per event on this project's machines even for a bare
// toggle; a REQ/REP round trip is four such events. For an edge that has no guard, no actions, a
// single sibling target and no entry/exit/invoke/after/always on either end, the result of that
// algorithm is known in advance: the snapshot with the target's nodes, value and tags and
// everything else (context, children, history) unchanged. `test/machines/plain-edges.test.ts`
// checks, for every state each socket machine can reach and every event it names, that the
// shortcut returns what xstate's own `transition` returns.

import type { AnyStateMachine } from 'xstate';

/** What a plain edge leads to, worked out once per machine. */
interface PlainTarget {
  readonly root: unknown;
  readonly to: unknown;
  /** A self-edge without re-entry: xstate changes nothing and hands back the same snapshot. */
  readonly self: boolean;
  readonly value: string;
  readonly tags: readonly string[];
  /** The transition definition, for the `@xstate.microstep` inspection event. */
  readonly transitions: readonly unknown[];
}

// The parts of xstate's StateNode this file reads (public fields of `StateNode` in xstate 5).
interface Node {
  readonly key: string;
  readonly type: string;
  readonly parent?: Node;
  readonly states: Record<string, Node>;
  readonly tags: readonly string[];
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: readonly unknown[];
  readonly always?: readonly unknown[];
  readonly config: { readonly after?: unknown; readonly always?: unknown };
  readonly transitions: Map<string, readonly Transition[]>;
}

interface Transition {
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
  readonly reenter?: boolean;
  readonly target?: readonly Node[];
}

/** The fields of an xstate 5 machine snapshot (`createMachineSnapshot` in xstate's source). */
interface SnapshotFields {
  readonly status: string;
  readonly output: unknown;
  readonly error: unknown;
  readonly machine: unknown;
  readonly context: unknown;
  readonly _nodes: readonly unknown[];
  readonly value: unknown;
  readonly tags: ReadonlySet<string>;
  readonly children: unknown;
  readonly historyValue: unknown;
  readonly matches: unknown;
  readonly hasTag: unknown;
  readonly can: unknown;
  readonly getMeta: unknown;
  readonly toJSON: unknown;
}

interface ScopeShape {
  readonly self: unknown;
  readonly system: { _sendInspectionEvent(event: Record<string, unknown>): void };
}

/**
 * What xstate's `cloneMachineSnapshot` builds for a new configuration: every field of the snapshot
 * kept but the nodes, the value and the tags. Written out field by field, not spread: V8 makes a
 * spread of a spread slow (~0.4 µs here), and each snapshot is the spread of the one before. The
 * field list is xstate 5's `createMachineSnapshot`; the equivalence test fails if it changes.
 */
function nextSnapshot(s: SnapshotFields, edge: PlainTarget): SnapshotFields {
  return {
    status: s.status, output: s.output, error: s.error, machine: s.machine, context: s.context,
    _nodes: [edge.root, edge.to], value: edge.value, tags: new Set(edge.tags),
    children: s.children, historyValue: s.historyValue,
    matches: s.matches, hasTag: s.hasTag, can: s.can, getMeta: s.getMeta, toJSON: s.toJSON,
  };
}

/** Nothing runs on entering or leaving `node`, and it starts no timer or child. */
function isQuiet(node: Node): boolean {
  return node.entry.length === 0 && node.exit.length === 0 && node.invoke.length === 0
    && node.config.after === undefined && node.config.always === undefined && (node.always?.length ?? 0) === 0;
}

/**
 * The plain edges of a flat machine: for each top-level atomic state, the event types whose first
 * candidate transition is unguarded, has no actions and goes to a quiet top-level atomic state
 * (itself without re-entry, or a sibling). Empty for any machine that is not flat and quiet at the
 * root, so such machines always take xstate's path.
 */
export function plainEdgeTable(machine: AnyStateMachine): Map<unknown, Map<string, PlainTarget>> {
  const table = new Map<unknown, Map<string, PlainTarget>>();
  const root = machine.root as unknown as Node;
  if (root.type !== 'compound' || !isQuiet(root)) return table;
  const children = Object.values(root.states);
  if (children.some((c) => c.type === 'history')) return table;
  for (const from of children) {
    if (from.type !== 'atomic') continue;
    // A wildcard descriptor would join the candidates; leave such states to xstate.
    if ([...from.transitions.keys()].some((d) => d.includes('*'))) continue;
    const edges = new Map<string, PlainTarget>();
    for (const [type, candidates] of from.transitions) {
      // xstate handles its own events (`xstate.stop`, `xstate.init`, errors) before any transition.
      if (type.startsWith('xstate.')) continue;
      const t = candidates[0];
      if (t === undefined || t.guard !== undefined || t.actions.length !== 0 || t.target?.length !== 1) continue;
      const to = t.target[0] as Node;
      if (to.parent !== root || to.type !== 'atomic' || !isQuiet(to)) continue;
      if (to === from ? t.reenter === true : !isQuiet(from)) continue;
      edges.set(type, { root, to, self: to === from, value: to.key, tags: [...root.tags, ...to.tags], transitions: [t] });
    }
    if (edges.size > 0) table.set(from, edges);
  }
  return table;
}

const wrapped = new WeakSet<object>();

/** Whether `machine` takes its plain edges directly (it came from {@link withPlainEdges} or a
 * `provide()` of such a machine). */
export function hasPlainEdges(machine: AnyStateMachine): boolean {
  return wrapped.has(machine);
}

/**
 * Returns `machine` with its plain edges taken directly (see the top of this file), and the same
 * for every machine `provide()` derives from it. Every other event goes through xstate unchanged.
 */
export function withPlainEdges<TMachine extends AnyStateMachine>(machine: TMachine): TMachine {
  wrapped.add(machine);
  const table = plainEdgeTable(machine);
  const proto = Object.getPrototypeOf(machine) as AnyStateMachine;
  const slowTransition = proto.transition;
  const provide = proto.provide;
  Object.defineProperties(machine, {
    transition: {
      configurable: true,
      value(this: AnyStateMachine, snapshot: SnapshotFields, event: { type: string }, scope: ScopeShape): unknown {
        const nodes = snapshot._nodes;
        if (nodes.length === 2 && snapshot.status === 'active') {
          const edge = table.get(nodes[1])?.get(event.type);
          if (edge !== undefined) {
            const next = edge.self ? snapshot : nextSnapshot(snapshot, edge);
            scope.system._sendInspectionEvent({ type: '@xstate.microstep', actorRef: scope.self, event, snapshot: next, _transitions: edge.transitions });
            return next;
          }
        }
        return slowTransition.call(this, snapshot as never, event as never, scope as never);
      },
    },
    provide: {
      configurable: true,
      value(this: AnyStateMachine, implementations: unknown): AnyStateMachine {
        return withPlainEdges(provide.call(this, implementations as never));
      },
    },
  });
  return machine;
}
