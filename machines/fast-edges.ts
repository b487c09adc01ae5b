// Fast edges: a shortcut through xstate's transition algorithm for the edges of a machine that only
// run named effects and in-place table updates, and either stay where they are or move between
// quiet states: REQ/REP's lockstep turns, four per round trip, the subscriptions a publisher hears
// by the thousand, a peer attaching among a hundred thousand. Same machine, same events, same snapshots; only
// the time taken differs. Built on xstate's public API only: the machine's definition (`root`, its
// state nodes' `on` maps), its provided implementations, `resolveState`, and the actor scope's
// `actionExecutor`.
//
// Why: xstate's macrostep is general SCXML (transition domains, exit and entry sets, an eventless
// scan after every step) and costs microseconds per event even for a bare toggle. For an edge whose
// guard (if any) and actions are named functions the machine marks as safe for the shortcut, in a
// configuration with no eventless transitions, the outcome of that algorithm is known in advance:
// run the guard, run the actions in order, and hand back the same snapshot (a transition without a
// target) or the snapshot of the target state with the same context. That is `resolveState`'s,
// made once per (machine, target) and copied with each context (see snapshotAt), then kept per
// (context object, target) once a context takes the edge again. `test/machines/fast-edges.test.ts`
// checks, for every state the machines reach and every event they name, that the shortcut returns
// what xstate's own `transition` returns and asks for the same effects.

import { assign } from 'xstate';
import type { ActorScope, AnyMachineSnapshot, AnyStateMachine, AnyStateNode, EventObject, MachineContext, TransitionDefinition } from 'xstate';

/** What an edge may use and still be taken by the shortcut. */
export interface FastEdgeOptions {
  /** Guards that are pure functions of `context` and `event`. */
  guards?: readonly string[];
  /** Actions that are effects, run through the actor's executor as xstate runs custom actions. */
  effects?: readonly string[];
  /**
   * Actions that are `assign`s changing only tables and records inside context, in place: for each,
   * the in-place change itself. The shortcut runs the change and keeps the context object (so the
   * snapshot can be reused); xstate's path runs the `assign`, whose new context holds the same
   * changed objects.
   */
  updates?: Readonly<Record<string, (context: never, event: never) => void>>;
}

/** A change to tables and records inside a machine's context, made in place. */
export type InPlaceUpdate<TContext, TEvent> = (context: TContext, event: TEvent) => void;

/**
 * The `assign` actions for a machine's in-place updates, one per name: each runs its update and
 * replaces no field. A machine spreads these into its actions and gives the same record to
 * {@link withFastEdges} as `updates`, so the two paths run one function.
 */
export function inPlaceActions<TContext extends MachineContext, TEvent extends EventObject, TUpdates extends Record<string, InPlaceUpdate<TContext, TEvent>>>(updates: TUpdates) {
  const actions = {} as Record<keyof TUpdates, ReturnType<typeof assign<TContext, TEvent, undefined, TEvent, never>>>;
  for (const name of Object.keys(updates) as (keyof TUpdates & string)[]) {
    const update = updates[name] as InPlaceUpdate<TContext, TEvent>;
    actions[name] = assign<TContext, TEvent, undefined, TEvent, never>(({ context, event }) => {
      update(context, event);
      return {};
    });
  }
  return actions;
}

/** An action as a transition names it: its name and its params (none, an object, or a function of context and event). */
interface ActionRef {
  readonly name: string;
  readonly params: unknown;
}

interface Candidate {
  /** The state node (path, dot-joined) whose transition this is: the atomic state or an ancestor. */
  readonly source: string;
  /** The guard's name, if the transition has one. */
  readonly guard: string | undefined;
  /** In order: an effect or an update (see FastEdgeOptions); the target's entry actions come last. */
  readonly actions: readonly ActionRef[];
  /** The target state's path (dot-joined) when the edge moves, or undefined when it stays. */
  readonly target: string | undefined;
  /** The target is a top-level final state (the machine is done when the edge is taken). */
  readonly final: boolean;
  /** False when this candidate needs xstate's algorithm (an assign, an unnamed guard, a nested target…). */
  readonly fast: boolean;
}

type Table = Map<string, Map<string, readonly Candidate[]>>;

/** An action by name, or undefined when it is anything else (an inline function, a built-in). */
function actionRef(x: unknown): ActionRef | undefined {
  if (typeof x === 'string') return { name: x, params: undefined };
  if (typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string') {
    return { name: (x as { type: string }).type, params: (x as { params?: unknown }).params };
  }
  return undefined;
}

