// The connections panel: one block per connection, one lane per direction a message can travel,
// showing the pipe's depth against its capacity and one status in one colour everywhere (the bar,
// the badge, the legend): ready (the sender's machine sees room), mute (it sees none), full (the
// pipe holds all it can). Lanes are kept across updates so a message's dot can run its course.

import { h, setAttr } from './dom.js';
import type { Lane, Link } from './links.js';

/** Up to this many slots a lane draws one cell per message; beyond, a bar on a log scale. */
const MAX_CELLS = 24;
/** An unlimited pipe's bar is scaled as if it held this many. */
const UNLIMITED_SCALE = 10_000;

export type LaneStatus = 'ready' | 'mute' | 'full' | 'unknown';

export const STATUS_WORDS: Record<LaneStatus, string> = {
  ready: 'the sender\'s machine sees room: a send goes ahead',
  mute: 'the sender\'s machine sees no room (at its high-water mark): a send to it waits or drops, by socket type, until the queue drains to its low-water mark',
  full: 'the pipe holds all it can (sender\'s SNDHWM + receiver\'s RCVHWM)',
  unknown: 'the sender\'s machine keeps no ready flag for this peer',
};

export function laneStatus(lane: Lane): LaneStatus {
  if (lane.capacity > 0 && lane.depth >= lane.capacity) return 'full';
  if (lane.ready === false) return 'mute';
  if (lane.ready === true) return 'ready';
  return 'unknown';
}

/** The bar's share of its track: linear per cell when few, else log(1 + depth) / log(1 + capacity), so one message shows at any HWM. */
export function barShare(depth: number, capacity: number): number {
  if (depth <= 0) return 0;
  const scale = capacity > 0 ? capacity : UNLIMITED_SCALE;
  return Math.min(1, Math.log1p(depth) / Math.log1p(scale));
}

export class LinksView {
  readonly element: HTMLElement;
  #list: HTMLElement;
  #blocks = new Map<string, { el: HTMLElement; lanes: Map<string, HTMLElement> }>();
  #labels: Map<string, string>;
  #depths = new Map<string, number>();

  constructor(labels: Map<string, string>, types: Map<string, string>) {
    this.#labels = labels;
    this.#list = h('div', { class: 'links-list' });
    const oneWay = [...types.values()].some((t) => t === 'Publisher' || t === 'Subscriber' || t === 'Push' || t === 'Pull');
    this.element = h('section', { class: 'panel links', 'data-testid': 'links' },
      h('h3', {}, 'connections'),
      h('div', { class: 'legend', 'data-testid': 'legend' },
        ...(['ready', 'mute', 'full'] as const).map((st) => h('span', { class: `chip status-${st}`, title: STATUS_WORDS[st] }, st))),
      h('p', { class: 'hint' },
        'One lane per direction a message can travel. Count: messages queued / what the pipe holds (sender\'s SNDHWM + receiver\'s RCVHWM).',
        oneWay ? ' One-way sockets have one lane (a SUB\'s subscriptions go upstream as commands, not as messages).' : ''),
      this.#list,
    );
  }

  update(links: Link[]): void {
    const live = new Set(links.map((l) => l.id));
    for (const [id, block] of this.#blocks) {
      if (!live.has(id)) {
        block.el.remove();
        this.#blocks.delete(id);
      }
    }
    for (const link of links) {
      let block = this.#blocks.get(link.id);
      if (block === undefined) {
        block = this.#block(link);
        this.#blocks.set(link.id, block);
        this.#list.appendChild(block.el);
      }
      for (const lane of link.lanes) {
        const el = block.lanes.get(`${lane.from}>${lane.to ?? ''}`);
        if (el !== undefined) this.#updateLane(el, `${link.id}:${lane.from}`, lane);
      }
    }
    this.#list.classList.toggle('empty', links.length === 0);
  }

  /** Sends a dot along every lane from `from` to `to`: a message was delivered. */
  pulse(from: string, to: string): void {
    for (const lane of this.#list.querySelectorAll<HTMLElement>(`.lane[data-from="${from}"][data-to="${to}"]`)) {
      const dot = h('span', { class: 'dot' });
      dot.addEventListener('animationend', () => dot.remove());
      lane.querySelector('.track')?.appendChild(dot);
    }
  }

