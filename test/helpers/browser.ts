// What the browser tests share: a headless Chromium that `npm ci` provides (@sparticuz/chromium,
// started through playwright-core), a vite build of a page, and a static server for it.
//
//   vite build ──▶ tmpdir ──▶ node:http on 127.0.0.1:<ephemeral> ──▶ chromium (playwright-core)

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { build } from 'vite';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** The browser @sparticuz/chromium unpacks (to the temp dir) and its flags, or one line saying what to install. */
async function headlessChromium(): Promise<{ path: string; args: string[] }> {
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    return { path: await sparticuz.executablePath(), args: sparticuz.args };
  } catch (e) {
    throw new Error(`no headless Chromium: run \`npm ci\` to install the dev dependency @sparticuz/chromium (${(e as Error).message})`);
  }
}

/** Starts the headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  const headless = await headlessChromium();
  return chromium.launch({
    executablePath: headless.path,
    // Its own flags but one (in a single process, closing a page ends the browser), and no reaching
    // out to the network (this machine's is closed).
    args: [...headless.args.filter((a) => a !== '--single-process'), '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Serves `dir`; anything outside it is a 403, anything missing a 404. */
export function serve(dir: string): Promise<Server> {
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

/** A page built by vite from `root` and served: its address, its output folder, and how to stop. */
export interface BuiltPage {
  base: string;
  outDir: string;
  stop(): Promise<void>;
}

/** Builds the page at `root` with vite into a temp folder and serves it. */
export async function buildAndServe(root: string, prefix: string): Promise<BuiltPage> {
  const outDir = await mkdtemp(join(tmpdir(), prefix));
  await build({ root, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  const server = await serve(outDir);
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    outDir,
    stop: async () => {
      await new Promise((ok) => server.close(ok));
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
