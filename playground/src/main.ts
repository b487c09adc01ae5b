// The playground: pick a scenario, and its sockets (the real monocoque runtime, over inproc, in
// this page) appear as cards with their statecharts lit, the connections between them with queue
// depths, and a log of every transition and monitor event.

import { Context } from '../../src/browser.js';
import type { InspectionEvent } from 'xstate';
import { Card } from './card.js';
import type { ChartTransition } from './chart-model.js';
import { h, replace } from './dom.js';
import { findLinks } from './links.js';
import { LinksView } from './links-view.js';
import { LiveSocket, Origins, socketClass } from './live.js';
import type { LogKind, Stage } from './live.js';
import { LogView } from './log-view.js';
import { scenarios } from './scenarios.js';
import type { Scenario } from './scenarios.js';
import { leafPaths, transitionText } from './statechart.js';
import { TakenTracker } from './taken.js';
import type { Taken } from './taken.js';
import { narrateMove, narrateStart, narrateStay } from './words.js';
import './style.css';

type Observer = (event: InspectionEvent) => void;

/** A scenario running on the page: its Context, sockets, cards and panels. */
class Show implements Stage {
  readonly context: Context;
  readonly origins = new Origins();
  readonly sockets: LiveSocket[] = [];
  readonly cards: Card[] = [];
  readonly log: LogView;
  readonly links: LinksView;
  #byActor = new Map<unknown, TakenTracker>();
  #scheduled = false;
  #disposed = false;

  constructor(readonly scenario: Scenario, mount: { cards: HTMLElement; side: HTMLElement }, extraInspect?: Observer) {
    const labels = new Map(scenario.sockets.map((s) => [s.key, s.label]));
    this.log = new LogView(labels);
    this.links = new LinksView(labels, new Map(scenario.sockets.map((s) => [s.key, s.type])));
    this.context = new Context({
      inspect: (event) => {
        this.#inspected(event);
        extraInspect?.(event);
      },
    });
    for (const spec of scenario.sockets) {
      const Class = socketClass(spec.type);
      if (Class === undefined) throw new Error(`${spec.type} is not exported by this build`); // show() checks first
      const live = new LiveSocket(spec, Class, this);
      const card = new Card(live);
      this.sockets.push(live);
      this.cards.push(card);
      this.#byActor.set(live.sock.actor, new TakenTracker(live.machine, live.sock.actor, (taken) => this.#took(card, taken)));
      this.log.add('transition', live.key, narrateStart(live.label, card.chart.model.machineId, leafPaths(live.value)), `starts in ${leafPaths(live.value).join(', ')}`);
    }
    replace(mount.cards, ...this.cards.map((c) => c.element));
    replace(mount.side, this.links.element, this.log.element);
    void this.#start();
  }

  async #start(): Promise<void> {
    for (const s of this.sockets) await s.bindAll();
    for (const s of this.sockets) s.connectAll();
    for (const s of this.sockets) for (const prefix of s.spec.subscribe ?? []) s.subscribe(prefix);
    this.changed();
  }

  record(kind: LogKind, socket: LiveSocket | undefined, text: string, raw?: string): void {
    if (!this.#disposed) this.log.add(kind, socket?.key, text, raw);
  }

  labelOf(key: string): string {
    return this.scenario.sockets.find((s) => s.key === key)?.label ?? key;
  }

  changed(): void {
    if (this.#scheduled || this.#disposed) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#disposed) return;
      for (const c of this.cards) c.update();
      this.links.update(findLinks(this.sockets));
    });
  }

  delivered(from: string, to: string): void {
    if (!this.#disposed) this.links.pulse(from, to);
  }

  dispose(): void {
    this.#disposed = true;
    for (const s of this.sockets) {
      s.cancelWaiting();
      if (!s.closed) s.sock.close();
    }
  }

  /** Hands each inspection event to the tracker of the socket it concerns (see taken.ts). */
  #inspected(event: InspectionEvent): void {
    if (!this.#disposed) this.#byActor.get(event.actorRef)?.inspect(event);
  }

  /**
   * A socket's machine handled an event: marks the transitions it took on the chart, and logs, in
   * words, its change of state (or each transition that ran its actions without leaving its state),
   * with the raw event on hover and the transitions' ids as `data-transitions`.
   */
  #took(card: Card, taken: Taken): void {
    if (this.#disposed) return;
    const { chart } = card;
    chart.flash(taken.transitions, taken.ambiguous);
    const drawn = taken.transitions.map((t) => chart.describe(t)).filter((t) => t !== undefined);
    const ids = { transitions: drawn.map((t) => t.id).join(' '), ambiguous: String(taken.ambiguous) };
    const moved = JSON.stringify(taken.before) !== JSON.stringify(taken.after);
    if (!moved) {
      // Each transition that ran, or, when one of several did, one line naming them all.
      if (taken.ambiguous) this.#logStay(card, taken.event, undefined, ids, drawn);
      else for (const t of drawn) this.#logStay(card, taken.event, t, ids);
      return;
    }
    // In parallel states name only the regions that moved.
    const was = leafPaths(taken.before);
    const now = leafPaths(taken.after);
    const left = was.filter((p) => !now.includes(p));
    const entered = now.filter((p) => !was.includes(p));
    this.log.add('transition', card.live.key, narrateMove(card.live.label, chart.model.machineId, taken.event.type, entered),
      `${left.join(', ')} → ${entered.join(', ')}  on ${taken.event.type}  ${rawEvent(taken.event)}`, ids);
  }

  #logStay(card: Card, event: { type: string }, drawn: ChartTransition | undefined, ids: Record<string, string>, candidates?: ChartTransition[]): void {
    const raw = drawn !== undefined ? transitionText(drawn) : candidates !== undefined ? `one of: ${candidates.map(transitionText).join(' | ')}` : event.type;
    this.log.add('transition', card.live.key, narrateStay(card.live.label, event.type, drawn), `${raw}  ${rawEvent(event)}`, ids);
  }
}