/** A guard by name (without params), or undefined when it is anything else (inline, `and`, `not`, …). */
function guardName(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string' && (x as { params?: unknown }).params === undefined) {
    return (x as { type: string }).type;
  }
  return undefined;
}

/** Nothing runs on leaving `node`: no exit action, child or timer to stop, no history to record. */
function leavesQuietly(node: AnyStateNode): boolean {
  return node.exit.length === 0 && node.invoke.length === 0 && node.after.length === 0 && !Object.values(node.states).some((c) => c.type === 'history');
}

/**
 * What runs on entering `node`, when that is only named actions the shortcut may run (its entry
 * actions, in order); undefined when entering it starts a child or timer, checks eventless
 * transitions, or runs anything else. A final state qualifies only at the top (the machine is
 * then done) and without output of its own.
 */
function entryOf(node: AnyStateNode, names: ReadonlySet<string>, mayCheckAlways = false): ActionRef[] | undefined {
  if (node.invoke.length > 0 || node.after.length > 0 || (!mayCheckAlways && (node.always?.length ?? 0) > 0)) return undefined;
  // A top-level final state ends the machine: xstate then runs its exit and the root's (neither here).
  if (node.type === 'final' && (node.parent?.parent !== undefined || node.output !== undefined || node.exit.length > 0 || (node.parent?.exit.length ?? 0) > 0)) return undefined;
  const refs: ActionRef[] = [];
  for (const a of node.entry) {
    const r = actionRef(a);
    if (r === undefined || !names.has(r.name)) return undefined;
    refs.push(r);
  }
  return refs;
}

function isDescendant(node: AnyStateNode, of: AnyStateNode): boolean {
  for (let n = node.parent; n !== undefined; n = n.parent) if (n === of) return true;
  return false;
}

/** Where a transition goes when the shortcut may take it: the target's path, and the entry actions it runs. */
interface Move {
  readonly path: string;
  readonly entry: readonly ActionRef[];
  /** The target is a top-level final state: the machine is done. */
  readonly final: boolean;
}

/**
 * Where a transition from `source` to `target` leaves the configuration `chain` (atomic state
 * first, then its ancestors), when the states it exits run nothing on the way out and the states
 * it enters run only named actions (`names`) on the way in: the move, or null for a transition
 * that changes no state. Undefined when xstate would run anything else on the way (exit actions,
 * children, timers, eventless steps), enter a compound, parallel or history state, or re-enter.
 * The nodes exited and entered are found as xstate finds them: the transition's domain is its
 * source when the target is the source or below it, else their nearest common ancestor (xstate's
 * `getTransitionDomain`).
 */
function plainMove(chain: readonly AnyStateNode[], source: AnyStateNode, target: AnyStateNode, reenter: boolean, names: ReadonlySet<string>, walksOn = false): Move | null | undefined {
  const atomic = chain[0] as AnyStateNode;
  if (reenter || (target.type !== 'atomic' && target.type !== 'final')) return undefined;
  // To itself, from the state itself: nothing exits or enters.
  if (target === source && source === atomic) return null;
  let domain: AnyStateNode | undefined = source;
  if (target !== source && !isDescendant(target, source)) {
    domain = undefined;
    for (let n = source.parent; n !== undefined; n = n.parent) {
      if (isDescendant(target, n)) {
        domain = n;
        break;
      }
    }
  }
  if (domain === undefined || domain.type !== 'compound') return undefined;
  // Exited: the active states below the domain. Entered: the path from below the domain to the target.
  for (const n of chain) {
    if (n === domain) break;
    if (!leavesQuietly(n) || n.type === 'parallel') return undefined;
  }
  const entered: AnyStateNode[] = [];
  for (let n: AnyStateNode | undefined = target; n !== undefined && n !== domain; n = n.parent) {
    if (n.type === 'parallel' || n.type === 'history') return undefined;
    entered.unshift(n);
  }
  const entry: ActionRef[] = [];
  for (const n of entered) {
    const refs = entryOf(n, names, walksOn && n === target);
    if (refs === undefined) return undefined;
    entry.push(...refs);
  }
  return { path: target.path.join('.'), entry, final: target.type === 'final' };
}

