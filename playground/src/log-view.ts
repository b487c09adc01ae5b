// The event log, newest first: what each machine did (in words, from its transitions), what the
// sockets reported (monitor events), the calls made from the page and their errors. Each line's
// raw form (the xstate event, the monitor event, the call) is its title: hover to see it.

import { h } from './dom.js';
import type { LogKind } from './live.js';

const KEPT = 400;

/** What each kind is called on the page. */
const KIND_LABEL: Record<LogKind, string> = { transition: 'machine', monitor: 'socket event', call: 'you', error: 'error' };

export class LogView {
  readonly element: HTMLElement;
  #list: HTMLElement;
  #start = performance.now();
  #labels: Map<string, string>;

  constructor(labels: Map<string, string>) {
    this.#labels = labels;
    this.#list = h('ol', { class: 'log-list', 'data-testid': 'log' });
    const toggles = (Object.keys(KIND_LABEL) as LogKind[]).map((kind) => {
      const box = h('input', { type: 'checkbox', checked: true, 'data-filter': kind });
      box.addEventListener('change', () => this.#list.classList.toggle(`hide-${kind}`, !box.checked));
      return h('label', { class: `toggle kind-${kind}` }, box, KIND_LABEL[kind]);
    });
    this.element = h('section', { class: 'panel log' },
      h('div', { class: 'log-head' }, h('h3', {}, 'what happened'), h('span', { class: 'toggles' }, ...toggles),
        h('button', { 'data-action': 'clear-log', onclick: () => this.#list.replaceChildren() }, 'clear')),
      h('p', { class: 'hint' }, 'Newest first. Hover a line for the raw event.'),
      this.#list,
    );
  }

  /**
   * Adds a line: `text` in words, `raw` the event or call as the runtime names it, `data` more
   * attributes for the line (a transition's ids on its chart: `transitions` becomes `data-transitions`).
   */
  add(kind: LogKind, who: string | undefined, text: string, raw?: string, data: Record<string, string> = {}): void {
    const ms = (performance.now() - this.#start).toFixed(0);
    const extra = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, v]));
    const li = h('li', { class: `entry kind-${kind}`, 'data-kind': kind, 'data-who': who ?? '', title: raw ?? text, 'data-raw': raw ?? '', ...extra },
      h('span', { class: 'meta' },
        h('span', { class: 'kind' }, KIND_LABEL[kind]),
        who ? h('span', { class: 'who' }, this.#labels.get(who) ?? who) : null,
        h('span', { class: 'time' }, `${ms} ms`)),
      h('span', { class: 'text' }, text),
    );
    this.#list.insertBefore(li, this.#list.firstChild);
    while (this.#list.childElementCount > KEPT) this.#list.lastElementChild?.remove();
  }
}
