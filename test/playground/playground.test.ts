// The playground in a real browser: vite builds playground/ (the runtime compiled for the browser,
// inproc only), a small static server hands it to a headless Chromium (@sparticuz/chromium: the
// browser ships inside its npm tarball, so `npm ci` installs it), and each test clicks through
// a scenario and checks that the page shows what the sockets' machines do: the statecharts (an
// arrow per transition, counted against the machine definitions), the lanes, the words of the
// log, the layout at 1440 and 800 px. Screenshots go to test-results/playground/.
//
//   vite build ──▶ tmpdir ──▶ node:http on 127.0.0.1:<ephemeral> ──▶ chromium (playwright-core)

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import * as monocoque from '../../src/browser.js';
import { requestMachine } from '../../machines/request.js';
import { routerMachine } from '../../machines/router.js';
import { chartModel } from '../../playground/src/chart-model.js';
import { buildAndServe, launchBrowser } from '../helpers/browser.js';
import type { BuiltPage } from '../helpers/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results', 'playground');
const WIDE = { width: 1440, height: 1000 };
const NARROW = { width: 800, height: 900 };
const exported = monocoque as unknown as Record<string, unknown>;
const exports = (...names: string[]) => names.every((n) => typeof exported[n] === 'function');
const hasReqRep = exports('Request', 'Reply');
const hasDealerRouter = exports('Dealer', 'Router');
const hasPubSub = exports('Publisher', 'Subscriber');

let built: BuiltPage;
let base: string;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  built = await buildAndServe(join(ROOT, 'playground'), 'monocoque-playground-');
  base = built.base;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await built?.stop();
});

async function open(scenario: string, viewport = WIDE): Promise<void> {
  page = await browser.newPage({ viewport });
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(base);
  await page.click(`[data-testid=scenario-picker] [data-scenario="${scenario}"]`);
  await page.waitForSelector(`#app[data-scenario="${scenario}"] section[data-socket]`);
  await chartsDrawn();
}

/** Waits until ELK has laid out every chart on the page and the charts are drawn. */
async function chartsDrawn(): Promise<void> {
  await page.waitForFunction(() => {
    const charts = Array.from(document.querySelectorAll("section[data-socket] .sc-chart"));
    return charts.length > 0 && charts.every((c) => c.getAttribute('data-layout') === 'done');
  });
}

afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
});

const card = (key: string) => `section[data-socket="${key}"]`;
const click = (key: string, action: string) => page.click(`${card(key)} [data-action="${action}"]`);
const attr = (key: string, name: string) => page.getAttribute(card(key), name);

/** Waits until the card's leaf state path is `path` (e.g. `open.paired.ready`). */
const inState = (key: string, path: string) => page.waitForSelector(`${card(key)}[data-state-path="${path}"]`);
/** Waits until the card's attribute `name` equals `value`. */
const has = (key: string, name: string, value: string | number) => page.waitForSelector(`${card(key)}[${name}="${value}"]`);

/** Waits until the card shows a state value other than `json`; returns the new one. */
async function leaves(key: string, json: string): Promise<string> {
  await page.waitForFunction(
    ([sel, before]) => { const v = document.querySelector(sel)?.getAttribute('data-state'); return v != null && v !== before; },
    [card(key), json] as const,
  );
  return (await attr(key, 'data-state')) as string;
}

/** The chart lights exactly the states the card says the machine is in. */
async function chartMatches(key: string): Promise<void> {
  const paths = ((await attr(key, 'data-state-path')) as string).split(' ');
  for (const p of paths) expect(await page.$(`${card(key)} .sc-node.active[data-path="${p}"]`), `${key}: ${p} lit`).not.toBeNull();
  const lit = await page.$$eval(`${card(key)} .sc-node.sc-atomic.active`, (els) => els.map((e) => e.getAttribute('data-path')));
  expect(lit.sort()).toEqual([...paths].sort());
}

const messages = (key: string) => page.locator(`${card(key)} [data-testid=messages] li`);