/** The atomic states of `node` that are not inside a parallel region, with their ancestors up to the root. */
function atomicChains(node: AnyStateNode, chain: AnyStateNode[], out: AnyStateNode[][]): void {
  const here = [node, ...chain];
  if (node.type === 'atomic') out.push(here);
  if (node.type !== 'compound') return; // parallel regions and history are left to xstate
  for (const child of Object.values(node.states)) atomicChains(child, here, out);
}

/**
 * The edges of `machine` the shortcut may take: for each atomic state (outside parallel regions,
 * in a configuration without eventless transitions), each event type its configuration handles,
 * the candidate transitions xstate would try in order (the state's own, then its parent's, up to
 * the root), each marked fast or not. Keys are state paths joined with `.`.
 */
export function fastEdgeTable(machine: AnyStateMachine, options: FastEdgeOptions): Table {
  const table: Table = new Map();
  const root = machine.root;
  if (root.type !== 'compound') return table;
  const guards = new Set(options.guards ?? []);
  const actions = new Set([...(options.effects ?? []), ...Object.keys(options.updates ?? {})]);
  const chains: AnyStateNode[][] = [];
  atomicChains(root, [], chains);
  for (const chain of chains) {
    const atomic = chain[0] as AnyStateNode;
    // An eventless transition anywhere in the configuration is re-checked after every step.
    if (chain.some((n) => (n.always?.length ?? 0) > 0)) continue;
    // A wildcard descriptor joins candidates across event types: leave such states to xstate.
    if (chain.some((n) => Object.keys(n.on).some((d) => d.includes('*')))) continue;
    const types = new Set<string>();
    for (const n of chain) for (const type of Object.keys(n.on)) if (mayJudge(type)) types.add(type);
    const byType = new Map<string, readonly Candidate[]>();
    for (const type of types) {
      const candidates: Candidate[] = [];
      for (const source of chain) {
        for (const t of (source.on as Record<string, readonly TransitionDefinition<MachineContext, EventObject>[] | undefined>)[type] ?? []) {
          const guard = t.guard === undefined ? undefined : guardName(t.guard);
          const refs = t.actions.map(actionRef);
          const move = t.target === undefined ? null : t.target.length === 1 ? plainMove(chain, source, t.target[0] as AnyStateNode, t.reenter === true, actions) : undefined;
          const fast = (t.guard === undefined || (guard !== undefined && guards.has(guard)))
            && refs.every((r) => r !== undefined && actions.has(r.name))
            && move !== undefined;
          candidates.push({
            source: source.path.join('.'),
            guard,
            actions: [...refs.filter((r): r is ActionRef => r !== undefined), ...(move?.entry ?? [])],
            target: move?.path,
            final: move?.final === true,
            fast,
          });
        }
      }
      byType.set(type, candidates);
    }
    table.set(atomic.path.join('.'), byType);
  }
  return table;
}

const DONE_EVENT = 'xstate.done.actor.';
const ERROR_EVENT = 'xstate.error.actor.';

/**
 * Whether the shortcut may judge events of this type: the machine's own events, and a child's
 * done and error events (plain events to the parent); never xstate's init, stop or other internals.
 */
function mayJudge(type: string): boolean {
  return !type.startsWith('xstate.') || type.startsWith(DONE_EVENT) || type.startsWith(ERROR_EVENT);
}

/**
 * What a table keyed by state path holds for a non-parallel snapshot value (`'idle'`, or
 * `{ open: 'flowing' }` for `'open.flowing'`), found by walking the value down a tree of the paths'
 * parts: no string is built and nothing is kept per value (each snapshot has its own value object).
 */
interface PathNode<T> {
  here?: T;
  next?: Map<string, PathNode<T>>;
}

function pathTree<T>(byPath: ReadonlyMap<string, T>): PathNode<T> {
  const root: PathNode<T> = {};
  for (const [path, item] of byPath) {
    let node = root;
    for (const part of path.split('.')) {
      const next = (node.next ??= new Map());
      let child = next.get(part);
      if (child === undefined) next.set(part, (child = {}));
      node = child;
    }
    node.here = item;
  }
  return root;
}

function findByValue<T>(root: PathNode<T>, value: unknown): T | undefined {
  let node: PathNode<T> | undefined = root;
  for (;;) {
    if (typeof value === 'string') return node.next?.get(value)?.here;
    if (typeof value !== 'object' || value === null) return undefined;
    let only: string | undefined;
    for (const name in value) {
      if (only !== undefined) return undefined; // parallel: not for the shortcut
      only = name;
    }
    if (only === undefined) return undefined;
    node = node.next?.get(only);
    if (node === undefined) return undefined;
    value = (value as Record<string, unknown>)[only];
  }
}

