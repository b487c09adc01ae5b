// Draws a socket's statechart from its machine definition as SVG: states as boxes (composite ones
// with their children inside, parallel regions dashed), every transition an arrow with its
// `event [guard] / actions` label, laid out by ELK (chart-layout.ts) in a Web Worker. Nothing here
// is written per socket type: a new machine draws itself. `light()` marks the states a snapshot is
// in; `flash()` marks the transitions taken last (or, when which one is not known, every candidate)
// and runs a token along their arrows.
//
// The chart is never shown smaller than READABLE_ZOOM in its card (its smallest text at 10 px or
// more): of its two layouts it draws the wide one where the card has room for it, else the narrow
// one, and the card grows to the chart's height rather than scroll it.
//
//   ┌ chart ─────────────────────────── − + fit ⤢ ┐
//   │ viewport (drag to pan; scrolls when zoomed) │
//   │   svg: machine box ▸ states ▸ arrows        │
//   └─────────────────────────────────────────────┘

import ElkApi from 'elkjs/lib/elk-api.js';
import type { ELK } from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { AnyStateMachine, StateValue } from 'xstate';
import { h } from './dom.js';
import { chartModel } from './chart-model.js';
import type { ChartModel, ChartTransition } from './chart-model.js';
import { FONT_SIZE, LINE, LOOP, layoutChart, stateNotes, stateTag } from './chart-layout.js';
import type { ChartLayout, Line, Measure, Point, Row, TextStyle, Variant } from './chart-layout.js';
import { activePaths } from './taken.js';

export interface Chart {
  element: HTMLElement;
  model: ChartModel;
  /** Resolves once the layout is drawn. */
  ready: Promise<void>;
  /** Lights the states `value` is in; returns their dotted paths. */
  light(value: StateValue): string[];
  /**
   * Marks the transitions the machine took (transition objects of its definition, see taken.ts) as
   * the last taken, and animates them. `ambiguous`: they are the candidates, one of which was taken.
   */
  flash(taken: readonly unknown[], ambiguous?: boolean): void;
  /** The transition as the chart labels it, e.g. `peer.attached [isPaired] / refusePeer`. */
  describe(transition: unknown): ChartTransition | undefined;
}

const SVG = 'http://www.w3.org/2000/svg';
const MONO = "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, monospace";
/** Must match style.css (`.sc-svg` text classes). */
const FONTS: Record<TextStyle, string> = {
  name: `600 ${FONT_SIZE.name}px ${MONO}`,
  note: `${FONT_SIZE.note}px ${MONO}`,
  event: `600 ${FONT_SIZE.event}px ${MONO}`,
  guard: `${FONT_SIZE.guard}px ${MONO}`,
  detail: `${FONT_SIZE.detail}px ${MONO}`,
};
const MIN_ZOOM = 0.3;
const MAX_ZOOM = 2;
/** The smallest zoom at which every text of the chart is 10 px or more: a card never shows it smaller. */
const READABLE_ZOOM = 10 / Math.min(...Object.values(FONT_SIZE));

// elkjs is CommonJS: its constructor is the module itself, or its `default` (as bundlers wrap it).
// ELK runs in a Web Worker (its own file, which vite copies as an asset), so a layout never holds
// up the page.
type ElkConstructor = new (options: { workerUrl: string }) => ELK;
const Elk = ((ElkApi as unknown as { default?: ElkConstructor }).default ?? ElkApi) as unknown as ElkConstructor;
let engine: ELK | undefined;

let measurer: CanvasRenderingContext2D | null | undefined;
const measure: Measure = (text, style) => {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (measurer === null) return text.length * 7;
  measurer.font = FONTS[style];
  return measurer.measureText(text).width;
};

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | null)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null) el.appendChild(c);
  return el;
}

function text(x: number, y: number, cls: string, content: string): SVGTextElement {
  const t = s('text', { x, y, class: cls });
  t.textContent = content;
  return t;
}

