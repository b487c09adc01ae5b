// `npm run machines`: draws every machine exported from machines/*.ts as a Mermaid stateDiagram-v2
// into docs/machines.md, from the machine definitions themselves (states, initial states, nesting,
// parallel regions, transitions with events, guards and actions, final states). Deterministic:
// the same machines give the same bytes, so a test can tell when the file is stale.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StateMachine } from 'xstate';
import type { AnyStateMachine } from 'xstate';

type AnyStateNode = AnyStateMachine['root'];
type AnyTransition = NonNullable<AnyStateNode['always']>[number];

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MACHINES_DIR = join(ROOT, 'machines');
/** Where `npm run machines` writes. */
export const MACHINES_DOC = join(ROOT, 'docs', 'machines.md');

export interface FoundMachine {
  /** The export name (`pushMachine`). */
  name: string;
  /** The file, relative to the project (`machines/push.ts`). */
  file: string;
  machine: AnyStateMachine;
  /** The file's opening comment: what the machine is for. */
  summary: string;
  /** The rules that decide what the machine's socket does, and the file that defines them. */
  rules: { file: string; rules: Rule[] } | undefined;
}

/** One rule: an exported pure function the machine's guards and its socket's fast path call. */
export interface Rule {
  name: string;
  /** The first sentence of its doc comment. */
  doc: string;
}

/**
 * The rules a machine file defines: the exported functions of its `// ---- the rules` section, each
 * with the first sentence of its doc comment, in source order. A rule several machines share is
 * defined once and re-exported in each one's section (`export { probesNewPeer } from './probe-router.js';`):
 * its doc comment is read from that file, through `read` (the file's name, e.g. `probe-router.ts`).
 */
export function rulesOf(source: string, read?: (file: string) => string): Rule[] {
  const at = source.indexOf('// ---- the rules');
  if (at < 0) return [];
  let section = source.slice(at + 1);
  const end = section.search(/\n(?:export const \w+Machine\b|export function create\w+Machine\b|\/\/ ---- )/);
  if (end >= 0) section = section.slice(0, end);
  const out: Rule[] = [];
  for (const m of section.matchAll(/\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*export function (\w+)|\nexport \{ ([\w, ]+) \} from '\.\/([\w-]+)\.js';/g)) {
    if (m[2] !== undefined) {
      out.push({ name: m[2], doc: firstSentence(m[1] as string) });
      continue;
    }
    const from = read?.(`${m[4] as string}.ts`) ?? '';
    for (const name of (m[3] as string).split(',').map((n) => n.trim())) {
      // The doc comment right before the function: no `*/` inside it.
      const doc = new RegExp(`/\\*\\*((?:[^*]|\\*(?!/))*)\\*/\\s*export function ${name}\\b`).exec(from);
      out.push({ name, doc: doc === null ? '' : firstSentence(doc[1] as string) });
    }
  }
  return out;
}

/** The first sentence of a doc comment's text (the text between its delimiters). */
function firstSentence(comment: string): string {
  const doc = comment.replace(/^\s*\* ?/gm, '').replace(/\s+/g, ' ').trim();
  const sentence = /^(.*?\.)(\s|$)/.exec(doc);
  return sentence === null ? doc : (sentence[1] as string);
}

/**
 * Where the rules of a machine exported from `file` live: the file itself, or the file of the
 * factory it calls (`createRoundRobinMachine` in machines/round-robin.ts, for PUSH and DEALER).
 */
function rulesFor(dir: string, file: string): { file: string; rules: Rule[] } | undefined {
  const source = readFileSync(join(dir, file), 'utf8');
  const read = (sibling: string): string => readFileSync(join(dir, sibling), 'utf8');
  const own = rulesOf(source, read);
  if (own.length > 0) return { file: `machines/${file}`, rules: own };
  const factory = /import \{[^}]*\bcreate\w+Machine\b[^}]*\} from '\.\/([\w-]+)\.js'/.exec(source);
  if (factory === null) return undefined;
  const from = `${factory[1] as string}.ts`;
  const rules = rulesOf(read(from), read);
  return rules.length > 0 ? { file: `machines/${from}`, rules } : undefined;
}