/** The state value of a path (`'open.flowing'` → `{ open: 'flowing' }`), made once per path and frozen. */
const values = new Map<string, string | Readonly<Record<string, unknown>>>();
function valueOf(path: string): string | Readonly<Record<string, unknown>> {
  let value = values.get(path);
  if (value !== undefined) return value;
  const parts = path.split('.');
  value = parts.pop() as string;
  while (parts.length > 0) value = Object.freeze({ [parts.pop() as string]: value });
  values.set(path, value);
  return value;
}

/** An action of the fast start, looked up in the machine's implementations. */
type StartStep = { readonly update: (context: never, event: never) => void } | { readonly effect: string; readonly params: unknown; readonly exec: ((args: unknown, params: unknown) => void) | undefined };

/** An eventless transition the fast start may take: its guard, its actions with the target's entry, where it goes. */
interface StartEdge {
  readonly guard: ((args: unknown, params: unknown) => boolean) | undefined;
  readonly steps: readonly StartStep[];
  readonly target: AnyStateNode;
  readonly move: Move;
}

/**
 * How a machine starts without xstate's initial macrostep: the atomic state its initial states lead
 * to and the entry actions on the way, then for each atomic state it may pass through, its
 * eventless transitions in order (null where they are not all for the shortcut).
 */
interface StartPlan {
  readonly first: AnyStateNode;
  readonly entry: readonly StartStep[];
  readonly always: Map<AnyStateNode, readonly StartEdge[] | null>;
}

function startStep(m: AnyStateMachine, ref: ActionRef, updates: ReadonlyMap<string, (context: never, event: never) => void>): StartStep {
  const update = updates.get(ref.name);
  return update !== undefined ? { update } : { effect: ref.name, params: ref.params, exec: m.implementations.actions[ref.name] as ((args: unknown, params: unknown) => void) | undefined };
}

/**
 * The fast start's plan, or null when the start needs xstate: the machine (a compound root with no
 * entry actions of its own) must enter its initial states running only named actions, with no
 * children, timers or parallel regions on the way. Eventless transitions are followed when their
 * guards are pure and named and their moves qualify as fast edges' do (see plainMove).
 */
function planStart(m: AnyStateMachine, options: FastEdgeOptions): StartPlan | null {
  const root = m.root;
  if (root.type !== 'compound' || root.entry.length > 0 || root.invoke.length > 0 || (root.always?.length ?? 0) > 0) return null;
  const names = new Set([...(options.effects ?? []), ...Object.keys(options.updates ?? {})]);
  const updates = new Map(Object.entries(options.updates ?? {}));
  const entry: StartStep[] = [];
  let node: AnyStateNode = root;
  while (node.type === 'compound') {
    const initial = node.initial;
    if (initial === undefined || initial.actions.length > 0 || initial.target.length !== 1) return null;
    node = initial.target[0] as AnyStateNode;
    if (node.type !== 'compound' && node.type !== 'atomic') return null;
    if (node.invoke.length > 0 || node.after.length > 0) return null;
    if (node.type === 'compound' && (node.always?.length ?? 0) > 0) return null;
    for (const a of node.entry) {
      const r = actionRef(a);
      if (r === undefined || !names.has(r.name)) return null;
      entry.push(startStep(m, r, updates));
    }
  }
  const guards = new Set(options.guards ?? []);
  const always = new Map<AnyStateNode, readonly StartEdge[] | null>();
  /** The eventless transitions of atomic state `at` (its ancestors have none: checked above). */
  const plan = (at: AnyStateNode): readonly StartEdge[] | null => {
    const chain: AnyStateNode[] = [];
    for (let n: AnyStateNode | undefined = at; n !== undefined; n = n.parent) chain.push(n);
    const edges: StartEdge[] = [];
    for (const t of at.always ?? []) {
      const name = t.guard === undefined ? undefined : guardName(t.guard);
      const guard = name === undefined ? undefined : (m.implementations.guards[name] as StartEdge['guard']);
      if (t.guard !== undefined && (name === undefined || !guards.has(name) || typeof guard !== 'function')) return null;
      const refs = t.actions.map(actionRef);
      if (!refs.every((r) => r !== undefined && names.has(r.name)) || t.target === undefined || t.target.length !== 1) return null;
      const target = t.target[0] as AnyStateNode;
      // The target may itself check eventless transitions (the walk goes on from it), so it is
      // entered as if it had none: plainMove on a copy of the question without them.
      const move = plainMove(chain, t.source, target, t.reenter === true, names, true);
      if (move === undefined || move === null) return null;
      edges.push({ guard, steps: [...refs, ...move.entry].map((r) => startStep(m, r as ActionRef, updates)), target, move });
    }
    return edges;
  };
  const visit = (n: AnyStateNode): void => {
    if (n.type === 'atomic' && (n.always?.length ?? 0) > 0) always.set(n, plan(n));
    for (const child of Object.values(n.states)) visit(child);
  };
  visit(root);
  // The first state's own eventless transitions are checked by every start.
  if (always.get(node) === null) return null;
  return { first: node, entry, always };
}

