// Lays a ChartModel out with ELK's layered algorithm (elkjs, the engine Stately's editor uses):
// states as boxes nested in their parents, each arrow orthogonal with its label placed by ELK as a
// box of its own, so no label lies on another or on a state. Text is measured by the function the
// caller passes, and the ELK engine is the caller's too (a Web Worker in the page, the bundled
// engine in a test). Every coordinate it returns is absolute (from the drawing's corner).
//
// Drawn to be read at a card's width, the chart grows down rather than across:
// - transitions that leave the same box for the same states are one arrow with their labels
//   stacked (as docs/machines.md draws them); the same label from several boxes to the same state
//   (`close [shouldLinger]` from each of REP's states) is one label box the arrows meet at, with
//   one arrow on from it;
// - labels break early (guard on a line of its own, actions over several lines);
// - parallel regions stand one under the other, and an "any state" box sits above the initial
//   state (unseen ordering edges), rather than beside everything else.

import type { ELK, ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartModel, ChartState, ChartTransition } from './chart-model.js';

/** Text styles the drawing uses; the measurer returns a width in px for one line. */
export type TextStyle = 'name' | 'note' | 'event' | 'guard' | 'detail';
export type Measure = (text: string, style: TextStyle) => number;

/** Font sizes in px (style.css `.sc-svg` text classes must say the same) and line heights. */
export const FONT_SIZE = { name: 12, note: 10, event: 11, guard: 11, detail: 10 } as const;
export const LINE = { name: 16, note: 13, event: 14, guard: 13, detail: 12 } as const;
/**
 * How a chart is laid out: `wide` where a card has room (Brandes-Köpf placement packs a layer's
 * boxes closely and keeps arrows straight), `narrow` where it has not (see the top of the file).
 */
export type Variant = 'wide' | 'narrow';
/** A label line longer than this (in characters) breaks: guard on its own line, actions over several. */
const WRAP: Record<Variant, number> = { wide: 22, narrow: 20 };
const HEAD = 26; // a composite state's title bar
const PAD = 10;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** One line of text and the style it is drawn in. */
export interface Line {
  text: string;
  style: TextStyle;
}

/** A transition drawn as a row inside a box: where its text sits, relative to the box. */
export interface Row {
  transition: ChartTransition;
  y: number;
  height: number;
  lines: Line[];
}

export interface PlacedState extends Box {
  state: ChartState;
  /** Its rows (none for a composite state: they are in its "any state" box). */
  rows: Row[];
  /** Where the rows start, below the name and notes. */
  rowsTop: number;
}

/**
 * Some lines of an arrow's label, `y` from the label's top: those of one transition, or of several
 * from different boxes that read the same (`close [shouldLinger]` from each state).
 */
export interface LabelPart {
  transitions: ChartTransition[];
  y: number;
  height: number;
  lines: Line[];
}

/**
 * One arrow: the transitions that leave the same box for the same states, in declaration order,
 * their labels stacked in one box. A `junction` label is where arrows from several boxes meet: each
 * transition's own leg runs into it, and one arrow runs on from it to the target.
 */
export interface PlacedEdge {
  transitions: ChartTransition[];
  /** Each transition's polylines by its id: its leg into a junction (if any), then one per target. */
  paths: Map<string, { leg: Point[] | undefined; arrows: Point[][] }>;
  label: Box & { parts: LabelPart[] };
  junction: boolean;
}

export interface ChartLayout {
  width: number;
  height: number;
  states: PlacedState[];
  /** "any state" boxes, by id, with the state they stand in. */
  anys: (Box & { id: string; owner: ChartState; rows: Row[]; rowsTop: number })[];
  /** Initial dots and their arrows. */
  initials: { dot: Box; path: Point[] }[];
  /** The transitions drawn as arrows between boxes (the others are rows: see `Row`). */
  edges: PlacedEdge[];
}

/**
 * The lines of an arrow's label: `event [guard]` (the guard on a line of its own when both are
 * long), then `/ actions` in smaller type, broken between actions so no line runs long.
 */
function labelLines(t: ChartTransition, wrap = WRAP.wide): Line[] {
  const lines: Line[] = [{ text: t.event, style: 'event' }];
  if (t.guard !== undefined) {
    const guard = `[${t.guard}]`;
    if (t.event.length + guard.length + 1 <= wrap) lines[0] = { text: `${t.event} ${guard}`, style: 'event' };
    else lines.push({ text: guard, style: 'guard' });
  }
  let line = '';
  for (const a of t.actions) {
    if (line === '') line = `/ ${a}`;
    else if (line.length + a.length + 2 <= wrap) line += `, ${a}`;
    else {
      lines.push({ text: `${line},`, style: 'detail' });
      line = `  ${a}`;
    }
  }
  if (line !== '') lines.push({ text: line, style: 'detail' });
  return lines;
}