/** Every StateMachine exported from machines/*.ts, by file then export name; each machine once. */
export async function findMachines(dir: string = MACHINES_DIR): Promise<FoundMachine[]> {
  const found: FoundMachine[] = [];
  const seen = new Set<unknown>();
  for (const entry of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()) {
    const path = join(dir, entry);
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    for (const name of Object.keys(mod).sort()) {
      const value = mod[name];
      if (!(value instanceof StateMachine) || seen.has(value)) continue;
      seen.add(value);
      found.push({ name, file: `machines/${entry}`, machine: value as AnyStateMachine, summary: openingComment(readFileSync(path, 'utf8')), rules: rulesFor(dir, entry) });
    }
  }
  return found;
}

/** The whole of docs/machines.md. */
export async function generateMachinesDoc(dir: string = MACHINES_DIR): Promise<string> {
  const machines = await findMachines(dir);
  const out: string[] = [
    '# Socket machines',
    '',
    '<!-- Generated by `npm run machines` (scripts/machines.ts) from machines/*.ts. Do not edit by hand: test/docs/machines-doc.test.ts fails when this file is stale. -->',
    '',
    'Every statechart of monocoque, drawn from its XState definition. How to read them:',
    '',
    '- `event [guard] / action, action`: a transition; `always` is an eventless transition (taken as soon as its guard holds), `after …` a delayed one.',
    '- An arrow carries every transition from one state to another, one per line.',
    '- A state\'s box shows its name, then what happens while the machine is in it: `entry / …` and `exit / …` (the effects, such as startLinger, release or refusePeer, are provided by the runtime), `invoke …`, and the transitions that keep the state (no target, or the state itself without `reenter`): they run their actions and stay. A line ending in `→ X` goes to X, a state around this one, and enters it again. An arrow from a state back to itself leaves and re-enters it (`reenter`).',
    '- A composite state\'s own transitions, taken in whichever of its states the machine is (unless that state handles the event itself), start from the dashed box "any state of …" drawn in it (beside it, for a parallel state); its own entry and exit are in a note.',
    '- A black dot marks the initial state of the machine or of a composite state, a ringed one where a final state ends it; dashed areas side by side inside a state are its parallel regions.',
    '- Under a socket machine, its rules: the pure functions that decide what the socket does (may it send or receive now, which peer gets a message, drop or wait at HWM, which replies count, what a subscription matches). The machine\'s guards call them, and so does the socket\'s fast path, which sends no event per message.',
    '',
    '## Contents',
    '',
  ];
  for (const m of machines) out.push(`- [${m.name}](#${m.name.toLowerCase()}): \`${m.file}\``);
  for (const m of machines) {
    out.push('', `## ${m.name}`, '', `\`${m.file}\`${m.summary === '' ? '' : `: ${m.summary}`}`, '', '```mermaid', toMermaid(m.machine), '```');
    if (m.rules !== undefined) {
      out.push('', `Rules (\`${m.rules.file}\`):`, '');
      for (const r of m.rules.rules) out.push(`- \`${r.name}\`: ${r.doc}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * Mermaid's settings for every diagram, as front matter. A state diagram draws its edges with the
 * flowchart's settings: their default curve (basis) does not pass through the points the layout
 * gave an edge, so Mermaid, not finding the label's point on the path, moves the label to the
 * path's middle, often onto another label; a curve through the points (monotoneY, for a top-down
 * layout) keeps each label where the layout made room for it. And a label wraps at 200 px unless
 * told not to, which breaks one transition over lines that run into the next one's.
 */
const FRONT_MATTER = ['---', 'config:', '  flowchart:', '    curve: monotoneY', '  markdownAutoWrap: false', '---'];

/**
 * One machine as a Mermaid stateDiagram-v2 (without the code fence), in forms Mermaid 11 draws
 * without error and legibly (test/docs/mermaid-render.test.ts renders every block in Chromium):
 * - A simple state is a box titled with its name; under the title, what happens while in it: its
 *   description, entry and exit actions, invoked actors, and the transitions that keep the state
 *   (UML's internal transitions). Drawn as self-loops, those would pile up: Mermaid draws one
 *   self-loop per node, and places its label beside the node after the layout, over whatever is
 *   there. A single description would replace the name in the box, so the name comes first.
 * - A composite state is a Mermaid group, which holds no such lines ("Group nodes can only have
 *   label"): its entry, exit and invocations go in a note, and its own transitions start from a
 *   dashed box "any state of …" (inside it; beside it for a parallel state, whose block holds only
 *   its regions). Mermaid draws an edge from a group to a node inside it with no length, its label
 *   on the node, and moves the label of any edge leaving a group to the middle of its path.
 * - A transition into a state around its source cannot be drawn either (the edge would have no
 *   length): it is listed in the source's box, `… → target`.
 * - The transitions between the same two states make one edge, one transition per line.
 * - An edge is written in the block of its two ends when they share one, else at the top: Mermaid
 *   moves a node into the block of any statement naming it (but the top one), and puts what follows
 *   a parallel state's last `--` in its last region (an edge from another region fails there: "No
 *   such shape: divider").
 */
export function toMermaid(machine: AnyStateMachine): string {
  const root = machine.root;
  // The root becomes a box of its own only when it has something to show (transitions, entry, invoke).
  const drawRoot = ownTransitions(root).length > 0 || ownLines(root).length > 0;
  /** The block a node's statements go in: `null` for the diagram itself. */
  const blockOf = (node: AnyStateNode | undefined): AnyStateNode | null => (node === undefined || (node === root && !drawRoot) ? null : node);
  /** The nearest block that may hold nodes and edges besides regions: not a parallel state's. */
  const outsideParallel = (node: AnyStateNode | undefined): AnyStateNode | undefined => {
    let n = node;
    while (n !== undefined && n.type === 'parallel') n = n.parent;
    return n;
  };

  // The "any state of X" boxes: their ids, the blocks they are written in, and the internal
  // transitions each box (or simple state) lists.
  const ids = new Set(allNodes(root).map(nodeId));
  const anyBoxes = new Map<AnyStateNode, { id: string; home: AnyStateNode | undefined }>();
  const anyBox = (node: AnyStateNode) => {
    let box = anyBoxes.get(node);
    if (box === undefined) {
      let id = `${nodeId(node)}__any`;
      while (ids.has(id)) id += '_';
      ids.add(id);
      anyBoxes.set(node, (box = { id, home: node.type === 'parallel' ? outsideParallel(node.parent) : node }));
    }
    return box;
  };
  const internal = new Map<AnyStateNode, string[]>();
  /** Lists a transition in the box of `node` (its "any state of" box, for a composite). */
  const listIn = (node: AnyStateNode, line: string) => {
    if (node.type === 'compound' || node.type === 'parallel') anyBox(node);
    let list = internal.get(node);
    if (list === undefined) internal.set(node, (list = []));
    list.push(line);
  };

  // Edges by block, then by (from, to): the labels of every transition they draw.
  const edges = new Map<AnyStateNode | null, Map<string, { from: string; to: string; labels: string[] }>>();
  const addEdge = (fromHome: AnyStateNode | undefined, from: string, to: AnyStateNode, label: string) => {
    // In the block of both ends when they share one (and that is no parallel state's), else at the
    // top: Mermaid sets a node's parent from every statement naming it, but the top ones.
    const block = fromHome === to.parent && fromHome?.type !== 'parallel' ? blockOf(fromHome) : null;
    let list = edges.get(block);
    if (list === undefined) edges.set(block, (list = new Map()));
    const key = `${from} ${nodeId(to)}`;
    let edge = list.get(key);
    if (edge === undefined) list.set(key, (edge = { from, to: nodeId(to), labels: [] }));
    edge.labels.push(label);
  };

  const visit = (node: AnyStateNode) => {
    const composite = node.type === 'compound' || node.type === 'parallel';
    for (const t of ownTransitions(node)) {
      const label = transitionLabel(t);
      if (staysIn(node, t)) {
        listIn(node, label);
        continue;
      }
      for (const target of t.target ?? []) {
        if (ancestors(node).includes(target)) {
          // Into a state around it: Mermaid can only draw that edge with no length, under the
          // source. Listed in the source's box instead, with where it goes.
          listIn(node, `${label} → ${text(target.key)}`);
        } else if (composite && target !== node) {
          // A composite's own transitions start from its box (to itself, they loop on the group).
          const box = anyBox(node);
          addEdge(box.home, box.id, target, label);
        } else {
          addEdge(node.parent, nodeId(node), target, label);
        }
      }
    }
    for (const child of children(node)) visit(child);
  };
  visit(root);

  const lines: string[] = [...FRONT_MATTER, 'stateDiagram-v2'];
  if (anyBoxes.size > 0) lines.push('  classDef anyState stroke-dasharray:5 4');
  /** A box titled `title`, with `body` under the title; the title alone when there is no body. */
  const box = (pad: string, id: string, title: string, body: string[]) => {
    if (body.length === 0 && id === title) {
      lines.push(`${pad}${id}`);
      return;
    }
    // The title is declared as a description first: Mermaid titles a box with its first one, and
    // with a single one shows it in place of the name.
    lines.push(`${pad}state "${text(title)}" as ${id}`);
    for (const line of body) lines.push(`${pad}${id} : ${line}`);
  };
  const writeState = (node: AnyStateNode, depth: number) => {
    const pad = '  '.repeat(depth);
    const id = nodeId(node);
    if (node.type === 'compound' || node.type === 'parallel') {
      if (id !== node.key) lines.push(`${pad}state "${text(node.key)}" as ${id}`);
      lines.push(`${pad}state ${id} {`);
      writeInside(node, depth + 1);
      lines.push(`${pad}}`);
      const notes = ownLines(node);
      if (notes.length > 0) lines.push(`${pad}note right of ${id} : ${notes.join('<br/>')}`);
    } else {
      box(pad, id, node.key, [...ownLines(node), ...(internal.get(node) ?? [])]);
    }
  };
  /** What a block holds besides its states: its "any state" boxes, final markers and edges. */
  const writeRest = (block: AnyStateNode | null, finals: AnyStateNode[], depth: number) => {
    const pad = '  '.repeat(depth);
    for (const [node, any] of anyBoxes) {
      if (blockOf(any.home) !== block) continue;
      box(pad, any.id, `any state of ${node.key}`, internal.get(node) ?? []);
    }
    for (const kid of finals) lines.push(`${pad}${nodeId(kid)} --> [*]`);
    for (const e of edges.get(block)?.values() ?? []) lines.push(`${pad}${e.from} --> ${e.to} : ${e.labels.join('<br/>')}`);
  };
  const writeInside = (node: AnyStateNode, depth: number) => {
    const pad = '  '.repeat(depth);
    const kids = children(node);
    if (node.type === 'parallel') {
      // Regions only: anything after the last `--` would land in the last region.
      kids.forEach((kid, i) => {
        if (i > 0) lines.push(`${pad}--`);
        writeState(kid, depth);
      });
      return;
    }
    for (const target of node.initial?.target ?? []) lines.push(`${pad}[*] --> ${nodeId(target)}`);
    for (const kid of kids) writeState(kid, depth);
    writeRest(blockOf(node), kids.filter((k) => k.type === 'final'), depth);
  };
  if (drawRoot) {
    lines.push(`  [*] --> ${nodeId(root)}`);
    writeState(root, 1);
    writeRest(null, [], 1);
  } else {
    writeInside(root, 1);
  }
  // At the top: Mermaid applies only the diagram's own `class` statements.
  for (const any of anyBoxes.values()) lines.push(`  class ${any.id} anyState`);
  return lines.join('\n');
}

function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

/** The node's transitions in definition order: `on` (event by event), then `always`. */
function ownTransitions(node: AnyStateNode): AnyTransition[] {
  const out: AnyTransition[] = [];
  for (const list of node.transitions.values()) out.push(...(list as AnyTransition[]));
  out.push(...((node.always ?? []) as AnyTransition[]));
  return out;
}

/**
 * Whether a transition keeps its state, running only its actions: it has no target, or a simple
 * state names itself without `reenter` (xstate then exits and enters nothing).
 */
function staysIn(node: AnyStateNode, t: AnyTransition): boolean {
  if (t.target === undefined || t.target.length === 0) return true;
  return node.type !== 'compound' && node.type !== 'parallel' && t.reenter !== true && t.target.every((target) => target === node);
}

function ancestors(node: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  for (let n = node.parent; n !== undefined; n = n.parent) out.push(n);
  return out;
}

/** The node and every node under it, in definition order. */
function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

const RESERVED = new Set(['state', 'note', 'end', 'as', 'direction', 'class', 'classDef', 'style', 'click', 'left', 'right', 'of', 'hide', 'scale']);

/**
 * A Mermaid id unique in the diagram: the node's path, joined with `_`. Not a keyword, and not
 * ending in `_start` or `_end`, the ids Mermaid gives the `[*]` of a block (`<block id>_end`).
 */
function nodeId(node: AnyStateNode): string {
  const raw = node.path.length === 0 ? node.machine.id : node.path.join('_');
  const id = raw.replace(/[^A-Za-z0-9_]/g, '_');
  return RESERVED.has(id) || /_(start|end)$/.test(id) ? `${id}_` : id;
}

function transitionLabel(t: AnyTransition): string {
  let label = eventLabel(String(t.eventType ?? ''));
  if (t.guard !== undefined) label += ` [${guardName(t.guard)}]`;
  const actions = t.actions.map(actionName).filter((a) => a !== '');
  if (actions.length > 0) label += ` / ${actions.join(', ')}`;
  return text(label.trim());
}

function eventLabel(type: string): string {
  if (type === '') return 'always';
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after !== null) return /^\d+$/.test(after[1] as string) ? `after ${after[1]} ms` : `after ${after[1]}`;
  return type;
}

function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as { name?: string; guards?: unknown[]; stateValue?: unknown };
    if (g.guards !== undefined && g.name === 'not') return `!${guardName(g.guards[0])}`;
    if (g.guards !== undefined && (g.name === 'and' || g.name === 'or')) return g.guards.map(guardName).join(g.name === 'and' ? ' && ' : ' || ');
    if (g.name === 'stateIn') return `in ${JSON.stringify(g.stateValue ?? '?')}`;
    return g.name !== undefined && g.name !== '' && g.name !== 'guard' ? g.name : 'inline guard';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'object' && action !== null && 'type' in action) return String((action as { type: unknown }).type);
  if (typeof action === 'function') {
    const a = action as { type?: string; name?: string };
    if (typeof a.type === 'string') return a.type.replace(/^xstate\./, '');
    return a.name !== undefined && a.name !== '' ? a.name : 'inline';
  }
  return '';
}

/** What a state does besides its transitions: its description, entry and exit actions, invoked actors (and, for a history state, that it is one). */
function ownLines(node: AnyStateNode): string[] {
  const out: string[] = [];
  if (node.type === 'history') out.push(node.history === 'deep' ? 'deep history' : 'history');
  if (node.description !== undefined) out.push(node.description);
  const entry = node.entry.filter((a) => !isDelayTimer(a)).map(actionName).filter((a) => a !== '');
  if (entry.length > 0) out.push(`entry / ${entry.join(', ')}`);
  const exit = node.exit.filter((a) => !isDelayTimer(a)).map(actionName).filter((a) => a !== '');
  if (exit.length > 0) out.push(`exit / ${exit.join(', ')}`);
  for (const inv of node.invoke) out.push(`invoke ${typeof inv.src === 'string' ? inv.src : inv.id}`);
  return out.map(text);
}

/**
 * The raise and cancel xstate adds to a state's entry and exit for each of its `after`
 * transitions: the timer of a transition already drawn as `after …`, not an effect of the machine.
 */
function isDelayTimer(action: unknown): boolean {
  if (typeof action !== 'function' && (typeof action !== 'object' || action === null)) return false;
  const a = action as { type?: unknown; event?: { type?: unknown }; sendId?: unknown };
  const delayed = (s: unknown) => typeof s === 'string' && s.startsWith('xstate.after.');
  return (a.type === 'xstate.raise' && delayed(a.event?.type)) || (a.type === 'xstate.cancel' && delayed(a.sendId));
}

/** Keeps a label to one Mermaid line: no newlines, no characters Mermaid reads as syntax. */
function text(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/[;#{}"]/g, "'").trim();
}

/** The opening `//` comment of a source file, as one paragraph. */
function openingComment(source: string): string {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    const m = /^\/\/ ?(.*)$/.exec(line);
    if (m === null) break;
    lines.push(m[1] as string);
  }
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const doc = await generateMachinesDoc();
  writeFileSync(MACHINES_DOC, doc);
  console.log(`wrote ${MACHINES_DOC.slice(ROOT.length + 1)} (${(doc.match(/^## /gm) ?? []).length - 1} machines)`);
}