/** Eventless steps the fast start follows before it leaves the rest to xstate (a loop would be a bug). */
const MAX_START_STEPS = 16;

/** Thrown by the fast start's `spawn`: a context that spawns is xstate's to make. */
const SPAWNS = Symbol('spawns');

/**
 * The initial snapshot by the plan, or undefined when xstate must make it (the context spawns or
 * throws, an eventless chain runs too long). Same snapshot and same actions, in the same order, as
 * xstate's own start; the effects go through the scope's executor, which holds them until the
 * actor starts, as xstate does.
 */
function fastStart(m: AnyStateMachine, plan: StartPlan, scope: ActorScope<AnyMachineSnapshot, EventObject>, input: unknown): AnyMachineSnapshot | undefined {
  const made = m.config.context as unknown;
  let context: MachineContext;
  try {
    context = typeof made === 'function'
      ? (made as (args: unknown) => MachineContext)({ input, self: scope.self, spawn: () => { throw SPAWNS; } })
      : ((made as MachineContext | undefined) ?? {});
  } catch {
    return undefined; // xstate makes it again, and reports what it throws as an error snapshot
  }
  const event = { type: 'xstate.init', input };
  const effects: { effect: string; params: unknown; exec: ((args: unknown, params: unknown) => void) | undefined }[] = [];
  const run = (steps: readonly StartStep[]): void => {
    for (const step of steps) {
      if ('update' in step) step.update(context as never, event as never);
      else effects.push({ effect: step.effect, params: typeof step.params === 'function' ? (step.params as (args: unknown) => unknown)({ context, event }) : step.params, exec: step.exec });
    }
  };
  run(plan.entry);
  let node = plan.first;
  let final = false;
  for (let steps = 0; ; steps++) {
    const edges = plan.always.get(node);
    if (edges === undefined) break;
    if (edges === null || steps === MAX_START_STEPS) return undefined;
    const taken = edges.find((e) => e.guard === undefined || e.guard({ context, event }, undefined));
    if (taken === undefined) break;
    run(taken.steps);
    node = taken.target;
    if (taken.move.final) {
      final = true;
      break;
    }
  }
  const path = node.path.join('.');
  const snapshot = final ? finalSnapshot(m, path, context, scope) : snapshotAt(m, path, context);
  for (const e of effects) {
    scope.actionExecutor({ type: e.effect, info: { context, event, self: scope.self, system: scope.system } as never, params: e.params, exec: e.exec as never });
  }
  return snapshot;
}

/**
 * The snapshot of a machine that reached its top-level final state `path`: done, with the output
 * xstate would give it (the machine's `output` mapped from the done-state event of that state, which
 * has no output of its own: see entryOf).
 */
function finalSnapshot(m: AnyStateMachine, path: string, context: MachineContext, scope: ActorScope<AnyMachineSnapshot, EventObject>): AnyMachineSnapshot {
  const mapper = m.root.output as unknown;
  let output: unknown;
  if (mapper !== undefined) {
    const done = { type: `xstate.done.state.${[m.root.id, ...path.split('.')].join('.')}`, output: undefined };
    output = typeof mapper === 'function' ? (mapper as (args: unknown) => unknown)({ context, event: done, self: scope.self }) : mapper;
  }
  return m.resolveState({ value: valueOf(path) as never, context, output });
}

/**
 * Per machine, for each state path: the snapshot `resolveState` makes there, to copy with another
 * context (see snapshotAt); `null` where a copy would not be that snapshot; a `Probe` until the
 * second context has confirmed the copy.
 */
interface Probe {
  readonly candidate: AnyMachineSnapshot;
}
const templates = new WeakMap<object, Map<string, AnyMachineSnapshot | Probe | null>>();

