// docs/machines.md as readers see it: each Mermaid block rendered by the real Mermaid (the `mermaid`
// dev dependency, v11) in a headless Chromium (@sparticuz/chromium, as test/playground does). No
// block may fail to render; each edge must be drawn once with its label; and in a page 1440 px wide
// and in one 800 px wide (where Mermaid scales a wide diagram down to the page, as GitHub shows it),
// every state's name must be on screen, not hidden under something else, and nothing may cover a
// label. A screenshot of each diagram at each width lands in test-results/machines/<name>-<width>.png.
//
//   docs/machines.md ──▶ one block per machine ──▶ mermaid.render() in chromium ──▶ SVG in the page
//                                                     ──▶ at 1440 and 800 px: what is visible where
//                                                         (elementFromPoint) + PNG

import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { createMachine } from 'xstate';
import { toMermaid } from '../../scripts/machines.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOC = join(ROOT, 'docs', 'machines.md');
const MERMAID = join(ROOT, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
const SHOTS = join(ROOT, 'test-results', 'machines');
/** The page widths a reader may have: a desktop window, and a narrow one. */
const WIDTHS = [1440, 800];
/** Around the diagram, as the page pads it. */
const PAD = 16;

/** One ```mermaid block of the doc, under its `## name` heading. */
interface Block {
  name: string;
  source: string;
}

/** What a block draws, read from its source. */
interface Drawing {
  /** Every state (and "any state of" box) by Mermaid id, with the name it is shown by. */
  states: Map<string, string>;
  /** Every `-->` line: one edge each, its label's lines (transitions) split at `<br/>`. */
  edges: { from: string; to: string; lines: string[] }[];
}

function blocksOf(doc: string): Block[] {
  const out: Block[] = [];
  for (const section of doc.split(/^## /m).slice(1)) {
    const m = /^```mermaid\n([\s\S]*?)^```$/m.exec(section);
    if (m !== null) out.push({ name: section.slice(0, section.indexOf('\n')).trim(), source: m[1] as string });
  }
  return out;
}

function drawingOf(source: string): Drawing {
  const states = new Map<string, string>();
  const edges: Drawing['edges'] = [];
  const see = (id: string) => {
    if (id !== '[*]' && !states.has(id)) states.set(id, id);
  };
  // Front matter (`---` … `---`) is configuration, not diagram.
  const body = source.replace(/^---\n[\s\S]*?\n---\n/, '');
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^state "([^"]*)" as (\w+)$/.exec(line))) states.set(m[2] as string, m[1] as string);
    else if ((m = /^state (\w+) \{$/.exec(line))) see(m[1] as string);
    else if ((m = /^(\S+) --> (\S+)(?: : (.*))?$/.exec(line))) {
      see(m[1] as string);
      see(m[2] as string);
      edges.push({ from: m[1] as string, to: m[2] as string, lines: m[3] === undefined ? [] : m[3].split('<br/>') });
    } else if ((m = /^note (?:left|right) of (\w+) : /.exec(line))) see(m[1] as string);
    else if ((m = /^(\w+) : /.exec(line))) see(m[1] as string);
    else if ((m = /^(\w+)$/.exec(line)) && line !== 'stateDiagram-v2') see(m[1] as string);
  }
  return { states, edges };
}

/** What the page found in one rendered diagram. */
interface Rendered {
  /** The error mermaid.render threw, if any. */
  error?: string;
  /** Its natural size (Mermaid's viewBox): it is drawn at most this wide, and narrower in a narrower page. */
  width: number;
  height: number;
  /** Edges drawn (paths of transitions, not the dashed lines of notes). */
  edgeCount: number;
  /** Each edge label's text, lines joined by `\n`. */
  labels: string[];
}

const blocks = blocksOf(readFileSync(DOC, 'utf8'));
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(MERMAID)) throw new Error(`no ${MERMAID.slice(ROOT.length + 1)}: run \`npm ci\` to install the dev dependency mermaid`);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff"><div id="diagram" style="padding:${PAD}px"></div></body></html>`);
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() => (window as unknown as { mermaid: Mermaid }).mermaid.initialize({ startOnLoad: false }));
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** The part of Mermaid's API the page uses. */
interface Mermaid {
  initialize(config: { startOnLoad: boolean }): void;
  render(id: string, source: string): Promise<{ svg: string }>;
}