/** An orthogonal polyline with softly rounded corners. */
function roundedPath(points: Point[], r = 5): string {
  if (points.length === 0) return '';
  const [first] = points as [Point];
  let d = `M${first.x},${first.y}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i] as Point;
    const prev = points[i - 1] as Point;
    const next = points[i + 1];
    if (next === undefined) {
      d += ` L${p.x},${p.y}`;
      break;
    }
    const a = Math.min(r, Math.hypot(p.x - prev.x, p.y - prev.y) / 2, Math.hypot(next.x - p.x, next.y - p.y) / 2);
    const inX = p.x - Math.sign(p.x - prev.x) * a;
    const inY = p.y - Math.sign(p.y - prev.y) * a;
    const outX = p.x + Math.sign(next.x - p.x) * a;
    const outY = p.y + Math.sign(next.y - p.y) * a;
    d += ` L${inX},${inY} Q${p.x},${p.y} ${outX},${outY}`;
  }
  return d;
}

const PAD_X = 10;

/** One line of a transition's label; on an `event [guard]` line the guard gets its own colour. */
function labelText(x: number, y: number, line: Line): SVGTextElement {
  const at = line.style === 'event' ? line.text.indexOf(' [') : -1;
  if (at < 0) return text(x, y, `sc-${line.style}`, line.text);
  const t = s('text', { x, y, class: 'sc-event' });
  t.appendChild(document.createTextNode(line.text.slice(0, at + 1)));
  const guard = s('tspan', { class: 'sc-guard' });
  guard.textContent = line.text.slice(at + 1);
  t.appendChild(guard);
  return t;
}

/** What a transition says in one line: `request.sent [leavesStaleReplies] → awaitingReply / recordRequest`. */
export function transitionText(t: ChartTransition): string {
  const to = t.kind === 'stays' ? ' (stays where it is)' : ` → ${t.targetPaths.join(', ')}`;
  return `${t.guard ? `${t.event} [${t.guard}]` : t.event}${to}${t.actions.length > 0 ? ` / ${t.actions.join(', ')}` : ''}`;
}

let uid = 0;

export function drawChart(machine: AnyStateMachine): Chart {
  const model = chartModel(machine);
  const id = `sc${uid++}`;
  const nodes = new Map<string, SVGGElement>();
  const edges = new Map<string, SVGGElement>();
  /** Each transition's part of its arrow's label (a junction's part stands for several transitions). */
  const labels = new Map<string, SVGGElement>();
  const anys = new Map<string, SVGGElement>();
  let lit: string[] = [];
  let last: string[] = [];
  let lastAmbiguous = false;
  let zoom = 1;
  let layout: ChartLayout | undefined;
  const layouts: Partial<Record<Variant, ChartLayout>> = {};

  const svg = s('svg', { class: 'sc-svg', role: 'img', 'aria-label': `statechart of ${model.machineId}` });
  const viewport = h('div', { class: 'sc-viewport', 'data-testid': 'chart-viewport', tabindex: 0 }, svg);
  const zoomLabel = h('span', { class: 'sc-zoom' }, '');
  const setZoom = (z: number, anchor?: { x: number; y: number }) => {
    if (layout === undefined) return;
    const before = zoom;
    zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
    // Keep the point under the anchor (a viewport coordinate) where it was.
    const ax = anchor?.x ?? viewport.clientWidth / 2;
    const ay = anchor?.y ?? viewport.clientHeight / 2;
    const cx = (viewport.scrollLeft + ax) / before;
    const cy = (viewport.scrollTop + ay) / before;
    // The viewBox is in whole units (see draw), so at 100% one unit is exactly one pixel.
    svg.setAttribute('width', String(Math.ceil(layout.width) * zoom));
    svg.setAttribute('height', String(Math.ceil(layout.height) * zoom));
    viewport.scrollLeft = cx * zoom - ax;
    viewport.scrollTop = cy * zoom - ay;
    zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
    element.setAttribute('data-zoom', zoom.toFixed(2));
  };
  /**
   * The whole chart in view, or (`readable`) the smallest readable zoom when the whole would be
   * too small: then the viewport scrolls, and follows the current state.
   */
  const fit = (readable = true) => {
    if (layout === undefined) return;
    const w = viewport.clientWidth || layout.width;
    const cap = Number.parseFloat(getComputedStyle(viewport).maxHeight);
    // In a card the viewport grows to the chart's height; opened large it has the height it has.
    const hgt = element.classList.contains('expanded') ? viewport.clientHeight : Number.isFinite(cap) ? cap : Infinity;
    const zoomFor = (l: ChartLayout) => Math.min(1, (w - 2) / l.width, (hgt - 2) / l.height);
    // The layout shown larger (the wide one when both fit at full size), drawn if it is not yet;
    // the one drawn stays unless the other is clearly larger (a scrollbar coming and going must not
    // swap them back and forth).
    const other = layout === layouts.wide ? layouts.narrow : layouts.wide;
    const best = other !== undefined && zoomFor(other) > zoomFor(layout) + 0.02 ? other : layout;
    if (best !== layout) draw(best);
    const z = zoomFor(best);
    setZoom(readable ? Math.max(z, READABLE_ZOOM) : z);
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
    touched = -Infinity;
    follow(false);
  };
  /** When the user last panned or zoomed: the chart follows the current state only when left alone a while. */
  let touched = -Infinity;
  /** Scrolls the current (innermost) states into view, if the chart is larger than its viewport. */
  const follow = (smooth = true) => {
    if (layout === undefined || performance.now() - touched < 8000) return;
    if (viewport.scrollWidth <= viewport.clientWidth + 1 && viewport.scrollHeight <= viewport.clientHeight + 1) return;
    const boxes = [...svg.querySelectorAll<SVGGElement>('.sc-node.active:not(.sc-composite)')];
    if (boxes.length === 0) return;
    const v = viewport.getBoundingClientRect();
    const rects = boxes.map((b) => b.getBoundingClientRect());
    const left = Math.min(...rects.map((r) => r.left)) - v.left + viewport.scrollLeft;
    const right = Math.max(...rects.map((r) => r.right)) - v.left + viewport.scrollLeft;
    const top = Math.min(...rects.map((r) => r.top)) - v.top + viewport.scrollTop;
    const bottom = Math.max(...rects.map((r) => r.bottom)) - v.top + viewport.scrollTop;
    viewport.scrollTo({
      left: Math.max(0, (left + right) / 2 - viewport.clientWidth / 2),
      top: Math.max(0, (top + bottom) / 2 - viewport.clientHeight / 2),
      behavior: smooth ? 'smooth' : 'auto',
    });
  };
  const tool = (label: string, title: string, action: string, run: () => void) => h('button', { class: 'sc-tool', title, 'aria-label': title, 'data-chart': action, onclick: run }, label);
  const expand = () => {
    const on = !element.classList.contains('expanded');
    element.classList.toggle('expanded', on);
    expandButton.textContent = on ? '✕' : '⤢';
    expandButton.title = on ? 'back to the card (Esc)' : 'open the chart large';
    requestAnimationFrame(() => fit());
  };
  const expandButton = tool('⤢', 'open the chart large', 'expand', expand);
  const toolbar = h('div', { class: 'sc-toolbar' },
    h('span', { class: 'sc-title' }, h('strong', {}, model.machineId), ' statechart'),
    h('span', { class: 'sc-legend' },
      h('span', { class: 'sc-key sc-key-active' }, 'current state'),
      h('span', { class: 'sc-key sc-key-last' }, 'last transition'),
      h('span', { class: 'sc-key sc-key-ambiguous', title: 'the last event took one of the dashed transitions; which one, the page could not tell' }, 'one of these')),
    h('span', { class: 'sc-tools' },
      tool('−', 'zoom out', 'zoom-out', () => {
        touched = performance.now();
        setZoom(zoom / 1.25);
      }),
      zoomLabel,
      tool('+', 'zoom in', 'zoom-in', () => {
        touched = performance.now();
        setZoom(zoom * 1.25);
      }),
      tool('fit', 'show the whole chart', 'fit', () => {
        fit(false);
        touched = performance.now();
      }),
      expandButton),
  );
  const element = h('figure', { class: 'sc-chart', 'data-machine': model.machineId, 'data-transitions': model.transitions.length, 'data-layout': 'pending' },
    toolbar, viewport,
    h('figcaption', { class: 'sc-caption' }, 'Arrows are transitions: event [guard] / actions. A dashed "any state" box stands for whichever state around it the machine is in. Drag to pan; Ctrl + wheel zooms.'),
  );
  element.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Escape' && element.classList.contains('expanded')) expand();
  });

  // A new width (the window resized, the layout switched to narrow): fit again, unless the user has zoomed.
  let lastWidth = 0;
  new ResizeObserver(() => {
    const w = viewport.clientWidth;
    if (w === lastWidth || w === 0) return;
    lastWidth = w;
    if (performance.now() - touched > 8000) fit();
  }).observe(viewport);

  // Drag to pan (the viewport scrolls), Ctrl/⌘ + wheel to zoom about the pointer.
  let drag: { x: number; y: number; left: number; top: number } | undefined;
  viewport.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
    touched = performance.now();
    viewport.setPointerCapture(e.pointerId);
    viewport.classList.add('dragging');
  });
  viewport.addEventListener('pointermove', (e) => {
    if (drag === undefined) return;
    viewport.scrollLeft = drag.left - (e.clientX - drag.x);
    viewport.scrollTop = drag.top - (e.clientY - drag.y);
  });
  const endDrag = () => {
    drag = undefined;
    viewport.classList.remove('dragging');
  };
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);
  viewport.addEventListener('wheel', (e) => {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    touched = performance.now();
    const r = viewport.getBoundingClientRect();
    setZoom(zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15), { x: e.clientX - r.left, y: e.clientY - r.top });
  }, { passive: false });

  function draw(l: ChartLayout): void {
    layout = l;
    svg.setAttribute('viewBox', `0 0 ${Math.ceil(l.width)} ${Math.ceil(l.height)}`);
    edges.clear();
    labels.clear();
    nodes.clear();
    anys.clear();
    const defs = s('defs', {},
      s('marker', { id: `${id}-arrow`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse', class: 'sc-head' },
        s('path', { d: 'M0,0 L10,5 L0,10 z' })),
      s('marker', { id: `${id}-arrow-last`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse', class: 'sc-head sc-head-last' },
        s('path', { d: 'M0,0 L10,5 L0,10 z' })),
    );
    const stateLayer = s('g', { class: 'sc-states' });
    // Outer boxes first, so children paint over their parents.
    const depth = (p: string) => (p === '' ? 0 : p.split('.').length);
    for (const b of [...l.states].sort((a, c) => depth(a.state.path) - depth(c.state.path))) {
      const st = b.state;
      const notes = stateNotes(st);
      const composite = st.children.length > 0;
      const cls = `sc-node sc-${st.kind}${st.region ? ' sc-region' : ''}${composite ? ' sc-composite' : ''}`;
      const g = s('g', { class: cls, 'data-path': st.path, transform: `translate(${b.x},${b.y})` });
      g.appendChild(s('rect', { class: 'sc-box', width: b.width, height: b.height, rx: composite ? 10 : 7 }));
      if (st.kind === 'final') g.appendChild(s('rect', { class: 'sc-final-ring', x: 3, y: 3, width: b.width - 6, height: b.height - 6, rx: 5 }));
      if (composite) {
        g.appendChild(text(10, 17, 'sc-name', st.name));
        const tag = stateTag(st);
        if (tag) g.appendChild(text(14 + measure(st.name, 'name'), 17, 'sc-tag', tag));
        notes.forEach((n, i) => g.appendChild(text(10, 17 + LINE.note * (i + 1), 'sc-note', n)));
      } else {
        g.appendChild(text(b.width / 2, 19, 'sc-name sc-center', st.name));
        notes.forEach((n, i) => g.appendChild(text(b.width / 2, 19 + LINE.note * (i + 1), 'sc-note sc-center', n)));
      }
      if (!composite) drawRows(g, b.rows, b.width);
      g.appendChild(s('title', {}, document.createTextNode(st.kind === 'machine' ? `the ${st.name} machine` : `${st.path}${st.kind === 'final' ? ' (final)' : ''}${notes.length > 0 ? `\n${notes.join('\n')}` : ''}`)));
      nodes.set(st.path, g);
      stateLayer.appendChild(g);
    }
    for (const a of l.anys) {
      const g = s('g', { class: 'sc-any', 'data-owner': a.owner.path, transform: `translate(${a.x},${a.y})` },
        s('rect', { class: 'sc-box', width: a.width, height: a.height, rx: 10 }),
        a.rows.length > 0 ? text(10, 14, 'sc-note', 'any state') : text(a.width / 2, a.height / 2 + 3.5, 'sc-note sc-center', 'any state'),
        s('title', {}, document.createTextNode(`whichever state of ${a.owner.kind === 'machine' ? `the ${a.owner.name} machine` : a.owner.path} the machine is in: transitions from here are declared on ${a.owner.kind === 'machine' ? 'the machine' : a.owner.path}`)));
      drawRows(g, a.rows, a.width);
      anys.set(a.owner.path, g);
      stateLayer.appendChild(g);
    }
    for (const i of l.initials) {
      stateLayer.appendChild(s('circle', { class: 'sc-initial', cx: i.dot.x + i.dot.width / 2, cy: i.dot.y + i.dot.height / 2, r: 4.5 }));
      stateLayer.appendChild(s('path', { class: 'sc-initial-edge', d: roundedPath(i.path), 'marker-end': `url(#${id}-arrow)` }));
    }
    const edgeLayer = s('g', { class: 'sc-edges' });
    const labelLayer = s('g', { class: 'sc-labels' });
    for (const e of l.edges) {
      const hover = (on: boolean, ts: ChartTransition[]) => () => {
        for (const t of ts) {
          edges.get(t.id)?.classList.toggle('hover', on);
          labels.get(t.id)?.classList.toggle('hover', on);
        }
      };
      // One group per transition: its arrow (the same line as the others of its bundle) and its title.
      for (const t of e.transitions) {
        const g = s('g', {
          class: `sc-edge sc-${t.kind}`,
          'data-transition': t.id,
          'data-event': t.event,
          'data-source': t.owner,
          'data-target': t.targetPaths.join(' '),
        });
        const path = e.paths.get(t.id);
        if (path?.leg !== undefined) g.appendChild(s('path', { class: 'sc-line sc-leg', d: roundedPath(path.leg) }));
        for (const p of path?.arrows ?? []) g.appendChild(s('path', { class: 'sc-line', d: roundedPath(p), 'marker-end': `url(#${id}-arrow)` }));
        g.appendChild(s('title', {}, document.createTextNode(`${t.owner || model.machineId}: ${transitionText(t)}`)));
        g.addEventListener('mouseenter', hover(true, [t]));
        g.addEventListener('mouseleave', hover(false, [t]));
        edges.set(t.id, g);
        edgeLayer.appendChild(g);
      }
      // One label box per arrow, a part per transition (or per same-reading transitions of a junction).
      const box = s('g', { class: `sc-label-box${e.junction ? ' sc-junction' : ''}`, transform: `translate(${e.label.x},${e.label.y})` },
        s('rect', { class: 'sc-label-bg', width: e.label.width, height: e.label.height, rx: 3 }));
      for (const part of e.label.parts) {
        const ids = part.transitions.map((t) => t.id);
        const g = s('g', { class: 'sc-label', 'data-transition': ids.join(' ') },
          s('rect', { class: 'sc-part-bg', y: part.y, width: e.label.width, height: part.height + 2, rx: 3 }));
        let y = part.y;
        for (const line of part.lines) {
          y += LINE[line.style];
          g.appendChild(labelText(3, y - 3 + 1, line));
        }
        g.appendChild(s('title', {}, document.createTextNode(part.transitions.map((t) => `${t.owner || model.machineId}: ${transitionText(t)}`).join('\n'))));
        // Pointing at a label lights its arrow, and the other way round.
        g.addEventListener('mouseenter', hover(true, part.transitions));
        g.addEventListener('mouseleave', hover(false, part.transitions));
        for (const t of ids) labels.set(t, g);
        box.appendChild(g);
      }
      labelLayer.appendChild(box);
    }
    svg.replaceChildren(defs, stateLayer, edgeLayer, labelLayer);
    element.setAttribute('data-layout', 'done');
    element.setAttribute('data-variant', l === layouts.wide ? 'wide' : 'narrow');
    element.setAttribute('data-size', `${Math.round(l.width)}x${Math.round(l.height)}`);
    // A new drawing: light it as the old one was.
    const wasLit = lit;
    lit = [];
    if (pendingValue !== undefined || wasLit.length > 0) chart.light(pendingValue ?? currentValue);
    pendingValue = undefined;
    if (last.length > 0) mark(last, lastAmbiguous, false);
  }

  let pendingValue: StateValue | undefined;

  /** A box's rows: each transition's label inside the box, and its loop arrow on the box's right edge. */
  function drawRows(box: SVGGElement, rows: Row[], width: number): void {
    for (const r of rows) {
      const t = r.transition;
      const g = s('g', { class: `sc-edge sc-row sc-${t.kind}`, 'data-transition': t.id, 'data-event': t.event, 'data-source': t.owner, 'data-target': t.targetPaths.join(' ') },
        s('rect', { class: 'sc-row-bg', x: 4, y: r.y, width: width - 8, height: r.height, rx: 3 }));
      let y = r.y + 1;
      for (const line of r.lines) {
        y += LINE[line.style];
        g.appendChild(labelText(PAD_X, y - 3, line));
      }
      const y1 = r.y + 4;
      const y2 = r.y + r.height - 4;
      g.appendChild(s('path', { class: 'sc-line', d: `M${width},${y1} C${width + LOOP + 2},${y1 - 2} ${width + LOOP + 2},${y2 + 2} ${width + 1.5},${y2}`, 'marker-end': `url(#${id}-arrow)` }));
      g.appendChild(s('title', {}, document.createTextNode(`${t.owner || model.machineId}: ${transitionText(t)}`)));
      edges.set(t.id, g);
      box.appendChild(g);
    }
  }

  /**
   * Marks these transitions (ids) as the last taken, or (`ambiguous`) as the candidates one of which
   * was; `animate` runs a token along each arrow.
   */
  function mark(ids: string[], ambiguous: boolean, animate: boolean): void {
    for (const old of last) {
      const g = edges.get(old);
      g?.classList.remove('sc-last', 'sc-taking', 'sc-ambiguous');
      labels.get(old)?.classList.remove('sc-last', 'sc-ambiguous');
      for (const p of g?.querySelectorAll('.sc-line:not(.sc-leg)') ?? []) p.setAttribute('marker-end', `url(#${id}-arrow)`);
    }
    last = ids;
    lastAmbiguous = ambiguous;
    element.setAttribute('data-last-transition', ids.join(' '));
    element.setAttribute('data-last-ambiguous', String(ambiguous));
    for (const tid of ids) {
      const g = edges.get(tid);
      if (g === undefined) continue;
      g.classList.add('sc-last');
      g.classList.toggle('sc-ambiguous', ambiguous);
      labels.get(tid)?.classList.add('sc-last');
      labels.get(tid)?.classList.toggle('sc-ambiguous', ambiguous);
      for (const p of g.querySelectorAll('.sc-line:not(.sc-leg)')) p.setAttribute('marker-end', `url(#${id}-arrow-last)`);
      // Bring it to the front, so the lit arrow is not hidden under others.
      g.parentNode?.appendChild(g);
      if (!animate) continue;
      g.classList.remove('sc-taking');
      void (g as unknown as HTMLElement).getBoundingClientRect();
      g.classList.add('sc-taking');
      // The token runs the whole way: along the transition's own leg into a junction, then on.
      const lines = [...g.querySelectorAll<SVGPathElement>('.sc-line')];
      const leg = lines.find((p) => p.classList.contains('sc-leg'));
      for (const p of lines.filter((x) => x !== leg)) {
        const d = leg === undefined ? (p.getAttribute('d') ?? '') : `${leg.getAttribute('d') ?? ''} ${(p.getAttribute('d') ?? '').replace(/^M/, 'L')}`;
        const token = s('circle', { class: 'sc-token', r: 4.5 });
        const motion = s('animateMotion', { dur: '0.9s', fill: 'freeze', path: d, begin: 'indefinite' });
        token.appendChild(motion);
        g.appendChild(token);
        motion.addEventListener('endEvent', () => token.remove());
        try {
          (motion as unknown as { beginElement(): void }).beginElement();
        } catch {
          token.remove();
        }
        setTimeout(() => token.remove(), 1500);
      }
    }
  }

  engine ??= new Elk({ workerUrl: elkWorkerUrl });
  const elk = engine;
  const ready = Promise.all((['wide', 'narrow'] as const).map(async (v) => {
    layouts[v] = await layoutChart(model, measure, elk, v);
  })).then(() => {
    draw(layouts.wide as ChartLayout);
    requestAnimationFrame(() => fit());
  }, (e: unknown) => {
    element.setAttribute('data-layout', 'failed');
    viewport.replaceChildren(h('p', { class: 'sc-failed' }, `The layout failed: ${String(e)}`));
  });

  let currentValue: StateValue = {};
  const chart: Chart = {
    element,
    model,
    ready,
    light(value) {
      const next = activePaths(value);
      currentValue = value;
      if (layout === undefined) {
        pendingValue = value;
        return next;
      }
      for (const p of lit) if (!next.includes(p)) {
        nodes.get(p)?.classList.remove('active');
        anys.get(p)?.classList.remove('active');
      }
      for (const p of next) {
        nodes.get(p)?.classList.add('active');
        anys.get(p)?.classList.add('active');
      }
      // The machine itself is always "in" its any-state box while it runs.
      anys.get('')?.classList.add('active');
      const moved = lit.join() !== next.join();
      lit = next;
      if (moved) requestAnimationFrame(() => follow());
      return next;
    },
    flash(taken, ambiguous = false) {
      const ids = taken.map((t) => model.byRef.get(t)?.id).filter((x): x is string => x !== undefined);
      if (ids.length > 0) mark(ids, ambiguous && ids.length > 1, true);
    },
    describe(t) {
      return model.byRef.get(t);
    },
  };
  return chart;
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