/**
 * The snapshot of machine `m` in the quiet state `path` with `context`: what
 * `m.resolveState({ value, context })` returns. That call walks the machine's state nodes and
 * allocates about 6 KB each time, and every socket makes two or three of them as it starts and
 * pairs; so it is made once per (machine, path), and each socket gets a copy with its own context.
 *
 * The copy is that snapshot only while everything else in it follows from the state alone and
 * nothing writes to the parts the copies share. The installed xstate is asked, per (machine,
 * path): the first context's snapshot and one made with an empty context, then the second
 * context's snapshot and the copy it would have got, must be plain objects of the same data
 * properties that match in all but `context`. Until then, and for good where they differ (another
 * xstate, a machine whose snapshots differ, a probe that throws), each context gets its own
 * `resolveState`. The shared parts (state value, node list, children, history) are frozen, so an
 * xstate that changed one in place would throw rather than change every socket's snapshot.
 */
export function snapshotAt(m: AnyStateMachine, path: string, context: MachineContext): AnyMachineSnapshot {
  let byPath = templates.get(m);
  if (byPath === undefined) templates.set(m, (byPath = new Map()));
  const known = byPath.get(path);
  if (known !== undefined && known !== null && !('candidate' in known)) return { ...known, context } as AnyMachineSnapshot;
  const mine = m.resolveState({ value: valueOf(path) as never, context }) as AnyMachineSnapshot;
  if (known === null) return mine;
  if (known === undefined) {
    let bare: AnyMachineSnapshot | undefined;
    try {
      bare = m.resolveState({ value: valueOf(path) as never, context: {} }) as AnyMachineSnapshot;
    } catch {
      bare = undefined;
    }
    byPath.set(path, bare !== undefined && alikeButContext(mine, bare) ? { candidate: bare } : null);
    return mine;
  }
  const copy = { ...known.candidate, context };
  if (alikeButContext(mine, copy)) byPath.set(path, freezeShared(known.candidate));
  else byPath.set(path, null);
  return mine;
}

/** `snapshot` with every object it holds but its context and machine frozen (Sets excepted: read only). */
function freezeShared(snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
  for (const [key, value] of Object.entries(snapshot)) {
    if (key !== 'context' && key !== 'machine') deepFreeze(value, 4);
  }
  return snapshot;
}

function deepFreeze(x: unknown, depth: number): void {
  if (depth === 0 || typeof x !== 'object' || x === null || Object.isFrozen(x)) return;
  if (Array.isArray(x)) {
    Object.freeze(x); // a list of state nodes: the list, not the nodes
    return;
  }
  if (Object.getPrototypeOf(x) !== Object.prototype) return;
  Object.freeze(x);
  for (const v of Object.values(x)) deepFreeze(v, depth - 1);
}

/** An object with no own enumerable keys (a snapshot's children or history). */
function isEmpty(x: unknown): boolean {
  for (const key in x as object) {
    void key; // one key is enough (no array made, as Object.keys would)
    return false;
  }
  return true;
}

/** Two snapshots are plain objects of the same data properties, alike in all but `context` (not compared). */
function alikeButContext(a: object, b: object): boolean {
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const da = Object.getOwnPropertyDescriptors(a);
  const db = Object.getOwnPropertyDescriptors(b);
  const keys = Reflect.ownKeys(da);
  if (keys.length !== Reflect.ownKeys(db).length || !keys.includes('context')) return false;
  for (const k of keys) {
    const x = da[k as string];
    const y = db[k as string];
    if (x === undefined || y === undefined || !('value' in x) || !('value' in y) || !x.enumerable || !y.enumerable) return false;
    if (k !== 'context' && !alike(x.value, y.value, 4)) return false;
  }
  return true;
}

/** The same value, or arrays, Sets or plain objects of alike members (to `depth` levels). */
function alike(x: unknown, y: unknown, depth: number): boolean {
  if (x === y) return true;
  if (depth === 0 || typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => alike(v, y[i], depth - 1));
  if (x instanceof Set) return y instanceof Set && x.size === y.size && [...x].every((v) => y.has(v));
  if (Object.getPrototypeOf(x) !== Object.prototype || Object.getPrototypeOf(y) !== Object.prototype) return false;
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => Object.hasOwn(y, k) && alike((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], depth - 1));
}

const fastMachines = new WeakMap<object, FastEdgeOptions>();

/** The cache entry of a context that missed once (never written). */
const SEEN: Map<string, AnyMachineSnapshot> = new Map();