/** A row's lines: an arrow's label, naming the state it goes to when that is a state around it. */
function rowLines(t: ChartTransition, wrap: number): Line[] {
  const lines = labelLines(t, wrap);
  if (t.kind === 'up') lines.push({ text: `→ ${t.targetPaths.join(', ')}`, style: 'detail' });
  return lines;
}

/** Room on a box's right for the loop arrows of its rows. */
export const LOOP = 14;

const linesHeight = (lines: Line[]) => lines.reduce((h, l) => h + LINE[l.style], 0);

/** The rows of a box, stacked from `top`; returns them and the height they take. */
function stackRows(rows: ChartTransition[], top: number, wrap: number): { rows: Row[]; bottom: number } {
  const out: Row[] = [];
  let y = top;
  for (const t of rows) {
    const lines = rowLines(t, wrap);
    const height = linesHeight(lines) + 4;
    out.push({ transition: t, y, height, lines });
    y += height;
  }
  return { rows: out, bottom: y };
}

/** What a composite state's title says after its name. */
export function stateTag(s: ChartState): string {
  return s.kind === 'parallel' ? 'parallel: all regions at once' : s.kind === 'machine' ? 'machine' : s.region ? 'region' : '';
}

/** The notes under a state's name: its entry and exit effects. */
export function stateNotes(s: ChartState): string[] {
  return [...s.entry.map((a) => `entry / ${a}`), ...s.exit.map((a) => `exit / ${a}`)];
}

interface Bundle {
  /** The boxes the arrow leaves (several for a junction), and the states it ends at. */
  sources: string[];
  targets: string[];
  /** One group of transitions per source, in `sources` order. */
  bySource: ChartTransition[][];
  parts: LabelPart[];
}

/**
 * The arrows to draw: the `moves` transitions grouped by where they start and where they end; then
 * groups that end at the same states with the same label, from different boxes, joined at one label.
 */
function bundlesOf(model: ChartModel, wrap: number): Bundle[] {
  const byEnds = new Map<string, { source: string; targets: string[]; transitions: ChartTransition[] }>();
  for (const t of model.transitions) {
    if (t.kind !== 'moves') continue;
    const key = `${t.source}>${t.targets.join(',')}`;
    let b = byEnds.get(key);
    if (b === undefined) byEnds.set(key, (b = { source: t.source, targets: t.targets, transitions: [] }));
    b.transitions.push(t);
  }
  const byLabel = new Map<string, Bundle>();
  for (const b of byEnds.values()) {
    const lines = b.transitions.map((t) => labelLines(t, wrap));
    const key = `${b.targets.join(',')}>${JSON.stringify(lines)}`;
    const same = byLabel.get(key);
    if (same !== undefined) {
      same.sources.push(b.source);
      same.bySource.push(b.transitions);
      b.transitions.forEach((t, i) => same.parts[i]?.transitions.push(t));
      continue;
    }
    let y = 0;
    const parts = b.transitions.map((t, i) => {
      const l = lines[i] as Line[];
      const part = { transitions: [t], y, height: linesHeight(l), lines: l };
      y += part.height;
      return part;
    });
    byLabel.set(key, { sources: [b.source], targets: b.targets, bySource: [b.transitions], parts });
  }
  return [...byLabel.values()];
}

/** The drawing id of the composite state a box is drawn in (`s:` for the machine). */
function containerOf(id: string): string {
  if (id.startsWith('any:')) return `s:${id.slice(4)}`;
  const path = id.slice(2);
  return path.includes('.') ? `s:${path.slice(0, path.lastIndexOf('.'))}` : 's:';
}

/** The innermost composite state that holds all these boxes. */
function commonContainer(ids: string[]): string {
  const chains = ids.map((id) => {
    const chain: string[] = [];
    for (let c = containerOf(id); ; c = containerOf(c)) {
      chain.unshift(c);
      if (c === 's:') break;
    }
    return chain;
  });
  let common = 's:';
  for (let i = 0; chains.every((c) => c[i] !== undefined && c[i] === chains[0]?.[i]); i++) common = chains[0]?.[i] as string;
  return common;
}

