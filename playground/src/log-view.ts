// The event log: machine transitions (with the event that caused them), monitor events, calls
// and errors, newest first.

import { h } from './dom.js';
import type { LogKind } from './live.js';

const KEPT = 400;

export class LogView {
  readonly element: HTMLElement;
  #list: HTMLElement;
  #start = performance.now();
  #filter: Record<LogKind, boolean> = { transition: true, monitor: true, call: true, error: true };

  constructor() {
    this.#list = h('ol', { class: 'log-list', 'data-testid': 'log' });
    const toggles = (Object.keys(this.#filter) as LogKind[]).map((kind) => {
      const box = h('input', { type: 'checkbox', checked: true, 'data-filter': kind });
      box.addEventListener('change', () => {
        this.#filter[kind] = box.checked;
        this.#list.classList.toggle(`hide-${kind}`, !box.checked);
      });
      return h('label', { class: `toggle kind-${kind}` }, box, kind);
    });
    this.element = h('section', { class: 'panel log' },
      h('div', { class: 'log-head' }, h('h3', {}, 'event log'), h('span', { class: 'toggles' }, ...toggles),
        h('button', { 'data-action': 'clear-log', onclick: () => this.#list.replaceChildren() }, 'clear')),
      this.#list,
    );
  }

  add(kind: LogKind, who: string | undefined, text: string): void {
    const ms = (performance.now() - this.#start).toFixed(0).padStart(6, ' ');
    const li = h('li', { class: `entry kind-${kind}`, 'data-kind': kind, 'data-who': who ?? '' },
      h('span', { class: 'time' }, `${ms} ms`),
      h('span', { class: 'kind' }, kind),
      who ? h('span', { class: 'who' }, who) : null,
      h('span', { class: 'text' }, text),
    );
    this.#list.insertBefore(li, this.#list.firstChild);
    while (this.#list.childElementCount > KEPT) this.#list.lastElementChild?.remove();
  }
}
