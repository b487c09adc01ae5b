// The fuzzer's ledger of what a fuzzed socket may deliver: each case registers the messages its
// stream permits (from the oracle), each round trip a predicate for its own messages, and every
// message the application receives must be one of them, consumed once, in order per case.

import { createHash } from 'node:crypto';
import { FUZZ_PREFIX } from './generators.js';
import type { Entry, Expectation, RoutingIdRule } from './oracle.js';

/** A key for a list of frames: their lengths and a digest. */
export function framesKey(frames: readonly Uint8Array[]): string {
  const h = createHash('sha1');
  let lengths = '';
  for (const f of frames) {
    lengths += `${f.length},`;
    h.update(f);
  }
  return `${lengths}${h.digest('base64')}`;
}

function sameFrames(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  }
  return true;
}

function ridAccepted(rule: RoutingIdRule | undefined, rid: Uint8Array): boolean {
  if (rule === undefined || rule.any) return rid.length >= 1 && rid.length <= 255;
  if (rule.generated && rid.length === 5 && rid[0] === 0) return true;
  return rule.ids.some((id) => sameFrames([id], [rid]));
}

/** Whether one of `frames` carries `marker` near its start (where the generator puts it). */
function carries(frames: readonly Uint8Array[], marker: Uint8Array): boolean {
  for (const f of frames) {
    const end = Math.min(f.length - marker.length, 40);
    next: for (let at = 0; at <= end; at++) {
      for (let k = 0; k < marker.length; k++) if (f[at + k] !== marker[k]) continue next;
      return true;
    }
  }
  return false;
}

/**
 * One case's permitted deliveries. Entries that carry the case's marker are its own: they arrive in
 * order, and a strict case requires them all. Entries without it (frames that mutations made out of
 * other bytes) may equal another case's, so they are taken in any order and never required.
 */
export class Permit {
  readonly #used: Uint8Array;
  readonly #marked: boolean[];
  readonly #required: number;
  #cursor = 0;
  #consumed = 0;
  #waiters: (() => void)[] = [];

  constructor(
    readonly caseIndex: number,
    readonly expectation: Expectation,
  ) {
    this.#used = new Uint8Array(expectation.entries.length);
    const marker = new TextEncoder().encode(`${FUZZ_PREFIX}${caseIndex.toString(36)}.`);
    this.#marked = expectation.entries.map((e) => carries(e.frames, marker));
    this.#required = this.#marked.filter(Boolean).length;
  }

  get entries(): readonly Entry[] {
    return this.expectation.entries;
  }

  /** Whether entry `i` may be consumed now, and how far it is from the next one expected (ordered cases). */
  distance(i: number): number {
    if (this.#used[i] !== 0) return -1;
    if (!this.expectation.ordered || !this.#marked[i]) return 0;
    return i >= this.#cursor ? i - this.#cursor : -1;
  }

  /** Whether entry `i` is the case's own (it carries the case's marker). */
  owns(i: number): boolean {
    return this.#marked[i] === true;
  }

  consume(i: number): void {
    this.#used[i] = 1;
    if (!this.#marked[i]) return;
    this.#consumed++;
    if (this.expectation.ordered) this.#cursor = i + 1;
    if (this.complete) for (const w of this.#waiters.splice(0)) w();
  }

  /** Every entry of the case's own was delivered. */
  get complete(): boolean {
    return this.#consumed === this.#required;
  }

  /** How many of the case's own entries were delivered, of how many. */
  get delivered(): number {
    return this.#consumed;
  }

  get required(): number {
    return this.#required;
  }

  /** Resolves once every entry of the case's own was delivered. */
  whenComplete(): Promise<void> {
    if (this.complete) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

export type Verdict =
  | { ok: true; caseIndex: number | undefined }
  | { ok: false; reason: 'not permitted' | 'duplicate or out of order'; caseIndex: number | undefined };

/** The ledger of one fuzzed socket. `router`: the socket prepends a routing id frame to each message. */
export class DeliveryBook {
  readonly #byKey = new Map<string, { permit: Permit; index: number }[]>();
  readonly #predicates: ((msg: readonly Uint8Array[]) => boolean)[] = [];

  constructor(readonly router: boolean) {}

  add(permit: Permit): void {
    permit.entries.forEach((entry, index) => {
      const key = framesKey(entry.frames);
      let list = this.#byKey.get(key);
      if (list === undefined) this.#byKey.set(key, (list = []));
      list.push({ permit, index });
    });
  }

  /** Messages for which `pred` holds are always accepted (a round trip's own). */
  allow(pred: (msg: readonly Uint8Array[]) => boolean): void {
    this.#predicates.push(pred);
  }

  check(msg: readonly Uint8Array[]): Verdict {
    for (const p of this.#predicates) if (p(msg)) return { ok: true, caseIndex: undefined };
    const rid = this.router ? msg[0] : undefined;
    const frames = this.router ? msg.slice(1) : msg;
    if (frames.length === 0) return { ok: false, reason: 'not permitted', caseIndex: undefined };
    const candidates = (this.#byKey.get(framesKey(frames)) ?? []).filter(
      (c) => sameFrames(c.permit.entries[c.index].frames, frames) && (rid === undefined || ridAccepted(c.permit.entries[c.index].rid, rid)),
    );
    if (candidates.length === 0) return { ok: false, reason: 'not permitted', caseIndex: undefined };
    // The entry next in line of some case first; then the nearest one a case could still take. At
    // the same distance, the case whose own entry it is (it carries that case's marker) before a
    // case that merely permits the same bytes (its stream carried a copy, e.g. spliced): credited
    // to the other case, a strict case would wait for a message already delivered.
    let best: { permit: Permit; index: number } | undefined;
    let bestDistance = Infinity;
    let bestOwned = false;
    for (const c of candidates) {
      const d = c.permit.distance(c.index);
      if (d < 0) continue;
      const owned = c.permit.owns(c.index);
      if (d < bestDistance || (d === bestDistance && owned && !bestOwned)) {
        best = c;
        bestDistance = d;
        bestOwned = owned;
      }
    }
    if (best === undefined) return { ok: false, reason: 'duplicate or out of order', caseIndex: candidates[0].permit.caseIndex };
    best.permit.consume(best.index);
    return { ok: true, caseIndex: best.permit.caseIndex };
  }
}
