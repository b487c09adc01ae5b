// Draws a socket's statechart from its machine definition: every state node a box, children
// nested inside their parent, each transition a labelled row `event [guard] → target / actions`.
// Nothing here is written per socket type: a new machine draws itself. `light()` marks the
// states a snapshot value is in.

import type { AnyStateMachine, StateValue } from 'xstate';
import { h } from './dom.js';

/** The parts of an xstate StateNode this file reads (xstate 5: `machine.root` and its `.states`). */
interface ChartNode {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  parent?: ChartNode;
  states: Record<string, ChartNode>;
  on: Record<string, ChartTransition[]>;
  always?: ChartTransition[];
  initial?: { target: ChartNode[] };
  entry: { type?: string }[];
  exit: { type?: string }[];
}

interface ChartTransition {
  eventType: string;
  target?: ChartNode[];
  guard?: { type?: string } | string;
  actions: ({ type?: string } | string | ((...args: unknown[]) => unknown))[];
}

export interface Chart {
  element: HTMLElement;
  /** Lights the states `value` is in; returns their dotted paths. */
  light(value: StateValue): string[];
  /** Flashes the rows of transitions the machine took (xstate's `@xstate.microstep` inspection event lists them). */
  flash(taken: readonly unknown[]): void;
  /** How a taken transition reads on the chart, e.g. `peer.attached [isPaired] ↺ / refusePeer`. */
  describe(transition: unknown): string | undefined;
  /**
   * The transitions for `eventType` that the states `value` is in hold, innermost first: what an
   * event may have taken when no microstep was reported (an edge the fast-edge shortcut took).
   */
  candidates(value: StateValue, eventType: string): unknown[];
}

export function drawChart(machine: AnyStateMachine): Chart {
  const root = machine.root as unknown as ChartNode;
  const boxes = new Map<string, HTMLElement>();
  // Keyed by xstate's own transition objects: `node.on` and `node.always` hold the same objects a
  // microstep reports as taken.
  const rows = new Map<unknown, HTMLElement>();

  function box(node: ChartNode): HTMLElement {
    const path = node.path.join('.');
    const isInitial = node.parent?.initial?.target.includes(node) === true;
    const transient = (node.always?.length ?? 0) > 0;
    const header = h('div', { class: 'sc-head' },
      isInitial ? h('span', { class: 'sc-initial', title: 'initial state' }, '●') : null,
      h('span', { class: 'sc-name' }, node.key),
      transient ? h('span', { class: 'sc-tag', title: 'a transient state: its `always` transitions leave it at once' }, 'transient') : null,
      node.type === 'final' ? h('span', { class: 'sc-tag' }, 'final') : null,
      node.type === 'parallel' ? h('span', { class: 'sc-tag', title: 'parallel: each region below is in one of its states at the same time' }, 'parallel') : null,
    );
    const el = h('div', { class: `sc-node sc-${node.type}${transient ? ' sc-transient' : ''}`, 'data-path': path }, header);
    for (const a of node.entry) if (a.type) el.appendChild(h('div', { class: 'sc-action' }, `entry / ${a.type}`));
    for (const a of node.exit) if (a.type) el.appendChild(h('div', { class: 'sc-action' }, `exit / ${a.type}`));
    const list = h('div', { class: 'sc-transitions' });
    for (const [eventType, ts] of Object.entries(node.on)) for (const t of ts) list.appendChild(row(node, eventType, t));
    for (const t of node.always ?? []) list.appendChild(row(node, 'always', t));
    if (list.childElementCount > 0) el.appendChild(list);
    const children = Object.values(node.states);
    if (children.length > 0) el.appendChild(h('div', { class: 'sc-children' }, ...children.map(box)));
    boxes.set(path, el);
    return el;
  }

  function row(source: ChartNode, eventType: string, t: ChartTransition): HTMLElement {
    const guard = typeof t.guard === 'string' ? t.guard : t.guard?.type;
    const actions = t.actions.map((a) => (typeof a === 'string' ? a : typeof a === 'function' ? (a.name || 'λ') : (a.type ?? ''))).filter(Boolean);
    const targets = (t.target ?? []).map((target) => relativeName(source, target));
    const el = h('div', { class: 'sc-transition', 'data-event': eventType },
      h('span', { class: eventType === 'always' ? 'sc-event sc-always' : 'sc-event' }, eventType),
      guard ? h('span', { class: 'sc-guard' }, ` [${guard}]`) : null,
      h('span', { class: 'sc-arrow' }, targets.length > 0 ? ' → ' : ' ↺ '),
      targets.length > 0 ? h('span', { class: 'sc-target' }, targets.join(', ')) : h('span', { class: 'sc-target sc-none' }, 'stays'),
      actions.length > 0 ? h('span', { class: 'sc-actions' }, ` / ${actions.join(', ')}`) : null,
    );
    rows.set(t, el);
    return el;
  }

  const element = h('div', { class: 'sc-chart' }, ...Object.values(root.states).map(box));
  let lit: string[] = [];

  return {
    element,
    light(value) {
      const next = activePaths(value);
      for (const p of lit) if (!next.includes(p)) boxes.get(p)?.classList.remove('active');
      for (const p of next) boxes.get(p)?.classList.add('active');
      lit = next;
      return next;
    },
    flash(taken) {
      for (const t of taken) {
        const el = rows.get(t);
        if (el === undefined) continue;
        el.classList.remove('flash');
        void el.offsetWidth; // restart the CSS animation
        el.classList.add('flash');
      }
    },
    describe(t) {
      return rows.get(t)?.textContent ?? undefined;
    },
    candidates(value, eventType) {
      const out: unknown[] = [];
      for (const path of activePaths(value).reverse()) {
        let node: ChartNode | undefined = root;
        for (const key of path.split('.')) node = node?.states[key];
        for (const t of node?.on[eventType] ?? []) out.push(t);
      }
      for (const t of root.on[eventType] ?? []) out.push(t);
      return out;
    },
  };
}

/** Every state path a value is in: `{ open: { paired: 'ready' } }` → open, open.paired, open.paired.ready. */
export function activePaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  const out: string[] = [];
  for (const [key, sub] of Object.entries(value)) {
    out.push(prefix + key);
    if (sub !== undefined) out.push(...activePaths(sub, `${prefix}${key}.`));
  }
  return out;
}

/** The leaf paths of a value, for a compact label: `open.paired.ready`. */
export function leafPaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  const out: string[] = [];
  for (const [key, sub] of Object.entries(value)) {
    if (sub === undefined || (typeof sub === 'object' && Object.keys(sub).length === 0)) out.push(prefix + key);
    else out.push(...leafPaths(sub, `${prefix}${key}.`));
  }
  return out;
}

/** How a transition's target reads from its source: a sibling by key, a child as `.key`, else the full path. */
function relativeName(source: ChartNode, target: ChartNode): string {
  if (target.parent === source.parent) return target.key;
  const s = source.path.join('.');
  const t = target.path.join('.');
  if (s !== '' && t.startsWith(s + '.')) return t.slice(s.length);
  return t;
}
