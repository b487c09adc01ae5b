// CURVE in a real browser: vite builds test/browser/curve-page (the protocol layer from src/, with
// libsodium-wrappers loaded lazily as src/protocol/sodium.ts does it), a small static server hands it
// to a headless Chromium (@sparticuz/chromium, as test/playground does), and the page runs a whole
// CURVE handshake between two CurveMechanisms in memory, seals and opens MESSAGEs both ways and opens
// a tampered box. It reports what it saw on `window.__result`; the assertions are all here.
//
//   vite build ──▶ tmpdir ──▶ node:http on 127.0.0.1:<ephemeral> ──▶ chromium (playwright-core) ──▶ __result

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndServe, launchBrowser } from '../helpers/browser.js';
import type { BuiltPage } from '../helpers/browser.js';
import type { CurveResult } from './curve-page/main.js';

let built: BuiltPage;
let outDir: string;
let base: string;
let browser: Browser;

beforeAll(async () => {
  built = await buildAndServe(join(import.meta.dirname, 'curve-page'), 'monocoque-curve-page-');
  ({ outDir, base } = built);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await built?.stop();
});

/** Opens the page, waits for its report, and returns it with every page error and failed request. */
async function runPage(): Promise<{ result: CurveResult | { error: string }; errors: string[]; requested: string[] }> {
  const page: Page = await browser.newPage();
  const errors: string[] = [];
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  try {
    await page.goto(base);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, undefined, { timeout: 30_000 });
    const result = await page.evaluate(() => (globalThis as unknown as { __result: CurveResult | { error: string } }).__result);
    return { result, errors, requested };
  } finally {
    await page.close();
  }
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

describe('CURVE in a browser (Chromium, vite build)', () => {
  it('the build carries the protocol layer, with libsodium in a chunk of its own loaded on demand, and nothing of node:', async () => {
    const files = (await readdir(join(outDir, 'assets'))).filter((f) => f.endsWith('.js'));
    const sodiumChunk = files.find((f) => f.startsWith('libsodium-wrappers-'));
    const entry = files.find((f) => f.startsWith('index-'));
    expect(sodiumChunk, `chunks: ${files.join(', ')}`).toBeDefined();
    expect(entry, `chunks: ${files.join(', ')}`).toBeDefined();
    const entryCode = await readFile(join(outDir, 'assets', entry!), 'utf8');
    expect(entryCode).toContain('CurveZMQMESSAGEC'); // the cipher's nonce prefix: curve-mechanism.ts is in
    expect(entryCode).toMatch(/import\(\s*[`'"]\.\/libsodium-wrappers-/); // loaded by a dynamic import only
    for (const f of files) expect(await readFile(join(outDir, 'assets', f), 'utf8'), f).not.toMatch(/["'`]node:/);
  });

  it('libsodium loads lazily; keys, a whole handshake, MESSAGEs both ways and a tampered box behave', async () => {
    const { result, errors, requested } = await runPage();
    expect(errors).toEqual([]);
    expect(requested.some((p) => /\/assets\/libsodium-wrappers-[^/]*\.js$/.test(p)), requested.join(' ')).toBe(true);
    if ('error' in result) throw new Error(`the page failed: ${result.error}`);
    const r = result;

    // A browser has no Buffer; nothing needs one.
    expect(r.bufferType).toBe('undefined');

    // Before curveReady(): libsodium not loaded, curveKeyPair() refuses with ENOTSUP saying what to do.
    expect(r.sodiumBeforeReady).toBe(true);
    expect(r.beforeReady.threw).toBe(true);
    expect(r.beforeReady.code).toBe('ENOTSUP');
    expect(r.beforeReady.message).toContain('curveReady()');
    expect(r.sodiumAfterReady).toBe(true);

    // Keys: 40 Z85 characters each, all different.
    const all = [r.keys.client.publicKey, r.keys.client.secretKey, r.keys.server.publicKey, r.keys.server.secretKey];
    for (const k of all) expect(k).toMatch(Z85_KEY);
    expect(new Set(all).size).toBe(4);

    // The handshake: the four commands, with libzmq's sizes, then both sides ready.
    expect(r.wire.map((w) => `${w.from}:${w.name}`)).toEqual(['client:HELLO', 'server:WELCOME', 'client:INITIATE', 'server:READY']);
    expect(r.wire.slice(0, 2).map((w) => w.bytes)).toEqual([202, 170]);
    expect(r.status).toEqual({ client: 'ready', server: 'ready' });
    expect(r.peers).toEqual({ clientSees: 'ROUTER', serverSees: 'DEALER', serverSeesApp: 'browser' });
    expect(r.carriers).toEqual({ client: 'MESSAGE', server: 'MESSAGE' });

    // Sealed on one side, opened on the other, both directions: same flags, same bytes, plain Uint8Arrays.
    expect(r.clientToServer).toHaveLength(3);
    expect(r.serverToClient).toHaveLength(2);
    for (const f of [...r.clientToServer, ...r.serverToClient]) {
      expect(f.carrier).toBe('MESSAGE');
      expect(f.openedFlags).toBe(f.sentFlags);
      expect(f.openedHex).toBe(f.sentHex);
      expect(f.openedType).toBe('Uint8Array');
    }
    expect(r.clientToServer.map((f) => f.sentFlags)).toEqual([1, 0, 0]);
    expect(r.clientToServer[1].sentHex).toHaveLength(600); // the 300-octet frame
    expect(r.clientToServer[2].sentHex).toBe(''); // an empty frame
    expect(Buffer.from(r.serverToClient[1].openedHex, 'hex').toString('utf8')).toBe('second frame ✓');

    // A sealed command: the COMMAND flag and the command itself.
    expect(r.sealedCommand).toEqual({ flags: 2, name: 'SUBSCRIBE', dataHex: Buffer.from('topic').toString('hex') });

    // One flipped octet: the box does not open; the original still does (the window did not move); a replay is refused.
    expect(r.tampered.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    expect(r.tampered.message).toContain('does not open');
    expect(r.originalAfterTamper).toEqual({ opened: true, equal: true });
    expect(r.replay.code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
  }, 60_000);
});