  #name(key: string | undefined): string {
    return key === undefined ? '(waiting for a bind)' : (this.#labels.get(key) ?? key);
  }

  #block(link: Link): { el: HTMLElement; lanes: Map<string, HTMLElement> } {
    const lanes = new Map<string, HTMLElement>();
    for (const lane of link.lanes) {
      lanes.set(`${lane.from}>${lane.to ?? ''}`, h('div', { class: 'lane', 'data-from': lane.from, 'data-to': lane.to ?? '' },
        h('span', { class: 'lane-label', title: `messages from ${this.#name(lane.from)} to ${this.#name(lane.to)}` }, `${this.#name(lane.from)} → ${this.#name(lane.to)}`),
        h('span', { class: 'lane-row' },
          h('div', { class: 'track' }, h('div', { class: 'cells' })),
          h('span', { class: 'count' }),
          h('span', { class: 'flag' })),
      ));
    }
    const arrow = link.lanes.length === 2 ? '⇄' : '→';
    const [first] = link.lanes;
    const [a, b] = first !== undefined && first.from !== link.a ? [link.b, link.a] : [link.a, link.b];
    const el = h('div', { class: 'link', 'data-link': `${link.a}~${link.b ?? ''}`, 'data-endpoint': link.endpoint, 'data-directions': link.lanes.length },
      h('div', { class: 'link-head' }, h('strong', {}, `${this.#name(a)} ${arrow} ${this.#name(b)}`), ' ', h('code', {}, link.endpoint)),
      ...lanes.values(),
    );
    return { el, lanes };
  }

  #updateLane(el: HTMLElement, key: string, lane: Lane): void {
    const status = laneStatus(lane);
    setAttr(el, 'data-depth', String(lane.depth));
    setAttr(el, 'data-capacity', String(lane.capacity));
    setAttr(el, 'data-ready', String(lane.ready ?? ''));
    setAttr(el, 'data-status', status);
    el.className = `lane status-${status}${el.classList.contains('grew') ? ' grew' : ''}${el.classList.contains('shrank') ? ' shrank' : ''}`;
    const cells = el.querySelector('.cells') as HTMLElement;
    const n = lane.capacity > 0 && lane.capacity <= MAX_CELLS ? lane.capacity : 0;
    const capacity = lane.capacity > 0 ? String(lane.capacity) : 'unlimited';
    const track = el.querySelector('.track') as HTMLElement;
    if (n > 0) {
      if (cells.childElementCount !== n) {
        cells.replaceChildren(...Array.from({ length: n }, () => h('span', { class: 'cell' })));
        cells.classList.remove('bar');
      }
      [...cells.children].forEach((c, i) => c.classList.toggle('on', i < lane.depth));
      setAttr(track, 'title', `${lane.depth} of ${capacity} slots used`);
    } else {
      // Too many slots to draw one by one (or unlimited): a bar on a log scale, never thinner than a sliver.
      if (!cells.classList.contains('bar')) cells.replaceChildren(h('span', { class: 'fill' }));
      cells.classList.add('bar');
      const fill = cells.firstElementChild as HTMLElement;
      fill.style.width = lane.depth > 0 ? `max(6px, ${(barShare(lane.depth, lane.capacity) * 100).toFixed(1)}%)` : '0';
      setAttr(track, 'title', `${lane.depth} of ${capacity} slots used (bar on a log scale, so one message shows)`);
    }
    (el.querySelector('.count') as HTMLElement).textContent = `${lane.depth} / ${lane.capacity > 0 ? lane.capacity : '∞'}`;
    const flag = el.querySelector('.flag') as HTMLElement;
    flag.textContent = status === 'unknown' ? '' : status;
    setAttr(flag, 'title', STATUS_WORDS[status]);
    const before = this.#depths.get(key);
    this.#depths.set(key, lane.depth);
    if (before !== undefined && before !== lane.depth) {
      const cls = lane.depth > before ? 'grew' : 'shrank';
      el.classList.remove('grew', 'shrank');
      void el.offsetWidth; // restart the animation
      el.classList.add(cls);
    }
  }
}
