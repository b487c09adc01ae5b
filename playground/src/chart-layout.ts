// Lays a ChartModel out with ELK's layered algorithm (elkjs, the engine Stately's editor uses):
// states as boxes nested in their parents, each transition an orthogonal arrow with its label
// placed by ELK. Text is measured by the function the caller passes. Every coordinate it returns
// is absolute (from the drawing's corner).

import ElkApi from 'elkjs/lib/elk-api.js';
import type { ELK, ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { ChartModel, ChartState, ChartTransition } from './chart-model.js';

/** Text styles the drawing uses; the measurer returns a width in px for one line. */
export type TextStyle = 'name' | 'note' | 'event' | 'guard' | 'detail';
export type Measure = (text: string, style: TextStyle) => number;

export const LINE = { name: 16, note: 13, event: 14, guard: 13, detail: 12 } as const;
/** A label line longer than this (in characters) breaks: guard on its own line, actions over several. */
const WRAP = 30;
const HEAD = 26; // a composite state's title bar
const PAD = 10;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A transition drawn as a row inside a box: where its text sits, relative to the box. */
export interface Row {
  transition: ChartTransition;
  y: number;
  height: number;
  lines: { text: string; style: TextStyle }[];
}

export interface PlacedState extends Box {
  state: ChartState;
  /** Its rows (none for a composite state: they are in its "any state" box). */
  rows: Row[];
  /** Where the rows start, below the name and notes. */
  rowsTop: number;
}

export interface PlacedEdge {
  transition: ChartTransition;
  /** One polyline per target (a transition to several parallel regions draws several). */
  paths: { x: number; y: number }[][];
  label: Box & { lines: { text: string; style: TextStyle }[] };
}

export interface ChartLayout {
  width: number;
  height: number;
  states: PlacedState[];
  /** "any state" boxes, by id, with the state they stand in. */
  anys: (Box & { id: string; owner: ChartState; rows: Row[]; rowsTop: number })[];
  /** Initial dots and their arrows. */
  initials: { dot: Box; path: { x: number; y: number }[] }[];
  /** The transitions drawn as arrows between boxes (the others are rows: see `Row`). */
  edges: PlacedEdge[];
}

/**
 * The lines of an arrow's label: `event [guard]` (the guard on a line of its own when both are
 * long), then `/ actions` in smaller type, broken between actions so no line runs long.
 */
export function labelLines(t: ChartTransition): { text: string; style: TextStyle }[] {
  const lines: { text: string; style: TextStyle }[] = [{ text: t.event, style: 'event' }];
  if (t.guard !== undefined) {
    const guard = `[${t.guard}]`;
    if (t.event.length + guard.length + 1 <= WRAP) lines[0] = { text: `${t.event} ${guard}`, style: 'event' };
    else lines.push({ text: guard, style: 'guard' });
  }
  let line = '';
  for (const a of t.actions) {
    if (line === '') line = `/ ${a}`;
    else if (line.length + a.length + 2 <= WRAP) line += `, ${a}`;
    else {
      lines.push({ text: `${line},`, style: 'detail' });
      line = `  ${a}`;
    }
  }
  if (line !== '') lines.push({ text: line, style: 'detail' });
  return lines;
}

/** A row's lines: an arrow's label, naming the state it goes to when that is a state around it. */
function rowLines(t: ChartTransition): { text: string; style: TextStyle }[] {
  const lines = labelLines(t);
  if (t.kind === 'up' && lines[0] !== undefined) lines[0] = { ...lines[0], text: `${lines[0].text} → ${t.targetPaths.join(', ')}` };
  return lines;
}

/** Room on a box's right for the loop arrows of its rows. */
export const LOOP = 14;

/** The rows of a box, stacked from `top`; returns them and the height they take. */
function stackRows(rows: ChartTransition[], top: number): { rows: Row[]; bottom: number } {
  const out: Row[] = [];
  let y = top;
  for (const t of rows) {
    const lines = rowLines(t);
    const height = lines.reduce((h, l) => h + LINE[l.style], 0) + 4;
    out.push({ transition: t, y, height, lines });
    y += height;
  }
  return { rows: out, bottom: y };
}

/** The notes under a state's name: its entry and exit effects. */
export function stateNotes(s: ChartState): string[] {
  return [...s.entry.map((a) => `entry / ${a}`), ...s.exit.map((a) => `exit / ${a}`)];
}

// elkjs is CommonJS: its constructor is the module itself, or its `default` (as bundlers wrap it).
// ELK runs in a Web Worker (its own file, which vite copies as an asset), so a layout never
// holds up the page.
type ElkConstructor = new (options: { workerUrl: string }) => ELK;
const Elk = ((ElkApi as unknown as { default?: ElkConstructor }).default ?? ElkApi) as unknown as ElkConstructor;
let engine: ELK | undefined;

export async function layoutChart(model: ChartModel, measure: Measure): Promise<ChartLayout> {
  engine ??= new Elk({ workerUrl: elkWorkerUrl });
  const edges: ElkExtendedEdge[] = [];
  const labelOf = new Map<string, { text: string; style: TextStyle }[]>();

  const size = (lines: { text: string; style: TextStyle }[]) => ({
    width: Math.ceil(Math.max(...lines.map((l) => measure(l.text, l.style)))) + 6,
    height: lines.reduce((h, l) => h + LINE[l.style], 0) + 2,
  });

  const rowsWidth = (rows: ChartTransition[]) => Math.max(0, ...rows.flatMap((t) => rowLines(t).map((l) => measure(l.text, l.style)))) + 2 * PAD + 4;
  const geometry = new Map<string, { rows: Row[]; rowsTop: number }>();
  const loopMargin = { 'elk.margins': `[top=0,left=0,bottom=0,right=${LOOP + 4}]` };

  function node(s: ChartState): ElkNode {
    const notes = stateNotes(s);
    const titleWidth = Math.ceil(Math.max(measure(s.name, 'name') + 34, ...notes.map((n) => measure(n, 'note') + 2 * PAD)));
    if (s.children.length === 0) {
      const rowsTop = 28 + notes.length * LINE.note + (s.rows.length > 0 ? 4 : 0);
      const stacked = stackRows(s.rows, rowsTop);
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
      const stacked = stackRows(s.rows, rowsTop);
      geometry.set(s.any, { rows: stacked.rows, rowsTop });
      children.push({
        id: s.any,
        width: Math.ceil(Math.max(measure('any state', 'note') + 2 * PAD, s.rows.length > 0 ? rowsWidth(s.rows) : 0)),
        height: s.rows.length > 0 ? stacked.bottom + 4 : 24,
        ...(s.rows.length > 0 ? { layoutOptions: loopMargin } : {}),
      });
    }
    const top = HEAD + notes.length * LINE.note;
    return {
      id: s.id,
      children,
      layoutOptions: {
        'elk.padding': `[top=${top + 6},left=${PAD},bottom=${PAD},right=${PAD}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${titleWidth}, ${top + 20})`,
        // Regions of a parallel state side by side, as statecharts draw them.
        ...(s.kind === 'parallel' ? { 'elk.direction': 'RIGHT' } : {}),
      },
    };
  }

  const graph = node(model.root);
  for (const t of model.transitions) {
    if (t.kind !== 'moves') continue;
    const lines = labelLines(t);
    const label: ElkLabel = { id: `label:${t.id}`, text: t.id, ...size(lines) };
    labelOf.set(t.id, lines);
    t.targets.forEach((target, i) => {
      edges.push({ id: `${t.id}#${i}`, sources: [t.source], targets: [target], labels: i === 0 ? [label] : [] });
    });
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
    'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
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
  const points = (e: ElkExtendedEdge | undefined) =>
    (e?.sections ?? []).map((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]).flat().map((p) => ({ x: p.x, y: p.y }));

  for (const s of model.states.values()) {
    if (s.initial === undefined) continue;
    const dot = boxes.get(`init:${s.path}`);
    if (dot !== undefined) out.initials.push({ dot, path: points(byId.get(`init:${s.path}`)) });
  }
  for (const t of model.transitions) {
    if (t.kind !== 'moves') continue;
    const paths = t.targets.map((_, i) => points(byId.get(`${t.id}#${i}`)));
    const first = byId.get(`${t.id}#0`);
    const l = first?.labels?.[0];
    out.edges.push({
      transition: t,
      paths,
      label: { x: l?.x ?? 0, y: l?.y ?? 0, width: l?.width ?? 0, height: l?.height ?? 0, lines: labelOf.get(t.id) ?? [] },
    });
  }
  return out;
}
