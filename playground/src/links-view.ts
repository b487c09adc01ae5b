// The connections panel: one block per connection, one lane per direction, showing the pipe's
// depth against its capacity and whether the sender's machine marks that peer ready or mute.
// Lanes are kept across updates so a message's dot can run its course.

import { h, setAttr } from './dom.js';
import type { Lane, Link } from './links.js';

const MAX_CELLS = 24;

export class LinksView {
  readonly element: HTMLElement;
  #list: HTMLElement;
  #blocks = new Map<string, { el: HTMLElement; lanes: HTMLElement[] }>();
  #labels: Map<string, string>;
  #depths = new Map<string, number>();

  constructor(labels: Map<string, string>) {
    this.#labels = labels;
    this.#list = h('div', { class: 'links-list' });
    this.element = h('section', { class: 'panel links', 'data-testid': 'links' },
      h('h3', {}, 'connections'),
      h('p', { class: 'hint' }, 'Queue depth per direction against the pipe\'s capacity (sender\'s SNDHWM + receiver\'s RCVHWM). Depth is read from the sockets\' pipes; ready / mute from the sender\'s machine context.'),
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
      link.lanes.forEach((lane, i) => {
        const el = block.lanes[i];
        if (lane !== undefined && el !== undefined) this.#updateLane(el, `${link.id}:${i}`, lane);
      });
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

  #block(link: Link): { el: HTMLElement; lanes: HTMLElement[] } {
    const lanes = link.lanes.filter((l): l is Lane => l !== undefined).map((lane) =>
      h('div', { class: 'lane', 'data-from': lane.from, 'data-to': lane.to ?? '' },
        h('span', { class: 'lane-label', title: `${this.#name(lane.from)} → ${this.#name(lane.to)}` }, `${lane.from} → ${lane.to ?? '?'}`),
        h('div', { class: 'track' }, h('div', { class: 'cells' })),
        h('span', { class: 'count' }),
        h('span', { class: 'flag' }),
      ),
    );
    const el = h('div', { class: 'link', 'data-link': `${link.a}~${link.b ?? ''}`, 'data-endpoint': link.endpoint },
      h('div', { class: 'link-head' }, h('strong', {}, `${this.#name(link.a)} ⇄ ${this.#name(link.b)}`), ' ', h('code', {}, link.endpoint)),
      ...lanes,
    );
    return { el, lanes };
  }

  #updateLane(el: HTMLElement, key: string, lane: Lane): void {
    setAttr(el, 'data-depth', String(lane.depth));
    setAttr(el, 'data-capacity', String(lane.capacity));
    setAttr(el, 'data-ready', String(lane.ready ?? ''));
    const full = lane.capacity > 0 && lane.depth >= lane.capacity;
    el.classList.toggle('full', full);
    const cells = el.querySelector('.cells') as HTMLElement;
    const n = lane.capacity > 0 && lane.capacity <= MAX_CELLS ? lane.capacity : 0;
    if (n > 0) {
      if (cells.childElementCount !== n) {
        cells.replaceChildren(...Array.from({ length: n }, () => h('span', { class: 'cell' })));
        cells.classList.remove('bar');
      }
      [...cells.children].forEach((c, i) => c.classList.toggle('on', i < lane.depth));
    } else {
      // Too many slots to draw one by one (or unlimited): a bar.
      if (!cells.classList.contains('bar')) cells.replaceChildren(h('span', { class: 'fill' }));
      cells.classList.add('bar');
      const share = lane.capacity > 0 ? lane.depth / lane.capacity : Math.min(lane.depth / MAX_CELLS, 1);
      (cells.firstElementChild as HTMLElement).style.width = `${lane.depth > 0 ? Math.max(share * 100, 3) : 0}%`;
    }
    (el.querySelector('.count') as HTMLElement).textContent = `${lane.depth} / ${lane.capacity > 0 ? lane.capacity : '∞'}`;
    const flag = el.querySelector('.flag') as HTMLElement;
    flag.textContent = lane.ready === undefined ? '' : lane.ready ? 'ready' : 'mute';
    flag.className = `flag ${lane.ready === undefined ? '' : lane.ready ? 'ready' : 'mute'}`;
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
