// The inproc conformance run in Chromium: `monocoque/browser` (its source, bundled by vite with no
// Node polyfills) runs every socket type over inproc, zero copy and a monitor event in a page, and
// refuses tcp with EPROTONOSUPPORT. The page reports each check; the assertions are here.

import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndServe, launchBrowser } from '../helpers/browser.js';
import type { BuiltPage } from '../helpers/browser.js';
import type { ConformanceResult } from './conformance-page/main.js';

let built: BuiltPage;
let browser: Browser;

beforeAll(async () => {
  built = await buildAndServe(join(import.meta.dirname, 'conformance-page'), 'monocoque-conformance-page-');
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await built?.stop();
});

describe('monocoque/browser in Chromium', () => {
  it('every socket type over inproc, zero copy, a monitor event; tcp refused; no Buffer needed', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    try {
      await page.goto(built.base);
      await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: 30_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { __result: ConformanceResult }).__result);
      expect(errors).toEqual([]);
      expect(result).toEqual({
        pair: 'pass',
        'push-pull': 'pass',
        'req-rep': 'pass',
        'dealer-router': 'pass',
        'pub-sub': 'pass',
        'xpub-xsub': 'pass',
        'zero-copy': 'pass',
        'monitor-event': 'pass',
        'tcp-refused': 'pass',
        buffer: 'undefined',
      });
    } finally {
      await page.close();
    }
  });
});
