// Helpers for the tour. A scene is a series of steps; a step is a call and the line that tells
// what it did. Everything the call causes (state changes of the sockets a scene watches, monitor
// events) is held while the call runs and printed indented under that step's line, so a change
// never appears above the call that caused it.
//
// States are named one way everywhere: the dotted path from the machine's root to the active
// leaf state (`open.ready`, `idle`, `handshaking.zap`); a parallel state has one leaf per region
// (`open.peers.attached + open.mandatory.off`), and a change names only the regions that moved
// (`open.mandatory.off -> open.mandatory.on`).

import type { Socket } from '../src/index.js';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

/** The dotted path from the root to every active leaf state: `{ open: 'ready' }` -> `open.ready`. */
export function statePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}${value}`];
  const paths: string[] = [];
  for (const [key, sub] of Object.entries(value as Record<string, unknown>)) paths.push(...statePaths(sub, `${prefix}${key}.`));
  return paths.length > 0 ? paths : [prefix.slice(0, -1) || '?'];
}

/** A state value as the tour names it: its leaf paths, joined by " + " in a parallel state. */
export function stateName(value: unknown): string {
  return statePaths(value).join(' + ');
}

/** `before -> after`, naming only the paths that changed; undefined if none did. */
export function stateChange(before: unknown, after: unknown): string | undefined {
  const was = statePaths(before);
  const now = statePaths(after);
  const left = was.filter((p) => !now.includes(p));
  const entered = now.filter((p) => !was.includes(p));
  if (left.length === 0 && entered.length === 0) return undefined;
  return `${left.join(' + ')} -> ${entered.join(' + ')}`;
}

/** The width the tour is written for: a longer line is folded at a space, its rest indented. */
export const COLUMNS = 100;

/** `text` at `indent`, folded into lines of at most COLUMNS characters. */
function fold(indent: string, text: string): string[] {
  const lines: string[] = [];
  let rest = text;
  let at = indent;
  while (at.length + rest.length > COLUMNS) {
    const room = COLUMNS - at.length;
    let cut = rest.lastIndexOf(' ', room);
    if (cut <= 0) cut = room; // no space to fold at: cut the word
    lines.push(at + rest.slice(0, cut));
    rest = rest.slice(cut).trimStart();
    at = `${indent}  `;
  }
  lines.push(at + rest);
  return lines;
}

/** Lines caused by the step in progress, printed after its own line; undefined between steps. */
let held: string[] | undefined;

function print(indent: string, text: string, style: (s: string) => string = (s) => s): void {
  for (const line of fold(indent, text)) console.log(style(line));
}

function emit(indent: string, text: string, style?: (s: string) => string): void {
  if (held !== undefined) held.push(...fold(indent, text).map(style ?? ((s) => s)));
  else print(indent, text, style);
}

export function scene(title: string): void {
  if (held !== undefined) throw new Error('a scene header inside a step');
  console.log(`\n${bold(`== ${title}`)}`);
}

/** A line of commentary that makes no call. */
export function step(text: string): void {
  if (held !== undefined) throw new Error(`step("${text}") inside another step: return it from the step's line instead`);
  print('  ', text);
}

/** Something a call caused (a state change, a monitor event): shown indented under its step. */
export function detail(text: string): void {
  emit('    ', text, dim);
}

/** Lets what a call set in motion (queued microtasks, the next turns of the loop) happen. */
const settle = () => new Promise((r) => setTimeout(r, 2));

/**
 * Runs `call`, then prints `line` (made from its result if a function; more lines are printed
 * indented under the first), then everything the call caused while it ran. A call that starts
 * something to await later returns it wrapped (`{ fifth }`): a promise returned bare is awaited.
 */
export async function act<T>(line: string | string[] | ((result: T) => string | string[]), call: () => T | Promise<T>): Promise<T> {
  if (held !== undefined) throw new Error('a step inside another step');
  held = [];
  let result: T;
  try {
    result = await call();
    await settle();
  } catch (e) {
    const caused = held;
    held = undefined;
    print('  ', `${typeof line === 'function' ? 'this step' : [line].flat()[0]}: failed`);
    for (const l of caused) console.log(l);
    throw e;
  }
  const caused = held;
  held = undefined;
  const [first, ...more] = [typeof line === 'function' ? line(result) : line].flat();
  print('  ', first ?? '');
  for (const l of more) print('    ', l);
  for (const l of caused) console.log(l);
  return result;
}

/** Shows the socket's state now, and each change of its machine's state under the step causing it. */
export function watch<T extends Socket>(label: string, socket: T): T {
  let last: unknown = socket.getSnapshot().value;
  detail(`[${label}] ${stateName(last)}`);
  socket.actor.subscribe((snap) => {
    const change = stateChange(last, snap.value);
    if (change !== undefined) detail(`[${label}] ${change}`);
    last = snap.value;
  });
  return socket;
}

export const text = (frames: Uint8Array[]) => frames.map((f) => Buffer.from(f).toString()).join(' | ');
