// A machine definition as a statechart to draw: every state node, nested as in the machine, and
// every transition it declares as one arrow. Pure (no DOM, no layout): the browser test counts the
// arrows it must find against this, and chart-layout.ts hands it to ELK.
//
// Where an arrow goes (the convention docs/machines.md uses too, `npm run machines`):
// - a transition declared on a simple state starts at that state;
// - one declared on a composite state (or on the machine) starts at a dashed "any state" box drawn
//   inside it, which stands for whichever of its states the machine is in;
// - one that keeps its state (no target, or a simple state naming itself without `reenter`), or
//   goes to a state around its own, is a row inside the box it starts from, with a short loop arrow
//   on the box's edge: the machine runs its actions and stays (or re-enters the state named).

import type { AnyStateMachine } from 'xstate';

/** The parts of an xstate StateNode read here (xstate 5: `machine.root` and its `.states`). */
export interface XNode {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  parent?: XNode;
  states: Record<string, XNode>;
  on: Record<string, XTransition[]>;
  always?: XTransition[];
  initial?: { target: XNode[] };
  entry: unknown[];
  exit: unknown[];
  machine: { id: string };
}

export interface XTransition {
  eventType: string;
  target?: XNode[];
  reenter?: boolean;
  guard?: unknown;
  actions: unknown[];
}

export type StateKind = 'machine' | 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface ChartState {
  /** Id in the drawing: `s:` + dotted path (`s:` alone for the machine). */
  id: string;
  /** Dotted path, as the page names states (`open.paired.ready`; '' for the machine). */
  path: string;
  /** What the box says: the state's key (the machine's id for the machine). */
  name: string;
  kind: StateKind;
  /** A region of a parallel state (drawn dashed, side by side with its siblings). */
  region: boolean;
  entry: string[];
  exit: string[];
  children: ChartState[];
  /** The child entered first, for the initial dot (compound states and the machine). */
  initial?: string;
  /** The id of the "any state" box inside this composite state, when it declares transitions. */
  any?: string;
  /** The transitions drawn as rows inside this state's box (or its "any state" box). */
  rows: ChartTransition[];
}

/** What an arrow means, for its style and the words the page uses. */
export type TransitionKind =
  /** keeps its state: runs its actions and stays (a row in the box, with a loop arrow) */
  | 'stays'
  /** goes to a state around the one it starts from (a row in the box: `→ open`) */
  | 'up'
  /** goes to another state, or leaves this one and enters it again (an arrow laid out by ELK) */
  | 'moves';

export interface ChartTransition {
  /** `t0`, `t1`, ... in the machine's declaration order. */
  id: string;
  /** xstate's own transition object (a state node's `on` or `always` entry): what taken.ts reports. */
  ref: XTransition;
  /** The event as written (`request.sent`, `always`, `after 100 ms`). */
  event: string;
  guard: string | undefined;
  actions: string[];
  /** The state that declares it (dotted path). */
  owner: string;
  /** Where the arrow starts (a state id or an "any state" box id) and the states it ends at ([] for a row). */
  source: string;
  targets: string[];
  /** Dotted paths of the target states ([] for none). */
  targetPaths: string[];
  kind: TransitionKind;
}

export interface ChartModel {
  machineId: string;
  root: ChartState;
  states: Map<string, ChartState>;
  transitions: ChartTransition[];
  byRef: Map<unknown, ChartTransition>;
}

function nameOf(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'function') return item.name || 'λ';
  if (item !== null && typeof item === 'object' && 'type' in item) return String((item as { type: unknown }).type);
  return '';
}

/** `xstate.after.100.request.idle` reads `after 100 ms`; other events as written. */
function eventLabel(eventType: string): string {
  const after = /^xstate\.after\.(\d+)\./.exec(eventType);
  if (after !== null) return `after ${after[1]} ms`;
  if (eventType === '') return 'always';
  return eventType;
}

const idOf = (node: XNode): string => `s:${node.path.join('.')}`;

/** Every transition a node declares, in declaration order: `on` (delayed ones included), then `always`. */
function declared(node: XNode): { event: string; t: XTransition }[] {
  const out: { event: string; t: XTransition }[] = [];
  for (const [event, ts] of Object.entries(node.on)) for (const t of ts) out.push({ event, t });
  for (const t of node.always ?? []) out.push({ event: 'always', t });
  return out;
}

/** Keeps its state: no target, or a simple state naming itself without `reenter` (xstate exits and enters nothing). */
function staysIn(node: XNode, t: XTransition): boolean {
  if (t.target === undefined || t.target.length === 0) return true;
  return node.type !== 'compound' && node.type !== 'parallel' && t.reenter !== true && t.target.every((x) => x === node);
}

function isWithin(node: XNode, ancestor: XNode): boolean {
  for (let n: XNode | undefined = node; n !== undefined; n = n.parent) if (n === ancestor) return true;
  return false;
}

export function chartModel(machine: AnyStateMachine): ChartModel {
  const root = machine.root as unknown as XNode;
  const states = new Map<string, ChartState>();
  const transitions: ChartTransition[] = [];
  const byRef = new Map<unknown, ChartTransition>();

  function visit(node: XNode, region: boolean): ChartState {
    const isMachine = node.parent === undefined;
    const children = Object.values(node.states);
    const state: ChartState = {
      id: idOf(node),
      path: node.path.join('.'),
      name: isMachine ? node.machine.id : node.key,
      kind: isMachine ? 'machine' : node.type,
      region,
      entry: node.entry.map(nameOf).filter(Boolean),
      exit: node.exit.map(nameOf).filter(Boolean),
      children: [],
      rows: [],
    };
    if (node.type === 'compound' && node.initial !== undefined && node.initial.target[0] !== undefined) state.initial = idOf(node.initial.target[0]);
    states.set(state.id, state);
    state.children = children.map((c) => visit(c, node.type === 'parallel'));

    const composite = children.length > 0;
    for (const { event, t } of declared(node)) {
      const targets = t.target ?? [];
      if (composite) state.any ??= `any:${state.path}`;
      const source = composite ? (state.any as string) : state.id;
      const kind: TransitionKind = staysIn(node, t) ? 'stays' : targets.some((x) => x !== node && isWithin(node, x)) ? 'up' : 'moves';
      const ct: ChartTransition = {
        id: `t${transitions.length}`,
        ref: t,
        event: eventLabel(event),
        guard: t.guard === undefined ? undefined : nameOf(t.guard) || 'guard',
        actions: t.actions.map(nameOf).filter(Boolean),
        owner: state.path,
        source,
        targets: kind === 'moves' ? targets.map(idOf) : [],
        targetPaths: targets.map((x) => x.path.join('.')),
        kind,
      };
      transitions.push(ct);
      byRef.set(t, ct);
      if (kind !== 'moves') state.rows.push(ct);
    }
    return state;
  }

  const top = visit(root, false);
  return { machineId: root.machine.id, root: top, states, transitions, byRef };
}