/** Renders `source` into the page at its natural size; what came out. */
function render(name: string, source: string): Promise<Rendered> {
  return page.evaluate(
    async ([name, source]) => {
      const host = document.getElementById('diagram') as HTMLElement;
      host.innerHTML = '';
      let svg: string;
      try {
        ({ svg } = await (window as unknown as { mermaid: Mermaid }).mermaid.render(`m-${name}`, source));
      } catch (e) {
        return { error: String((e as Error).message ?? e), width: 0, height: 0, edgeCount: 0, labels: [] };
      }
      // As Mermaid sizes it (`useMaxWidth`): the page's width, at most its natural width.
      host.innerHTML = svg;
      const el = host.querySelector('svg') as SVGSVGElement;
      const box = el.viewBox.baseVal;
      return {
        width: Math.ceil(box.width),
        height: Math.ceil(box.height),
        edgeCount: el.querySelectorAll('path.transition:not(.note-edge)').length,
        labels: Array.from(el.querySelectorAll('g.edgeLabel'), (g) => {
          // Its text, a line break where Mermaid put a <br>.
          let text = '';
          const walker = document.createTreeWalker(g, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
          for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
            if (n.nodeType === Node.TEXT_NODE) text += n.textContent ?? '';
            else if ((n as Element).tagName.toLowerCase() === 'br') text += '\n';
          }
          // Mermaid writes the spaces of a label it must not wrap as no-break spaces.
          return text.replace(/[^\S\n]+/g, ' ').trim();
        }).filter((t) => t !== ''),
      };
    },
    [name, source] as const,
  );
}

/**
 * The texts of the diagram on screen that nothing covers, with the element they belong to: for each
 * text node, points along each of its lines must hit that text's own label (a state box, a group's
 * title, an edge label), not something drawn over it.
 */
function visibleTexts(): Promise<{ text: string; owner: 'edgeLabel' | 'other'; covered: string[] }[]> {
  return page.evaluate(() => {
    const svg = document.querySelector('#diagram svg') as SVGSVGElement;
    const out: { text: string; owner: 'edgeLabel' | 'other'; covered: string[] }[] = [];
    const walker = document.createTreeWalker(svg, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const text = (n.textContent ?? '').replace(/\s+/g, ' ').trim();
      const parent = n.parentElement;
      if (text === '' || parent === null || parent.closest('style') !== null) continue;
      const edge = parent.closest('g.edgeLabel');
      // The label's own group: what a point on this text may hit without the text being hidden.
      const owner = edge ?? parent.closest('foreignObject') ?? parent.closest('text') ?? parent;
      const range = document.createRange();
      range.selectNodeContents(n);
      const covered: string[] = [];
      for (const r of Array.from(range.getClientRects())) {
        if (r.width === 0 || r.height === 0) continue;
        // Near each end and in the middle (2 px in, or less in a text scaled down to a sliver).
        const inset = Math.min(2, r.width / 4);
        for (const x of [r.left + inset, r.left + r.width / 2, r.right - inset]) {
          const top = document.elementFromPoint(x, r.top + r.height / 2);
          if (top === null || !owner.contains(top)) covered.push(top === null ? 'nothing' : `${top.tagName.toLowerCase()}.${top.getAttribute('class') ?? ''} "${(top.textContent ?? '').trim().slice(0, 40)}"`);
        }
      }
      out.push({ text, owner: edge === null ? 'other' : 'edgeLabel', covered: range.getClientRects().length === 0 ? ['no box'] : covered });
    }
    return out;
  });
}

/**
 * Renders one block and checks it as a reader would see it; saves its screenshot. Returns what was
 * drawn, for more checks.
 */
