// One socket's card: its statechart (lit where the machine is), the calls a user can make, and
// the messages it received. Built once; `update()` changes attributes and text in place so inputs
// keep their focus and animations run to the end.

import { h, replace, setAttr } from './dom.js';
import type { LiveSocket } from './live.js';
import { printFrame } from './live.js';
import { drawChart, leafPaths } from './statechart.js';
import type { Chart } from './statechart.js';
import { meaning } from './words.js';

export class Card {
  readonly element: HTMLElement;
  readonly chart: Chart;
  readonly live: LiveSocket;
  #state: HTMLElement;
  #meaning: HTMLElement;
  #peers: HTMLElement;
  #waiting: HTMLElement;
  #messages: HTMLElement;
  #to: HTMLSelectElement | undefined;
  #endpointButtons: { ep: string; kind: 'bind' | 'connect'; button: HTMLButtonElement }[] = [];
  #subs: HTMLElement | undefined;
  #controls: HTMLElement;
  #context: HTMLElement;
  #shownSeq = 0;

  constructor(live: LiveSocket) {
    this.live = live;
    this.chart = drawChart(live.machine);
    this.#state = h('code', { class: 'state', 'data-testid': 'state' });
    this.#meaning = h('span', { class: 'meaning', 'data-testid': 'meaning' });
    this.#peers = h('span', { class: 'peers' });
    this.#waiting = h('span', { class: 'waiting', 'data-testid': 'waiting' });
    this.#messages = h('ol', { class: 'messages', 'data-testid': 'messages' });
    this.#context = h('pre', { class: 'context', 'data-testid': 'context' });
    this.#controls = h('div', { class: 'controls' },
      this.#endpointRow(), this.#sendRow(), this.#receiveRow(), this.#subscribeRow(), this.#optionsRow());
    this.element = h('section', { class: 'card', 'data-socket': live.key, 'data-type': live.sock.type },
      h('header', { class: 'card-head' },
        h('h2', {}, live.label),
        h('span', { class: 'type', title: `new ${live.spec.type}(...)` }, live.spec.type),
        this.#peers,
      ),
      h('div', { class: 'state-line' }, 'state ', this.#state, ' ', this.#meaning),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-chart' }, this.chart.element),
        h('div', { class: 'card-side' },
          this.#controls,
          h('div', { class: 'messages-box' }, h('h3', {}, 'received'), this.#messages),
          h('details', { class: 'context-box' }, h('summary', {}, 'machine context'), this.#context),
        ),
      ),
    );
    this.update();
  }

  update(): void {
    const { live } = this;
    const snapshot = live.sock.getSnapshot();
    const value = snapshot.value;
    const paths = leafPaths(value);
    this.chart.light(value);
    const el = this.element;
    setAttr(el, 'data-state', JSON.stringify(value));
    setAttr(el, 'data-state-path', paths.join(' '));
    setAttr(el, 'data-status', snapshot.status);
    setAttr(el, 'data-sent', String(live.sent));
    setAttr(el, 'data-received', String(live.receivedCount));
    setAttr(el, 'data-pending-sends', String(live.pendingSends));
    setAttr(el, 'data-pending-receives', String(live.pendingReceives));
    // The machine's tables serialise as plain JSON (a peer table as its entries): read them that way.
    const context = JSON.stringify(snapshot.context, null, 1);
    const peers = (JSON.parse(context ?? '{}') as { peers?: unknown[] } | undefined)?.peers;
    setAttr(el, 'data-peers', String(peers?.length ?? 0));
    el.classList.toggle('closed', live.closed);
    this.#state.textContent = paths.join(', ');
    const words = `${live.label} ${paths.map((p) => meaning(this.chart.model.machineId, p)).join('; ')}`;
    if (this.#meaning.textContent !== words) this.#meaning.textContent = words;
    if (this.#context.textContent !== context) this.#context.textContent = context;
    this.#peers.textContent = peers === undefined ? '' : `${peers.length} peer${peers.length === 1 ? '' : 's'}`;
    const waits: string[] = [];
    if (live.pendingSends > 0) waits.push(`${live.pendingSends} send${live.pendingSends > 1 ? 's' : ''} waiting`);
    if (live.pendingReceives > 0) waits.push(`${live.pendingReceives} receive${live.pendingReceives > 1 ? 's' : ''} waiting`);
    this.#waiting.textContent = waits.join(', ');
    for (const b of this.#endpointButtons) {
      const on = b.kind === 'bind' ? live.bound.has(b.ep) : live.connected.has(b.ep);
      b.button.textContent = b.kind === 'bind' ? (on ? 'unbind' : 'bind') : on ? 'disconnect' : 'connect';
      setAttr(b.button, 'data-action', b.button.textContent);
    }
    for (const c of this.#controls.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>('button, input, select')) c.disabled = live.closed;
    this.#updateAddressBook();
    this.#updateSubscriptions();
    this.#updateMessages();
  }

  #endpointRow(): HTMLElement | null {
    const { live } = this;
    const row = h('div', { class: 'row endpoints' });
    const add = (ep: string, kind: 'bind' | 'connect') => {
      const button = h('button', {
        'data-endpoint': ep,
        onclick: () => {
          if (kind === 'bind') void (live.bound.has(ep) ? live.unbind(ep) : live.bind(ep));
          else if (live.connected.has(ep)) live.disconnect(ep);
          else live.connect(ep);
        },
      });
      this.#endpointButtons.push({ ep, kind, button });
      row.appendChild(h('span', { class: 'endpoint' }, h('span', { class: 'verb' }, kind === 'bind' ? 'binds' : 'connects to'), h('code', {}, ep), button));
    };
    for (const ep of live.spec.bind ?? []) add(ep, 'bind');
    for (const ep of [...(live.spec.connect ?? []), ...(live.spec.connectLater ?? [])]) add(ep, 'connect');
    return row.childElementCount > 0 ? row : null;
  }

  #sendRow(): HTMLElement | null {
    const { live } = this;
    if (!live.can.send) return null;
    const input = h('input', { type: 'text', value: live.spec.draft ?? 'hello', 'data-field': 'message', 'aria-label': `message for ${live.label} to send`, title: 'frames are separated by |' });
    if (live.can.addressed) this.#to = h('select', { 'data-field': 'to', 'aria-label': 'routing id to send to' });
    const send = () => live.send(input.value, this.#to?.value);
    input.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') send();
    });
    return h('div', { class: 'row send' }, this.#to ? h('label', { class: 'to' }, 'to ', this.#to) : null, input, h('button', { 'data-action': 'send', class: 'primary', onclick: send }, 'send'));
  }

  #receiveRow(): HTMLElement {
    const { live } = this;
    return h('div', { class: 'row receive' },
      live.can.receive ? h('button', { 'data-action': 'receive', class: 'primary', onclick: () => live.receive() }, 'receive') : null,
      h('button', { 'data-action': 'cancel', title: 'abort the waiting send/receive calls (AbortSignal)', onclick: () => live.cancelWaiting() }, 'cancel waiting'),
      h('button', { 'data-action': 'close', class: 'danger', onclick: () => live.close() }, 'close'),
      this.#waiting,
    );
  }

  #subscribeRow(): HTMLElement | null {
    const { live } = this;
    if (!live.can.subscribes) return null;
    const input = h('input', { type: 'text', value: live.spec.subscribe?.[0] ?? '', 'data-field': 'prefix', 'aria-label': 'subscription prefix', placeholder: 'prefix', title: 'an empty prefix subscribes to everything' });
    this.#subs = h('span', { class: 'subs', 'data-testid': 'subscriptions' });
    return h('div', { class: 'row subscribe' },
      input,
      h('button', { 'data-action': 'subscribe', onclick: () => live.subscribe(input.value) }, 'subscribe'),
      h('button', { 'data-action': 'unsubscribe', onclick: () => live.unsubscribe(input.value) }, 'unsubscribe'),
      this.#subs,
    );
  }

  /** The high-water marks that apply: SNDHWM where the socket sends, RCVHWM where it receives. */
  #optionsRow(): HTMLElement {
    const { live } = this;
    const field = (which: 'sendHighWaterMark' | 'receiveHighWaterMark', label: string, what: string) => {
      const input = h('input', { type: 'number', min: 0, value: live.sock[which], 'data-field': which, class: 'hwm' });
      input.addEventListener('change', () => live.setHighWaterMark(which, Number(input.value)));
      return h('label', { title: `${which} (ZMQ_${label}): how many messages may queue ${what}; 0 = unlimited` }, label, ' ', input);
    };
    return h('div', { class: 'row options' },
      live.can.send ? field('sendHighWaterMark', 'SNDHWM', 'on the way out, per peer') : null,
      live.can.receive ? field('receiveHighWaterMark', 'RCVHWM', 'on the way in, per peer') : null,
      h('span', { class: 'note' }, 'for new connections: disconnect and connect again'),
    );
  }

