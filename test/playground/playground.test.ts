// The playground in a real browser: vite builds playground/ (the runtime compiled for the browser,
// inproc only), a small static server hands it to a headless Chromium (@sparticuz/chromium: the
// browser ships inside its npm tarball, so `npm ci` installs it), and each test clicks through
// a scenario and checks that the page shows what the sockets' machines do.
//
//   vite build ──▶ tmpdir ──▶ node:http on 127.0.0.1:<ephemeral> ──▶ chromium (playwright-core)

import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as monocoque from '../../src/browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const exported = monocoque as unknown as Record<string, unknown>;
const exports = (...names: string[]) => names.every((n) => typeof exported[n] === 'function');
const hasReqRep = exports('Request', 'Reply');
const hasDealerRouter = exports('Dealer', 'Router');
const hasPubSub = exports('Publisher', 'Subscriber');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

let outDir: string;
let server: Server;
let base: string;
let browser: Browser;
let page: Page;
let pageErrors: string[];

/** Serves the built files; anything else is a 404 (the app makes no other requests). */
function serve(dir: string): Promise<Server> {
  const s = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, rel);
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((ok) => s.listen(0, '127.0.0.1', () => ok(s)));
}

/** The browser @sparticuz/chromium unpacks (to the temp dir) and its flags, or one line saying what to install. */
async function headlessChromium(): Promise<{ path: string; args: string[] }> {
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    return { path: await sparticuz.executablePath(), args: sparticuz.args };
  } catch (e) {
    throw new Error(`no headless Chromium: run \`npm ci\` to install the dev dependency @sparticuz/chromium (${(e as Error).message})`);
  }
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'monocoque-playground-'));
  await build({ root: join(ROOT, 'playground'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  server = await serve(outDir);
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}/`;
  const headless = await headlessChromium();
  browser = await chromium.launch({
    executablePath: headless.path,
    // Its own flags but one (in a single process, closing a test's page ends the browser), and no
    // reaching out to the network (this machine's is closed).
    args: [...headless.args.filter((a) => a !== '--single-process'), '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function open(scenario: string): Promise<void> {
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(base);
  await page.click(`[data-testid=scenario-picker] [data-scenario="${scenario}"]`);
  await page.waitForSelector(`#app[data-scenario="${scenario}"] section[data-socket]`);
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

async function screenshot(name: string): Promise<void> {
  await mkdir(join(ROOT, 'test-results'), { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0)); // the side panel is sticky: put it back at the top
  await page.screenshot({ path: join(ROOT, 'test-results', `playground-${name}.png`), fullPage: true });
}

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
    await page.waitForSelector('[data-testid=log] [data-kind=monitor][data-who=a]:has-text("peer:refused")');
    await inState('a', 'open.paired.ready');
    expect(await attr('a', 'data-peers')).toBe('1');

    await click('b', 'disconnect');
    await inState('a', 'open.unpaired');
    await chartMatches('a');
    await page.waitForSelector('[data-testid=log] [data-kind=transition][data-who=a]:has-text("on peer.detached")');
    await screenshot('pair');
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
    await page.waitForSelector('[data-testid=log] [data-kind=transition][data-who=push]:has-text("open.mute → open.ready  on pipe.ready")');
    expect(await messages('worker1').first().textContent()).toContain('from push');
    await screenshot('pushpull');
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
    await screenshot('reqrep');
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
    await screenshot('dealer-router');
  }, 60_000);

  it.skipIf(!hasPubSub)('PUB/SUB: each subscriber gets only the topics it subscribed to, in order', async () => {
    await open('pubsub');
    await has('pub', 'data-peers', 2);
    // Subscriptions reach PUB's machine as events; wait until it has taken both.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=log] [data-kind=transition][data-who=pub]')).filter((e) => e.textContent?.includes('subscription.added')).length === 2);
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
    await screenshot('pubsub');
  }, 60_000);
});