async function renderAndCheck(name: string, source: string): Promise<{ drawing: Drawing; out: Rendered }> {
  pageErrors.length = 0;
  const drawing = drawingOf(source);
  const out = await render(name, source);
  expect(out.error, `${name} does not render`).toBeUndefined();
  expect(pageErrors, `${name}: errors in the page`).toEqual([]);

  for (const width of WIDTHS) {
    // The page at this width, as tall as the diagram is there (only what is in the window can be
    // asked what is on top: elementFromPoint).
    const tall = () => page.evaluate(() => Math.ceil((document.getElementById('diagram') as HTMLElement).getBoundingClientRect().height));
    await page.setViewportSize({ width, height: 200 });
    for (let height = await tall(), i = 0; i < 3; i++) {
      await page.setViewportSize({ width, height: Math.max(200, height) });
      const now = await tall();
      if (now === height) break;
      height = now;
    }
    await page.locator('#diagram').screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
    const at = `${name} at ${width} px (drawn at ${Math.round(Math.min(1, (width - 2 * PAD) / out.width) * 100)}%)`;

    // Each state's name is shown as a text of its own, which nothing covers.
    const texts = await visibleTexts();
    for (const [id, title] of drawing.states) {
      const named = texts.filter((t) => t.owner === 'other' && t.text === title);
      expect(named.length, `${at}: the name of state ${id} ("${title}") is not in the drawing`).toBeGreaterThan(0);
      expect(named.some((t) => t.covered.length === 0), `${at}: the name of state ${id} ("${title}") is covered: ${JSON.stringify(named)}`).toBe(true);
    }
    // No edge label covered, in whole or in part.
    const hidden = texts.filter((t) => t.owner === 'edgeLabel' && t.covered.length > 0);
    expect(hidden, `${at}: edge labels partly hidden`).toEqual([]);
  }

  // One edge per `-->` line, each with the label the block gives it.
  expect(out.edgeCount, `${name}: edges drawn`).toBe(drawing.edges.length);
  const wanted = drawing.edges.filter((e) => e.lines.length > 0).map((e) => e.lines.join('\n'));
  expect([...out.labels].sort(), `${name}: edge labels drawn`).toEqual([...wanted].sort());
  return { drawing, out };
}

describe('docs/machines.md in Mermaid', () => {
  it('has a Mermaid block per machine', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.map((b) => b.name)).toContain('requestMachine');
  });

  for (const { name, source } of blocks) {
    it(`${name}: renders without error, every edge drawn once with its label, every state's name and label uncovered at 1440 and 800 px`, async () => {
      await renderAndCheck(name, source);
    }, 60_000);
  }

  it('REQ: as many edges drawn as its block has transition edges, each listing its transitions', async () => {
    const block = blocks.find((b) => b.name === 'requestMachine') as Block;
    const { drawing, out } = await renderAndCheck('requestMachine', block.source);
    const transitions = drawing.edges.filter((e) => e.from !== '[*]' && e.to !== '[*]');
    expect(transitions.length).toBeGreaterThan(5);
    expect(out.labels.length, 'transition edges drawn').toBe(transitions.length);
    expect(out.edgeCount - out.labels.length, 'initial and final edges drawn').toBe(drawing.edges.length - transitions.length);
    // The turns, and the close that every state takes, each on an edge of its own.
    for (const label of ['reply.received / forgetRequest', 'close [shouldLinger]', 'pipes.drained\nlinger.expired']) expect(out.labels).toContain(label);
  }, 60_000);
});

describe('toMermaid in Mermaid', () => {
  it('draws every construct it knows legibly: nested parallel regions, transitions across regions and into enclosing states, reentry, notes, history, reserved names', async () => {
    const m = createMachine({
      id: 'every',
      initial: 'run',
      entry: 'boot',
      on: { kill: '.dead' },
      states: {
        run: {
          type: 'parallel',
          entry: 'startAll',
          exit: 'stopAll',
          on: { tick: { actions: 'count' }, jump: '.left.two' },
          states: {
            left: {
              initial: 'one',
              entry: 'enterLeft',
              on: { poke: { actions: 'poked' }, reset: { target: 'left', reenter: true } },
              states: {
                one: { invoke: { src: 'worker', id: 'w' }, on: { go: 'two', over: '#every.run.right.b', up: { target: '#every.run.left', reenter: true } } },
                two: { after: { 50: 'one' }, on: { again: { target: 'two', reenter: true, actions: 'redo' }, stay: { target: 'two', actions: 'note' } } },
              },
            },
            right: {
              type: 'parallel',
              states: {
                a: { initial: 'p', states: { p: { on: { q: 'q' } }, q: {} } },
                b: { initial: 'r', states: { r: {}, end: { type: 'final' } } },
              },
            },
          },
        },
        dead: { type: 'final', entry: ['log', 'free'] },
        state: { description: 'a reserved word' },
        hist: { type: 'history', history: 'deep' },
      },
    });
    const { drawing } = await renderAndCheck('toMermaid-every-construct', toMermaid(m));
    expect([...drawing.states.values()]).toEqual(expect.arrayContaining(['run', 'left', 'one', 'two', 'right', 'a', 'b', 'end', 'dead', 'state', 'hist', 'any state of run']));
  }, 60_000);
});