/** Full-page screenshots of the page as it is, at 1440 and at 800 px wide: `<name>-1440.png`, `<name>-800.png`. */
async function screenshot(name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  for (const viewport of [WIDE, NARROW]) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
    await page.evaluate(() => window.scrollTo(0, 0)); // the side panel is sticky: put it back at the top
    await page.screenshot({ path: join(SHOTS, `${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(WIDE);
}

/** Every transition a machine declares, by the state that declares it (dotted path) and event: what the chart must draw. */
function declaredTransitions(machine: AnyStateMachine): { source: string; event: string }[] {
  type Node = { path: string[]; on: Record<string, unknown[]>; always?: unknown[]; states: Record<string, Node> };
  const out: { source: string; event: string }[] = [];
  const walk = (node: Node) => {
    const source = node.path.join('.');
    for (const [event, list] of Object.entries(node.on)) for (const _ of list) out.push({ source, event });
    for (const _ of node.always ?? []) out.push({ source, event: 'always' });
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root as unknown as Node);
  return out;
}

/** The chart's id of the transition declared on `source` for `event` with this guard (none: undefined). */
function transitionId(machine: AnyStateMachine, source: string, event: string, guard: string | undefined): string {
  const found = chartModel(machine).transitions.filter((t) => t.owner === source && t.event === event && t.guard === guard);
  expect(found, `one transition ${source} ${event} [${guard}]`).toHaveLength(1);
  return (found[0] as { id: string }).id;
}

interface Rect { x: number; y: number; width: number; height: number }
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Rect, v: { width: number; height: number }) => a.x >= 0 && a.y >= 0 && a.x + a.width <= v.width && a.y + a.height <= v.height;
/** Whether `a` and `b` share more than a hair (half a pixel each way). */
const overlapBy = (a: Rect, b: Rect) => Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) > 0.5 && Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) > 0.5;
const within = (a: Rect, b: Rect) => a.x >= b.x - 1 && a.y >= b.y - 1 && a.x + a.width <= b.x + b.width + 1 && a.y + a.height <= b.y + b.height + 1;

/** What a chart shows, as the screen has it: its texts' sizes, its label boxes, its states, its scrolling. */
function chartGeometry(chart: string) {
  return page.$eval(chart, (el) => {
    const svg = el.querySelector('svg.sc-svg') as SVGSVGElement;
    const scale = svg.getScreenCTM()?.a ?? 0;
    const rect = (e: Element) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const viewport = el.querySelector('.sc-viewport') as HTMLElement;
    return {
      variant: el.getAttribute('data-variant'),
      size: el.getAttribute('data-size'),
      zoom: el.getAttribute('data-zoom'),
      scroll: { width: viewport.scrollWidth, clientWidth: viewport.clientWidth, height: viewport.scrollHeight, clientHeight: viewport.clientHeight },
      // Rendered size: the font's CSS size times the SVG's scale on screen.
      texts: Array.from(svg.querySelectorAll('text'), (t) => ({
        text: t.textContent ?? '',
        label: t.closest('.sc-label, .sc-row') !== null,
        px: Number.parseFloat(getComputedStyle(t).fontSize) * scale,
        height: t.getBoundingClientRect().height,
      })),
      labels: Array.from(svg.querySelectorAll('.sc-label-box'), (b) => ({
        text: Array.from(b.querySelectorAll('text'), (t) => t.textContent).join(' '),
        box: rect(b.querySelector('.sc-label-bg') as Element),
        lines: Array.from(b.querySelectorAll('text'), rect),
      })),
      // Simple states and "any state" boxes (their rows are inside them by design).
      states: Array.from(svg.querySelectorAll('.sc-node:not(.sc-composite) > .sc-box, .sc-any > .sc-box'), (b) => ({
        name: `state ${b.parentElement?.getAttribute('data-path') ?? `any state of ${b.parentElement?.getAttribute('data-owner')}`}`,
        box: rect(b),
      })),
      // A composite state's title bar: its name, tag and notes (labels may sit in its body).
      titles: Array.from(svg.querySelectorAll('.sc-composite > text'), (t) => ({ name: `the title of ${t.parentElement?.getAttribute('data-path') || 'the machine'}`, box: rect(t) })),
    };
  });
}

const box = async (selector: string): Promise<Rect> => {
  const b = await page.locator(selector).first().boundingBox();
  expect(b, `${selector} is on the page`).not.toBeNull();
  return b as Rect;
};

describe('playground', () => {
  it('playground: every scenario is offered, and one whose classes are missing says which', async () => {
    await open('pair');
    const offered = await page.$$eval('[data-testid=scenario-picker] [data-scenario]', (els) => els.map((e) => [e.getAttribute('data-scenario'), e.getAttribute('data-available')]));
    expect(offered.map(([id]) => id)).toEqual(['reqrep', 'dealer-router', 'pubsub', 'pushpull', 'pair']);
    for (const [id, available] of offered) {
      if (available === 'true') continue;
      await page.click(`[data-scenario="${id}"]`);
      await page.waitForSelector(`#app[data-scenario="${id}"] [data-testid=missing]`);
    }
  }, 60_000);

  it('PAIR: pairs on connect, carries a message, refuses a second peer, unpairs on disconnect', async () => {
    await open('pair');
    await inState('a', 'open.paired.ready');
    await inState('b', 'open.paired.ready');
    await inState('intruder', 'open.unpaired');
    await chartMatches('a');
    await chartMatches('intruder');

    await click('a', 'send');
    await has('a', 'data-sent', 1);
    await click('b', 'receive');
    await has('b', 'data-received', 1);
    await expect.poll(() => messages('b').first().textContent()).toContain('ping');
    expect(await messages('b').first().textContent()).toContain('from a');

    // A second peer: a's machine refuses it and stays paired with b.
    await click('intruder', 'connect');
    await page.waitForSelector('[data-testid=log] [data-kind=monitor][data-who=a][data-raw^="peer:refused"]');
    expect(await page.textContent('[data-testid=log] [data-kind=monitor][data-who=a][data-raw^="peer:refused"] .text')).toMatch(/^PAIR a refused a PAIR/);
    await inState('a', 'open.paired.ready');
    expect(await attr('a', 'data-peers')).toBe('1');

    await click('b', 'disconnect');
    await inState('a', 'open.unpaired');
    await chartMatches('a');
    await page.waitForSelector('[data-testid=log] [data-kind=transition][data-who=a][data-raw*="on peer.detached"]');
    expect(await page.textContent('[data-testid=log] [data-kind=transition][data-who=a][data-raw*="on peer.detached"] .text')).toBe('A peer left: PAIR a now has no peer: send and receive wait.');
    await screenshot('walkthrough-pair');
  }, 60_000);

  it('PUSH/PULL: fills both pipes to HWM, goes mute, a waiting send completes when a worker drains', async () => {
    await open('pushpull');
    await inState('push', 'open.ready');
    await inState('worker1', 'open.attached');
    await inState('worker2', 'open.attached');
    // Each pipe holds PUSH's SNDHWM (2) plus the worker's RCVHWM (2).
    const lane = (to: string) => `[data-testid=links] .lane[data-from="push"][data-to="${to}"]`;
    await page.waitForSelector(`${lane('worker1')}[data-capacity="4"][data-depth="0"]`);
    await page.waitForSelector(`${lane('worker2')}[data-capacity="4"][data-depth="0"]`);

    for (let i = 1; i <= 8; i++) {
      await click('push', 'send');
      await has('push', 'data-sent', i);
    }
    await inState('push', 'open.mute');
    await chartMatches('push');
    await page.waitForSelector(`${lane('worker1')}[data-depth="4"][data-ready="false"]`);
    await page.waitForSelector(`${lane('worker2')}[data-depth="4"][data-ready="false"]`);

    await click('push', 'send');
    await has('push', 'data-pending-sends', 1);
    expect(await page.textContent(`${card('push')} [data-testid=waiting]`)).toContain('1 send waiting');
    expect(await attr('push', 'data-sent')).toBe('8');

    // Reading two brings worker 1's pipe to its low-water mark (2): pipe.ready, and the waiting send goes in.
    await click('worker1', 'receive');
    await has('worker1', 'data-received', 1);
    await click('worker1', 'receive');
    await has('worker1', 'data-received', 2);
    await has('push', 'data-pending-sends', 0);
    await has('push', 'data-sent', 9);
    await inState('push', 'open.ready');
    await page.waitForSelector(`${lane('worker1')}[data-depth="3"][data-ready="true"]`);
    await page.waitForSelector(`${lane('worker2')}[data-depth="4"][data-ready="false"]`);
    await page.waitForSelector('[data-testid=log] [data-kind=transition][data-who=push][data-raw^="open.mute → open.ready  on pipe.ready"]');
    // The lanes say what the machines say: worker 2's pipe is full (4 / 4), worker 1's has room again.
    await page.waitForSelector(`${lane('worker2')}[data-status="full"]`);
    await page.waitForSelector(`${lane('worker1')}[data-status="ready"]`);
    expect(await messages('worker1').first().textContent()).toContain('from push');
    await screenshot('walkthrough-pushpull');
  }, 60_000);

  it.skipIf(!hasReqRep)('REQ/REP: REQ waits for its reply, REP holds a request to answer, both return to where they began', async () => {
    await open('reqrep');
    await has('req', 'data-peers', 1);
    await has('rep', 'data-peers', 1);
    const req0 = (await attr('req', 'data-state')) as string;
    const rep0 = (await attr('rep', 'data-state')) as string;
    await chartMatches('req');

    // REQ sends: its machine leaves its ready state (awaiting the reply).
    await page.fill(`${card('req')} [data-field=message]`, 'hello');
    await click('req', 'send');
    await has('req', 'data-sent', 1);
    const reqWaiting = await leaves('req', req0);
    await chartMatches('req');

    // REP receives: its machine now holds a request to answer.
    await click('rep', 'receive');
    await has('rep', 'data-received', 1);
    await expect.poll(() => messages('rep').first().textContent()).toContain('hello');
    await leaves('rep', rep0);
    await chartMatches('rep');

    // REP replies: back to its first state; the reply reaches REQ.
    await page.fill(`${card('rep')} [data-field=message]`, 'world');
    await click('rep', 'send');
    await has('rep', 'data-sent', 1);
    await page.waitForSelector(`${card('rep')}[data-state='${rep0}']`);
    await click('req', 'receive');
    await has('req', 'data-received', 1);
    await expect.poll(() => messages('req').first().textContent()).toContain('world');
    await page.waitForSelector(`${card('req')}[data-state='${req0}']`);
    expect(reqWaiting).not.toBe(req0);
    await chartMatches('req');
    await screenshot('walkthrough-reqrep');
  }, 60_000);

  it.skipIf(!hasDealerRouter)('DEALER/ROUTER: ROUTER receives each message behind its sender\'s id and sends to the id it is given', async () => {
    await open('dealer-router');
    await has('router', 'data-peers', 2);
    await click('alice', 'send');
    await has('alice', 'data-sent', 1);
    await click('router', 'receive');
    await has('router', 'data-received', 1);
    const frames = () => page.$$eval(`${card('router')} [data-testid=messages] li:first-child .frame`, (els) => els.map((e) => e.textContent));
    expect(await frames()).toEqual(['alice', 'from alice']);

    await page.selectOption(`${card('router')} [data-field=to]`, 'bob');
    await page.fill(`${card('router')} [data-field=message]`, 'for bob');
    await click('router', 'send');
    await has('router', 'data-sent', 1);
    await click('bob', 'receive');
    await has('bob', 'data-received', 1);
    expect(await messages('bob').first().textContent()).toContain('for bob');
    expect(await attr('alice', 'data-received')).toBe('0');
    await screenshot('walkthrough-dealer-router');
  }, 60_000);

  it.skipIf(!hasPubSub)('PUB/SUB: each subscriber gets only the topics it subscribed to, in order', async () => {
    await open('pubsub');
    await has('pub', 'data-peers', 2);
    // Subscriptions reach PUB's machine as events; wait until it has taken both.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=log] [data-kind=transition][data-who=pub]')).filter((e) => e.getAttribute('data-raw')?.includes('subscription.added')).length === 2);
    expect(await page.textContent('[data-testid=log] [data-kind=transition][data-who=pub][data-raw*="subscription.added"] .text')).toBe('A subscriber asked for a topic: PUB adds the topic to its filter (its state stays the same).');
    for (const text of ['news today', 'weather sunny']) {
      await page.fill(`${card('pub')} [data-field=message]`, text);
      await click('pub', 'send');
    }
    await has('pub', 'data-sent', 2);
    // "weather" never gets the news: its first message is the weather.
    await click('weather', 'receive');
    await has('weather', 'data-received', 1);
    expect(await messages('weather').first().textContent()).toContain('weather sunny');
    await click('all', 'receive');
    await has('all', 'data-received', 1);
    expect(await messages('all').first().textContent()).toContain('news today');
    await click('all', 'receive');
    await has('all', 'data-received', 2);
    expect(await messages('all').first().textContent()).toContain('weather sunny');
    await screenshot('walkthrough-pubsub');
  }, 60_000);

  it.skipIf(!hasReqRep)('statechart: REQ\'s chart has one arrow per transition of requestMachine, lights its state and marks the transition taken', async () => {
    await open('reqrep');
    const chart = `${card('req')} .sc-chart`;
    const declared = declaredTransitions(requestMachine as unknown as AnyStateMachine);
    expect(declared.length).toBeGreaterThan(10);
    expect(await page.getAttribute(chart, 'data-transitions')).toBe(String(declared.length));

    // Every transition is one SVG group with an arrow (a path ending in an arrowhead) and its event as label.
    const drawn = await page.$$eval(`${chart} svg .sc-edge[data-transition]`, (els) => els.map((e) => ({
      id: e.getAttribute('data-transition'),
      source: e.getAttribute('data-source'),
      event: e.getAttribute('data-event'),
      arrows: Array.from(e.querySelectorAll("path.sc-line")).filter((p) => (p.getAttribute('marker-end') ?? '').startsWith('url(#') && (p.getAttribute('d') ?? '').length > 0).length,
    })));
    expect(new Set(drawn.map((d) => d.id)).size).toBe(drawn.length);
    expect(drawn).toHaveLength(declared.length);
    for (const d of drawn) expect(d.arrows, `transition ${d.id} (${d.source} ${d.event}) has an arrow`).toBeGreaterThanOrEqual(1);
    const key = (t: { source: string | null; event: string | null }) => `${t.source} ${t.event}`;
    expect(drawn.map(key).sort()).toEqual(declared.map(key).sort());
    // Each label reads as its event, and sits inside the drawing.
    const labels = await page.$$eval(`${chart} svg .sc-edge[data-transition]`, (els) => els.map((e) => e.textContent ?? ''));
    declared.forEach((t, i) => expect(labels.some((l) => l.includes(t.event)), `label of #${i} ${t.event}`).toBe(true));
    const svg = await box(`${chart} svg`);
    const stateBoxes = await page.$$eval(`${chart} svg .sc-node:not(.sc-composite):not(.sc-machine) > .sc-box`, (els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    }));
    expect(stateBoxes.length).toBe(4); // idle, awaitingReply, lingering, closed
    for (let i = 0; i < stateBoxes.length; i++) for (let j = i + 1; j < stateBoxes.length; j++) expect(overlap(stateBoxes[i] as Rect, stateBoxes[j] as Rect), `states ${i} and ${j} apart`).toBe(false);
    const labelBoxes = await page.$$eval(`${chart} svg .sc-label-box > .sc-label-bg`, (els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    }));
    for (const l of labelBoxes) expect(l.x >= svg.x - 1 && l.y >= svg.y - 1 && l.x + l.width <= svg.x + svg.width + 1 && l.y + l.height <= svg.y + svg.height + 1).toBe(true);

    // Lit where the machine is; a send takes request.sent out of idle: that arrow is marked as the last taken.
    await chartMatches('req');
    await click('req', 'send');
    await inState('req', 'awaitingReply');
    await chartMatches('req');
    await page.waitForSelector(`${chart} .sc-edge.sc-last[data-source="idle"][data-event="request.sent"]`);
    const last = (await page.getAttribute(chart, 'data-last-transition')) as string;
    expect(await page.getAttribute(`${chart} .sc-edge[data-transition="${last}"]`, 'data-target')).toBe('awaitingReply');
    expect(await page.$$eval(`${chart} .sc-edge.sc-last`, (els) => els.length)).toBe(1);
    // Of idle's two request.sent arrows (both to awaitingReply, one guarded), the one taken: no
    // stale replies to skip, so the plain one.
    expect(last).toBe(transitionId(requestMachine as unknown as AnyStateMachine, 'idle', 'request.sent', undefined));
    expect(await page.getAttribute(chart, 'data-last-ambiguous')).toBe('false');

    // Zoom and pan: the tools change the scale; "fit" shows the whole chart.
    const zoom0 = Number(await page.getAttribute(chart, 'data-zoom'));
    await page.click(`${chart} [data-chart=zoom-in]`);
    expect(Number(await page.getAttribute(chart, 'data-zoom'))).toBeGreaterThan(zoom0);
    await page.click(`${chart} [data-chart=fit]`);
    const viewport = await box(`${chart} [data-testid=chart-viewport]`);
    const fitted = await box(`${chart} svg`);
    expect(fitted.width).toBeLessThanOrEqual(viewport.width + 1);
    expect(fitted.height).toBeLessThanOrEqual(viewport.height + 1);
  }, 60_000);

  it.skipIf(!hasDealerRouter)('statechart: ROUTER lights the peer.attached it took, of three that fit each attach', async () => {
    // Attached to attached on bob's attach: a plain attach, a takeover (guarded, same target) and a
    // refused duplicate (guarded, stays) all fit the states before and after; afterwards, bob's id
    // is in the table, so the duplicate guard would hold if asked then. The chart asks before.
    await open('dealer-router');
    await has('router', 'data-peers', 2);
    const plain = transitionId(routerMachine as unknown as AnyStateMachine, 'open.peers', 'peer.attached', undefined);
    const attaches = () => page.$$eval('[data-testid=log] [data-kind=transition][data-who=router]', (els) => els
      .filter((e) => (e.getAttribute('data-raw') ?? '').includes('"type":"peer.attached"'))
      .map((e) => [e.getAttribute('data-transitions'), e.getAttribute('data-ambiguous')]));
    await expect.poll(attaches).toHaveLength(2);
    expect(await attaches()).toEqual([[plain, 'false'], [plain, 'false']]);
    const chart = `${card('router')} .sc-chart`;
    await page.waitForSelector(`${chart} .sc-edge.sc-last`, { state: 'attached' }); // a straight arrow has no width: not "visible"
    expect(await page.$$eval(`${chart} .sc-edge.sc-last`, (els) => els.map((e) => e.getAttribute('data-transition')))).not.toContain(transitionId(routerMachine as unknown as AnyStateMachine, 'open.peers', 'peer.attached', 'isDuplicateId'));
  }, 60_000);

  for (const viewport of [WIDE, NARROW]) {
    it(`statecharts at ${viewport.width} px: every machine's chart whole in its card, its text at 10 px or more, no label over another label or a state`, async () => {
      const seen = new Set<string>();
      for (const scenario of Object.keys(LANES)) {
        await open(scenario, viewport);
        if ((await page.$('[data-testid=missing]')) !== null) {
          await page.close();
          continue;
        }
        for (const key of await page.$$eval('section[data-socket]', (els) => els.map((e) => e.getAttribute('data-socket') as string))) {
          const chart = `${card(key)} .sc-chart`;
          await page.waitForSelector(`${chart}[data-zoom]`);
          const machine = (await page.getAttribute(chart, 'data-machine')) as string;
          const g = await chartGeometry(chart);
          const at = `${machine} at ${viewport.width} px (${g.variant} layout, ${g.size}, zoom ${g.zoom})`;
          // Whole in its card: no scrolling, nothing cut off.
          expect(g.scroll.width, `${at}: scrolls sideways`).toBeLessThanOrEqual(g.scroll.clientWidth + 1);
          expect(g.scroll.height, `${at}: scrolls down`).toBeLessThanOrEqual(g.scroll.clientHeight + 1);
          // Every text, transition labels first, drawn at 10 px or more.
          expect(g.texts.filter((t) => t.label).length, `${at}: transition labels`).toBeGreaterThan(5);
          for (const t of g.texts) {
            expect(t.px, `${at}: "${t.text}" font size`).toBeGreaterThanOrEqual(10);
            expect(t.height, `${at}: "${t.text}" height on screen`).toBeGreaterThanOrEqual(10);
          }
          // Each label inside its box; no box over another, nor over a state or a composite's title.
          for (const l of g.labels) for (const line of l.lines) expect(within(line, l.box), `${at}: a line of "${l.text}" outside its box`).toBe(true);
          g.labels.forEach((a, i) => g.labels.slice(i + 1).forEach((b) => expect(overlapBy(a.box, b.box), `${at}: "${a.text}" over "${b.text}"`).toBe(false)));
          for (const l of g.labels) for (const b of [...g.states, ...g.titles]) expect(overlapBy(l.box, b.box), `${at}: "${l.text}" over ${b.name}`).toBe(false);
          g.states.forEach((a, i) => g.states.slice(i + 1).forEach((b) => expect(overlapBy(a.box, b.box), `${at}: ${a.name} over ${b.name}`).toBe(false)));
          if (seen.has(machine)) continue;
          seen.add(machine);
          await mkdir(SHOTS, { recursive: true });
          await page.locator(chart).screenshot({ path: join(SHOTS, `chart-${machine}-card-${viewport.width}.png`) });
        }
        expect(pageErrors).toEqual([]);
        await page.close();
      }
      expect(seen.size).toBeGreaterThanOrEqual(5);
    }, 120_000);
  }

  // Which directions each scenario's lanes show: only where the sender sends and the receiver receives.
  const LANES: Record<string, string[]> = {
    reqrep: ['req>rep', 'rep>req'],
    'dealer-router': ['alice>router', 'bob>router', 'router>alice', 'router>bob'],
    pubsub: ['pub>all', 'pub>weather'],
    pushpull: ['push>worker1', 'push>worker2'],
    pair: ['a>b', 'b>a'],
  };
  const HWM_INPUTS: Record<string, Record<string, string[]>> = {
    pushpull: { push: ['sendHighWaterMark'], worker1: ['receiveHighWaterMark'] },
    pubsub: { pub: ['sendHighWaterMark'], weather: ['receiveHighWaterMark'] },
    reqrep: { req: ['sendHighWaterMark', 'receiveHighWaterMark'], rep: ['sendHighWaterMark', 'receiveHighWaterMark'] },
  };

  for (const [scenario, expected] of Object.entries(LANES)) {
    it(`lanes: ${scenario} shows the directions a message can travel (${expected.join(', ')}) and only the HWMs that apply`, async () => {
      await open(scenario);
      if ((await page.$('[data-testid=missing]')) !== null) return; // a build without these classes
      const lanes = () => page.$$eval('[data-testid=links] .lane', (els) => els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`).sort());
      await expect.poll(lanes).toEqual([...expected].sort());
      for (const [key, fields] of Object.entries(HWM_INPUTS[scenario] ?? {})) {
        const shown = await page.$$eval(`${card(key)} input.hwm`, (els) => els.map((e) => e.getAttribute('data-field')));
        expect(shown, `${key}: HWM inputs`).toEqual(fields);
      }
    }, 60_000);
  }

  it.skipIf(!hasPubSub)('lanes: one message shows at the default HWM (1 / 2000), in the colour its badge and the legend use', async () => {
    await open('pubsub');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=log] [data-kind=transition][data-who=pub]')).filter((e) => e.getAttribute('data-raw')?.includes('subscription.added')).length === 2);
    await click('pub', 'send'); // "weather sunny": both subscribers hold it, unread
    const lane = '[data-testid=links] .lane[data-from="pub"][data-to="weather"]';
    await page.waitForSelector(`${lane}[data-depth="1"][data-capacity="2000"][data-status="ready"]`);
    expect(await page.textContent(`${lane} .count`)).toBe('1 / 2000');
    // The bar grows in a short transition: wait for it to settle, then it is at least a sliver wide.
    await expect.poll(async () => (await box(`${lane} .fill`)).width).toBeGreaterThanOrEqual(6);
    const colours = await page.evaluate((sel) => {
      const bg = (el: Element | null) => (el === null ? null : getComputedStyle(el).backgroundColor);
      return { fill: bg(document.querySelector(`${sel} .fill`)), flag: bg(document.querySelector(`${sel} .flag`)), legend: bg(document.querySelector('[data-testid=legend] .status-ready')) };
    }, lane);
    expect(colours.flag).toBe(colours.fill);
    expect(colours.legend).toBe(colours.fill);
    await screenshot('lane-default-hwm');
  }, 60_000);

  it('lanes: ready, mute and full each have one colour, shared by bar, badge and legend', async () => {
    await open('pushpull');
    await inState('push', 'open.ready');
    for (let i = 1; i <= 8; i++) {
      await click('push', 'send');
      await has('push', 'data-sent', i);
    }
    const lane = (to: string) => `[data-testid=links] .lane[data-from="push"][data-to="${to}"]`;
    await page.waitForSelector(`${lane('worker1')}[data-status="full"]`);
    // One read leaves worker 1's pipe at 3 / 4: above its low-water mark, so PUSH still sees it mute.
    await click('worker1', 'receive');
    await has('worker1', 'data-received', 1);
    await page.waitForSelector(`${lane('worker1')}[data-depth="3"][data-status="mute"]`);
    const colours = await page.evaluate(() => {
      const bg = (sel: string) => { const el = document.querySelector(sel); return el === null ? null : getComputedStyle(el).backgroundColor; };
      const out: Record<string, { bar: string | null; badge: string | null; legend: string | null }> = {};
      for (const [status, to] of [['mute', 'worker1'], ['full', 'worker2']] as const) {
        const l = `[data-testid=links] .lane[data-from="push"][data-to="${to}"]`;
        out[status] = { bar: bg(`${l} .cell.on`), badge: bg(`${l} .flag`), legend: bg(`[data-testid=legend] .status-${status}`) };
      }
      return out;
    });
    for (const [status, c] of Object.entries(colours)) {
      expect(c.badge, `${status} badge`).toBe(c.bar);
      expect(c.legend, `${status} legend`).toBe(c.bar);
    }
    expect(colours.mute?.bar).not.toBe(colours.full?.bar);
    expect(await page.textContent(`${lane('worker1')} .flag`)).toBe('mute');
  }, 60_000);

  for (const scenario of Object.keys(LANES)) {
    it(`narrow: at 800 px the ${scenario} controls, lanes and log are on screen together, none over another`, async () => {
      await open(scenario, NARROW);
      if ((await page.$('[data-testid=missing]')) !== null) return;
      await page.waitForSelector('[data-testid=links] .lane');
      const view = NARROW;
      const first = (await page.$$eval('section[data-socket]', (els) => els.map((e) => e.getAttribute('data-socket'))))[0] as string;
      const controls = await box(`${card(first)} .controls`);
      const links = await box('[data-testid=links]');
      const log = await box('.panel.log');
      const logLines = await box('[data-testid=log] li');
      for (const [name, r] of Object.entries({ controls, links, log, logLines })) expect(inside(r, view), `${name} within 800 x 900: ${JSON.stringify(r)}`).toBe(true);
      expect(overlap(controls, links)).toBe(false);
      expect(overlap(controls, log)).toBe(false);
      expect(overlap(links, log)).toBe(false);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(view.width);
      // Scrolled to the last card's controls, the lanes and the log are still beside them.
      const keys = await page.$$eval('section[data-socket]', (els) => els.map((e) => e.getAttribute('data-socket') as string));
      const lastKey = keys[keys.length - 1] as string;
      await page.locator(`${card(lastKey)} .controls`).scrollIntoViewIfNeeded();
      const again = { controls: await box(`${card(lastKey)} .controls`), links: await box('[data-testid=links]'), log: await box('.panel.log') };
      for (const [name, r] of Object.entries(again)) expect(inside(r, view), `${name} after scrolling: ${JSON.stringify(r)}`).toBe(true);
      expect(overlap(again.controls, again.links) || overlap(again.controls, again.log)).toBe(false);
    }, 60_000);
  }

  it.skipIf(!hasReqRep)('log: lines read in plain words, with the raw event on hover', async () => {
    await open('reqrep');
    await has('req', 'data-peers', 1);
    await click('req', 'send');
    const sent = '[data-testid=log] [data-kind=transition][data-who=req][data-raw*="on request.sent"]';
    await page.waitForSelector(sent);
    expect(await page.textContent(`${sent} .text`)).toBe('REQ sent its request and now waits for the reply (another send is refused).');
    expect(await page.getAttribute(sent, 'title')).toMatch(/^idle → awaitingReply {2}on request\.sent {2}\{"type":"request\.sent"/);
    // The call, in words, with the call itself on hover.
    const call = '[data-testid=log] [data-kind=call][data-who=req][data-raw^="send("]';
    expect(await page.textContent(`${call} .text`)).toBe('You asked REQ to send "hello".');
    expect(await page.getAttribute(call, 'title')).toBe('send(["hello"])');
    await click('rep', 'receive');
    await has('rep', 'data-received', 1);
    await page.fill(`${card('rep')} [data-field=message]`, 'world');
    await click('rep', 'send');
    await click('req', 'receive');
    await has('req', 'data-received', 1);
    const back = '[data-testid=log] [data-kind=transition][data-who=req][data-raw*="on reply.received"]';
    await page.waitForSelector(back);
    expect(await page.textContent(`${back} .text`)).toBe('REQ got its reply and now may send its next request.');
    // A second send with no reply between: refused, and the log says so in words.
    await click('req', 'send');
    await inState('req', 'awaitingReply');
    await click('req', 'send');
    await page.waitForSelector('[data-testid=log] [data-kind=error][data-who=req]');
    expect(await page.getAttribute('[data-testid=log] [data-kind=error][data-who=req]', 'title')).toContain('EFSM');
    // No line is jargon alone: every line starts with a capital and ends like a sentence.
    const texts = await page.$$eval('[data-testid=log] li .text', (els) => els.map((e) => e.textContent ?? ''));
    for (const t of texts) expect(t, t).toMatch(/^[A-Z"].*[.)]$/s);
    // The card says what its state means, too.
    expect(await page.textContent(`${card('req')} [data-testid=meaning]`)).toBe('REQ waits for the reply (another send is refused)');
  }, 60_000);

  it('inspector: offline, the button says in the page why it opens nothing', async () => {
    await open('pair');
    const context = page.context();
    await context.setOffline(true);
    const before = context.pages().length;
    await page.click('[data-action=inspect]');
    await page.waitForSelector('[data-testid=inspector-note]:not([hidden]):has-text("cannot reach")');
    expect(await page.textContent('[data-testid=inspector-note]')).toContain('stately.ai');
    expect(context.pages().length).toBe(before);
    await page.click('[data-testid=inspector-note] [data-action=dismiss]');
    await page.waitForSelector('[data-testid=inspector-note][hidden]', { state: 'attached' });
    await context.setOffline(false);
  }, 60_000);

  it('screenshots: every scenario and every machine\'s chart, at 1440 and at 800 px', async () => {
    await mkdir(SHOTS, { recursive: true });
    const charts = new Set<string>();
    for (const scenario of Object.keys(LANES)) {
      for (const viewport of [WIDE, NARROW]) {
        await open(scenario, viewport);
        if ((await page.$('[data-testid=missing]')) !== null) {
          await page.screenshot({ path: join(SHOTS, `scenario-${scenario}-${viewport.width}.png`), fullPage: true });
          expect(pageErrors).toEqual([]);
          await page.close();
          continue;
        }
        await page.waitForSelector('[data-testid=links] .lane');
        await page.screenshot({ path: join(SHOTS, `scenario-${scenario}-${viewport.width}.png`), fullPage: true });
        // Each machine once per width: its chart opened large ("⤢"), fitted.
        for (const key of await page.$$eval('section[data-socket]', (els) => els.map((e) => e.getAttribute('data-socket') as string))) {
          const chart = `${card(key)} .sc-chart`;
          const machine = (await page.getAttribute(chart, 'data-machine')) as string;
          if (charts.has(`${machine}-${viewport.width}`)) continue;
          charts.add(`${machine}-${viewport.width}`);
          await page.click(`${chart} [data-chart=expand]`);
          await page.waitForSelector(`${chart}.expanded`);
          await page.click(`${chart} [data-chart=fit]`);
          await page.locator(chart).screenshot({ path: join(SHOTS, `chart-${machine}-${viewport.width}.png`) });
          await page.click(`${chart} [data-chart=expand]`);
          await page.waitForSelector(`${chart}:not(.expanded)`);
        }
        expect(pageErrors).toEqual([]);
        await page.close();
      }
    }
    expect(charts.size).toBeGreaterThanOrEqual(2);
  }, 300_000); // a hang bound only: 41-79 s here, with and without a busy loop beside the suite
});