/** Whether `machine` came from {@link withFastEdges} (or a `provide()` of such a machine). */
export function hasFastEdges(machine: AnyStateMachine): boolean {
  return fastMachines.has(machine);
}

/** Whether `machine` starts by the shortcut (see fastStart), for tests and tools. */
export function startsFast(machine: AnyStateMachine): boolean {
  const options = fastMachines.get(machine);
  return options !== undefined && planStart(machine, options) !== null;
}

/** The edges `machine` takes by the shortcut (empty for a machine without it), for tests and tools. */
export function fastEdgesOf(machine: AnyStateMachine): Table {
  const options = fastMachines.get(machine);
  return options === undefined ? new Map() : fastEdgeTable(machine, options);
}

type Step = { readonly update: (context: never, event: never) => void } | { readonly effect: string; readonly params: unknown; readonly exec: ((args: unknown, params: unknown) => void) | undefined };

/** A candidate with its guard and actions looked up in the machine's implementations, once. */
interface Resolved {
  readonly candidate: Candidate;
  readonly guard: ((args: unknown, params: unknown) => boolean) | undefined;
  readonly steps: readonly Step[];
  /** The context and target snapshot of the last time this edge was taken (see take). */
  memoContext: object | undefined;
  memoNext: AnyMachineSnapshot | undefined;
}

/**
 * `machine` with its fast edges taken directly (see the top of this file), and the same for every
 * machine `provide()` derives from it. Every other event goes through xstate unchanged.
 */