/** An xstate event as JSON, with byte arrays shortened (a routing id, a subscription). */
function rawEvent(event: unknown): string {
  try {
    return JSON.stringify(event, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
  } catch {
    return String((event as { type?: string }).type);
  }
}

// ---- the page ----

const app = document.getElementById('app') as HTMLElement;
const picker = h('nav', { class: 'picker', 'data-testid': 'scenario-picker', 'aria-label': 'scenarios' });
const about = h('div', { class: 'about', 'data-testid': 'about' });
const cards = h('div', { class: 'cards', 'data-testid': 'cards' });
const side = h('aside', { class: 'side' });
const inspectButton = h('button', {
  'data-action': 'inspect',
  title: 'Opens stately.ai/inspect in a new window (it needs the network) and restarts the scenario with it attached. Offline, the page tells you instead.',
  onclick: () => void openInspector(),
}, 'Open in Stately inspector');
const resetButton = h('button', { 'data-action': 'reset', onclick: () => show(current.id) }, 'restart scenario');

let current: Scenario = scenarios[0] as Scenario;
let running: Show | undefined;
let inspector: Observer | undefined;

function missingClasses(s: Scenario): string[] {
  return [...new Set(s.sockets.map((k) => k.type))].filter((t) => socketClass(t) === undefined);
}

for (const s of scenarios) {
  const missing = missingClasses(s);
  picker.appendChild(h('button', {
    'data-scenario': s.id,
    'data-available': String(missing.length === 0),
    title: missing.length > 0 ? `not in this build yet: ${missing.join(', ')}` : s.summary,
    onclick: () => show(s.id),
  }, s.title));
}

function show(id: string): void {
  current = scenarios.find((s) => s.id === id) ?? current;
  running?.dispose();
  running = undefined;
  for (const b of picker.querySelectorAll('button')) b.classList.toggle('selected', b.getAttribute('data-scenario') === current.id);
  app.setAttribute('data-scenario', current.id);
  replace(about,
    h('h2', {}, current.title),
    h('p', {}, current.summary),
    h('ol', { class: 'try' }, ...current.tryThis.map((t) => h('li', {}, t))),
  );
  const missing = missingClasses(current);
  if (missing.length > 0) {
    replace(cards, h('div', { class: 'missing', 'data-testid': 'missing' },
      h('p', {}, `This build of monocoque does not export ${missing.join(', ')} yet, so this scenario cannot run. Its sockets:`),
      h('ul', {}, ...current.sockets.map((s) => h('li', {}, `${s.label}: new ${s.type}(${s.options ? JSON.stringify(s.options) : ''})`))),
    ));
    replace(side);
    return;
  }
  running = new Show(current, { cards, side }, inspector);
  if (location.hash !== `#${current.id}`) history.replaceState(null, '', `#${current.id}`);
}

const inspectNote = h('div', { class: 'notice', 'data-testid': 'inspector-note', role: 'status', hidden: true });

function say(note: string | null): void {
  inspectNote.hidden = note === null;
  replace(inspectNote, ...(note === null ? [] : [h('span', {}, note), h('button', { 'data-action': 'dismiss', onclick: () => say(null) }, 'OK')]));
}

/** Whether stately.ai answers within `ms` (an opaque no-cors request: only reachability counts). */
async function reachable(url: string, ms: number): Promise<boolean> {
  if (!navigator.onLine) return false;
  try {
    await fetch(url, { mode: 'no-cors', cache: 'no-store', signal: AbortSignal.timeout(ms) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads @statelyai/inspect only when asked, so the page works offline until then. The inspector
 * itself is a page on stately.ai: when that cannot be reached, the page says so here instead of
 * opening a window that would only show a network error.
 */
async function openInspector(): Promise<void> {
  say('Looking for stately.ai…');
  if (!(await reachable('https://stately.ai/inspect', 4000))) {
    say('The Stately inspector is a page on stately.ai, and this browser cannot reach it (offline?), so no window was opened. Nothing else here needs the network: the charts on this page draw the same machines from the same definitions. Try again when you are online.');
    return;
  }
  say('Opening the Stately inspector in a new window; the scenario restarts with it attached.');
  if (inspector === undefined) {
    try {
      const { createBrowserInspector } = await import('@statelyai/inspect');
      const stately = createBrowserInspector();
      inspector = (event) => stately.inspect.next?.(event as never);
    } catch (e) {
      say(`The Stately inspector could not start: ${String(e)}`);
      return;
    }
  }
  show(current.id);
}

replace(app,
  h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('h1', {}, 'monocoque playground'),
      h('span', { class: 'tag' }, 'every socket an XState actor · inproc, in this page')),
    picker,
    h('div', { class: 'actions' }, resetButton, inspectButton),
  ),
  inspectNote,
  about,
  h('main', { class: 'layout' }, cards, side),
);

// The side panel (connections, log) sticks in view beside the cards; its height is what is left
// of the window below its top, so its log is on screen at any scroll and any width.
let sizing = false;
const sizeSide = () => {
  if (sizing) return;
  sizing = true;
  requestAnimationFrame(() => {
    sizing = false;
    const top = Math.max(10, side.getBoundingClientRect().top);
    side.style.setProperty('--side-top', `${Math.round(top)}px`);
  });
};
addEventListener('scroll', sizeSide, { passive: true });
addEventListener('resize', sizeSide);
new ResizeObserver(sizeSide).observe(document.body);

show(location.hash.slice(1) || current.id);