  #updateAddressBook(): void {
    const select = this.#to;
    if (select === undefined) return;
    const names = [...this.live.addressBook.keys()];
    if (select.options.length === names.length) return;
    const current = select.value;
    replace(select, ...names.map((n) => h('option', { value: n }, n)));
    if (names.includes(current)) select.value = current;
  }

  #updateSubscriptions(): void {
    if (this.#subs === undefined) return;
    const subs = [...this.live.subscriptions].map((s) => JSON.stringify(s));
    this.#subs.textContent = subs.length > 0 ? `subscribed: ${subs.join(', ')}` : 'subscribed to nothing';
  }

  #updateMessages(): void {
    const fresh = this.live.received.filter((m) => m.seq > this.#shownSeq).reverse();
    for (const m of fresh) {
      const li = h('li', { class: 'msg fresh', 'data-seq': m.seq },
        h('span', { class: 'seq' }, `#${m.seq}`),
        ...m.frames.map((f) => h('span', { class: 'frame' }, printFrame(f))),
        m.from ? h('span', { class: 'from' }, `from ${m.from}`) : null,
      );
      this.#messages.insertBefore(li, this.#messages.firstChild);
      this.#shownSeq = m.seq;
    }
    while (this.#messages.childElementCount > this.live.received.length) this.#messages.lastElementChild?.remove();
  }
}