export function withFastEdges<TMachine extends AnyStateMachine>(machine: TMachine, options: FastEdgeOptions): TMachine {
  const fast = Object.create(machine) as TMachine;
  fastMachines.set(fast, options);
  const guards = new Set(options.guards ?? []);
  const updates = new Map(Object.entries(options.updates ?? {}));
  let resolved: Map<string, Map<string, readonly Resolved[] | null>> | undefined;
  let resolvedTree: PathNode<Map<string, readonly Resolved[] | null>> | undefined;
  let seenValue0: unknown;
  let seenTypes0: Map<string, readonly Resolved[] | null> | undefined;
  let seenValue1: unknown;
  let seenTypes1: Map<string, readonly Resolved[] | null> | undefined;
  // Target snapshots by context object: a turn leaves context as it is, so each is made once. A
  // context's first miss only marks it (SEEN): most edges are taken once per actor (a socket's
  // first peer), and only the ones an actor takes again (REQ/REP turns) are worth a table.
  const cache = new WeakMap<object, Map<string, AnyMachineSnapshot>>();
  const slowTransition = machine.transition;
  const provide = machine.provide;

  /** The table with names looked up; null for an event whose candidates the shortcut may not judge. */
  function resolve(m: AnyStateMachine): Map<string, Map<string, readonly Resolved[] | null>> {
    const out = new Map<string, Map<string, readonly Resolved[] | null>>();
    for (const [state, byType] of fastEdgeTable(m, options)) {
      const types = new Map<string, readonly Resolved[] | null>();
      for (const [type, candidates] of byType) {
        const list: Resolved[] = [];
        let judgeable = true;
        for (const c of candidates) {
          // A guard the shortcut may not evaluate means xstate must choose.
          const guard = c.guard === undefined ? undefined : (m.implementations.guards[c.guard] as Resolved['guard']);
          if (c.guard !== undefined && (!guards.has(c.guard) || typeof guard !== 'function')) {
            judgeable = false;
            break;
          }
          const steps = c.actions.map((a): Step => {
            const update = updates.get(a.name);
            return update !== undefined ? { update } : { effect: a.name, params: a.params, exec: m.implementations.actions[a.name] as ((args: unknown, params: unknown) => void) | undefined };
          });
          list.push({ candidate: c, guard, steps, memoContext: undefined, memoNext: undefined });
        }
        types.set(type, judgeable ? list : null);
      }
      out.set(state, types);
    }
    return out;
  }

  /** The fast start's plan, made on first use: null when this machine's start is xstate's to make. */
  let startPlan: StartPlan | null | undefined;
  const slowStart = machine.getInitialSnapshot;

  Object.defineProperties(fast, {
    getInitialSnapshot: {
      configurable: true,
      value(this: AnyStateMachine, scope: ActorScope<AnyMachineSnapshot, EventObject>, input: unknown): AnyMachineSnapshot {
        if (startPlan === undefined) startPlan = planStart(this, options);
        const started = startPlan === null ? undefined : fastStart(this, startPlan, scope, input);
        return started ?? (slowStart.call(this, scope as never, input as never) as AnyMachineSnapshot);
      },
    },
    transition: {
      configurable: true,
      value(this: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject, scope: ActorScope<AnyMachineSnapshot, EventObject>): AnyMachineSnapshot {
        if (snapshot.status === 'active') {
          // The values of the snapshots this shortcut reuses (a REQ's two turns) come back again
          // and again: the last two found are kept, objects by identity and names (a top-level
          // state's value is its name) by value.
          const value = snapshot.value as unknown;
          let byType: Map<string, readonly Resolved[] | null> | undefined;
          if (value === seenValue0) byType = seenTypes0;
          else if (value === seenValue1) byType = seenTypes1;
          else {
            byType = findByValue((resolvedTree ??= pathTree((resolved ??= resolve(this)))), value);
            seenValue1 = seenValue0;
            seenTypes1 = seenTypes0;
            seenValue0 = value;
            seenTypes0 = byType;
          }
          if (byType !== undefined) {
            const candidates = byType.get(event.type);
            // No state of this configuration handles it: xstate would change nothing (but an
            // unhandled error from a child, which fails the machine, is xstate's to handle).
            if (candidates === undefined) {
              if (mayJudge(event.type) && !event.type.startsWith(ERROR_EVENT)) return snapshot;
            } else if (candidates !== null) {
              for (const r of candidates) {
                if (r.guard !== undefined && !r.guard({ context: snapshot.context, event }, undefined)) continue;
                // A move hands back a snapshot made for the target state alone: one that holds
                // children or recorded history keeps them only through xstate's algorithm.
                if (r.candidate.fast && (r.candidate.target === undefined || (isEmpty(snapshot.children) && isEmpty(snapshot.historyValue)))) return take(this, r, snapshot, event, scope);
                break;
              }
            }
          }
        }
        return slowTransition.call(this, snapshot as never, event as never, scope as never) as AnyMachineSnapshot;
      },
    },
    provide: {
      configurable: true,
      value(this: AnyStateMachine, implementations: unknown): AnyStateMachine {
        return withFastEdges(provide.call(this, implementations as never), options);
      },
    },
  });

  function take(m: AnyStateMachine, r: Resolved, snapshot: AnyMachineSnapshot, event: EventObject, scope: ActorScope<AnyMachineSnapshot, EventObject>): AnyMachineSnapshot {
    const context = snapshot.context as object;
    for (const step of r.steps) {
      if ('update' in step) {
        step.update(context as never, event as never);
        continue;
      }
      // Through the actor's executor, as xstate runs custom actions: it runs them now in a running
      // actor (and tells inspectors), and collects them in a pure `transition()`. Params are worked
      // out here, after the updates before them, as xstate resolves them in order.
      const p = step.params;
      scope.actionExecutor({
        type: step.effect,
        info: { context, event, self: scope.self, system: scope.system } as never,
        params: typeof p === 'function' ? (p as (args: unknown) => unknown)({ context, event }) : p,
        exec: step.exec as never,
      });
    }
    const target = r.candidate.target;
    if (target === undefined) return snapshot;
    // The end of the machine: a done snapshot, made once (with the machine's output, if it has one).
    // Its context takes no edge again, so its entry leaves the cache now. Left to the garbage
    // collector, closed sockets' entries piled up between full collections, and V8 shrinks a
    // WeakMap's table on delete() but not when a collection clears entries: after 20,000 REQ
    // connect/round-trip/close cycles it kept 262 KB (bench/scale.ts's churn row, 46-55 B a cycle
    // before this, 27-28 after).
    if (r.candidate.final) {
      cache.delete(context);
      return finalSnapshot(m, target, snapshot.context as MachineContext, scope);
    }
    // The last target made for this edge is the likely one (one socket turning); else the cache.
    if (r.memoContext === context) return r.memoNext as AnyMachineSnapshot;
    let byTarget = cache.get(context);
    let next = byTarget?.get(target);
    if (next === undefined) {
      next = snapshotAt(m, target, snapshot.context as MachineContext);
      if (byTarget === undefined) cache.set(context, SEEN);
      else {
        if (byTarget === SEEN) cache.set(context, (byTarget = new Map()));
        byTarget.set(target, next);
      }
    }
    r.memoContext = context;
    r.memoNext = next;
    return next;
  }

  return fast;
}