export async function layoutChart(model: ChartModel, measure: Measure, engine: ELK, variant: Variant = 'wide'): Promise<ChartLayout> {
  const wrap = WRAP[variant];
  const edges: ElkExtendedEdge[] = [];
  const size = (lines: Line[]) => ({
    width: Math.ceil(Math.max(...lines.map((l) => measure(l.text, l.style)))) + 6,
    height: linesHeight(lines) + 2,
  });
  const rowsWidth = (rows: ChartTransition[]) => Math.max(0, ...rows.flatMap((t) => rowLines(t, wrap).map((l) => measure(l.text, l.style)))) + 2 * PAD + 4;
  const geometry = new Map<string, { rows: Row[]; rowsTop: number }>();
  const loopMargin = { 'elk.margins': `[top=0,left=0,bottom=0,right=${LOOP + 4}]` };
  const elkNodes = new Map<string, ElkNode>();

  function node(s: ChartState): ElkNode {
    const notes = stateNotes(s);
    const tag = s.children.length > 0 ? stateTag(s) : '';
    const titleWidth = Math.ceil(Math.max(measure(s.name, 'name') + 34 + (tag === '' ? 0 : measure(tag, 'note') + 4), ...notes.map((n) => measure(n, 'note') + 2 * PAD)));
    if (s.children.length === 0) {
      const rowsTop = 28 + notes.length * LINE.note + (s.rows.length > 0 ? 4 : 0);
      const stacked = stackRows(s.rows, rowsTop, wrap);
      geometry.set(s.id, { rows: stacked.rows, rowsTop });
      return {
        id: s.id,
        width: Math.ceil(Math.max(titleWidth, 76, s.rows.length > 0 ? rowsWidth(s.rows) : 0)),
        height: stacked.bottom + (s.rows.length > 0 ? 4 : 2),
        ...(s.rows.length > 0 ? { layoutOptions: loopMargin } : {}),
      };
    }
    const children: ElkNode[] = s.children.map(node);
    if (s.initial !== undefined) {
      children.unshift({ id: `init:${s.path}`, width: 10, height: 10 });
      edges.push({ id: `init:${s.path}`, sources: [`init:${s.path}`], targets: [s.initial] });
    }
    if (s.any !== undefined) {
      const rowsTop = 20;
      const stacked = stackRows(s.rows, rowsTop, wrap);
      geometry.set(s.any, { rows: stacked.rows, rowsTop });
      children.push({
        id: s.any,
        width: Math.ceil(Math.max(measure('any state', 'note') + 2 * PAD, s.rows.length > 0 ? rowsWidth(s.rows) : 0)),
        height: s.rows.length > 0 ? stacked.bottom + 4 : 24,
        ...(s.rows.length > 0 ? { layoutOptions: loopMargin } : {}),
      });
      // Unseen: the "any state" box above the initial state, not off to one side.
      if (s.initial !== undefined) edges.push({ id: `order:${s.any}`, sources: [s.any], targets: [`init:${s.path}`] });
    }
    // Unseen: parallel regions one under the other, in declaration order.
    if (s.kind === 'parallel') {
      s.children.slice(1).forEach((c, i) => edges.push({ id: `order:${c.id}`, sources: [(s.children[i] as ChartState).id], targets: [c.id] }));
      const last = s.children[s.children.length - 1];
      if (s.any !== undefined && last !== undefined) edges.push({ id: `order:${s.any}`, sources: [last.id], targets: [s.any] });
    }
    const top = HEAD + notes.length * LINE.note;
    const n: ElkNode = {
      id: s.id,
      children,
      layoutOptions: {
        'elk.padding': `[top=${top + 6},left=${PAD},bottom=${PAD},right=${PAD}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${titleWidth}, ${top + 20})`,
      },
    };
    elkNodes.set(s.id, n);
    return n;
  }

  const graph = node(model.root);
  const bundles = bundlesOf(model, wrap);
  bundles.forEach((b, k) => {
    const label = size(b.parts.flatMap((p) => p.lines));
    if (b.sources.length === 1) {
      const elkLabel: ElkLabel = { id: `label:${k}`, text: b.parts.map((p) => p.transitions[0]?.id).join(' '), ...label };
      b.targets.forEach((target, i) => edges.push({ id: `b${k}#${i}`, sources: [b.sources[0] as string], targets: [target], labels: i === 0 ? [elkLabel] : [] }));
      return;
    }
    // A junction: the label is a node of its own, in the state that holds every end.
    const container = elkNodes.get(commonContainer([...b.sources, ...b.targets])) ?? graph;
    container.children?.push({ id: `junction:${k}`, ...label });
    b.sources.forEach((source, j) => edges.push({ id: `b${k}<${j}`, sources: [source], targets: [`junction:${k}`] }));
    b.targets.forEach((target, i) => edges.push({ id: `b${k}#${i}`, sources: [`junction:${k}`], targets: [target] }));
  });
  if (variant === 'narrow') {
    // Narrow: the states an "any state" box's arrows reach, one under the other (at each level,
    // the children that hold them, in the order the arrows are declared), so that their labels do
    // not stand side by side.
    const childIn = (container: string, id: string): string | undefined => {
      let child = id;
      while (child !== 's:' && containerOf(child) !== container) child = containerOf(child);
      return child === 's:' ? undefined : child;
    };
    const stairs = (container: string, targets: string[]) => {
      const children: string[] = [];
      for (const t of targets) {
        const c = childIn(container, t);
        if (c !== undefined && !children.includes(c)) children.push(c);
      }
      children.slice(1).forEach((c, i) => edges.push({ id: `stair:${container}:${c}`, sources: [children[i] as string], targets: [c] }));
      for (const c of children) {
        const inner = targets.filter((t) => t !== c && childIn(c, t) !== undefined);
        if (inner.length > 1) stairs(c, inner);
      }
    };
    const reached = new Map<string, string[]>();
    for (const b of bundles) {
      const source = b.sources[0] as string;
      if (b.sources.length === 1 && source.startsWith('any:')) reached.set(source, [...(reached.get(source) ?? []), ...b.targets]);
    }
    for (const [source, targets] of reached) stairs(containerOf(source), targets);
  }
  graph.edges = edges;
  graph.layoutOptions = {
    ...graph.layoutOptions,
    'elk.algorithm': 'layered',
    'elk.direction': 'DOWN',
    'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    'elk.edgeRouting': 'ORTHOGONAL',
    'elk.json.shapeCoords': 'ROOT',
    'elk.json.edgeCoords': 'ROOT',
    'elk.edgeLabels.placement': 'CENTER',
    'elk.spacing.nodeNode': '22',
    'elk.spacing.edgeNode': '14',
    'elk.spacing.edgeEdge': '10',
    'elk.spacing.edgeLabel': '4',
    'elk.spacing.labelNode': '6',
    'elk.layered.spacing.nodeNodeBetweenLayers': '28',
    'elk.layered.spacing.edgeNodeBetweenLayers': '14',
    'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    ...(variant === 'wide'
      ? { 'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF' }
      : {
          // The narrowest placement; a label in whichever layer of a long arrow has room for it.
          'elk.layered.nodePlacement.strategy': 'SIMPLE',
          'elk.layered.edgeLabels.centerLabelPlacementStrategy': 'SPACE_EFFICIENT_LAYER',
        }),
  };

  const done = await engine.layout(graph);
  const out: ChartLayout = { width: done.width ?? 0, height: done.height ?? 0, states: [], anys: [], initials: [], edges: [] };
  const boxes = new Map<string, Box>();
  const collect = (n: ElkNode) => {
    boxes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
    for (const c of n.children ?? []) collect(c);
  };
  collect(done);
  for (const s of model.states.values()) {
    const b = boxes.get(s.id);
    if (b !== undefined) out.states.push({ ...b, state: s, rows: geometry.get(s.id)?.rows ?? [], rowsTop: geometry.get(s.id)?.rowsTop ?? 0 });
    const a = s.any === undefined ? undefined : boxes.get(s.any);
    if (a !== undefined && s.any !== undefined) out.anys.push({ ...a, id: s.any, owner: s, rows: geometry.get(s.any)?.rows ?? [], rowsTop: geometry.get(s.any)?.rowsTop ?? 0 });
  }

  const byId = new Map<string, ElkExtendedEdge>();
  const allEdges = (n: ElkNode) => {
    for (const e of n.edges ?? []) byId.set(e.id, e);
    for (const c of n.children ?? []) allEdges(c);
  };
  allEdges(done);
  const points = (id: string): Point[] =>
    (byId.get(id)?.sections ?? []).map((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).flat().map((p) => ({ x: p.x, y: p.y }));

  for (const s of model.states.values()) {
    if (s.initial === undefined) continue;
    const dot = boxes.get(`init:${s.path}`);
    if (dot !== undefined) out.initials.push({ dot, path: points(`init:${s.path}`) });
  }
  bundles.forEach((b, k) => {
    const junction = b.sources.length > 1;
    const arrows = b.targets.map((_, i) => points(`b${k}#${i}`));
    const l = junction ? boxes.get(`junction:${k}`) : byId.get(`b${k}#0`)?.labels?.[0];
    const paths = new Map<string, { leg: Point[] | undefined; arrows: Point[][] }>();
    b.bySource.forEach((ts, j) => {
      for (const t of ts) paths.set(t.id, { leg: junction ? points(`b${k}<${j}`) : undefined, arrows });
    });
    out.edges.push({
      transitions: b.bySource.flat(),
      paths,
      label: { x: l?.x ?? 0, y: l?.y ?? 0, width: l?.width ?? 0, height: l?.height ?? 0, parts: b.parts },
      junction,
    });
  });
  return out;
}
