// Which transitions an actor took on each event, from xstate's inspection events and its public
// API only (no `_`-prefixed member: the microstep's `_transitions` is not used). No DOM.
//
// Exact where xstate can say: the transitions an event takes are the ones the machine selects for
// it from the snapshot it is processed in, `machine.getTransitionData(snapshot, event)`, which is
// what xstate's macrostep asks (`selectTransitions`) and what the fast-edge shortcut reproduces
// (machines/fast-edges.ts takes the first candidate whose guard holds, as xstate does). So the
// question is put while the event waits its turn, before anything changes the context:
//
//   @xstate.event E ──▶ actor idle?  yes: ask now, on actor.getSnapshot()
//                                    no (E was sent while the actor handled D): queue E
//   @xstate.snapshot D ──▶ D done; the snapshot is the one E will be processed in: ask for E now
//   @xstate.snapshot E ──▶ report E: the transitions asked for, exact
//
// Where it cannot (an eventless or raised step after the first, or an event whose turn it did not
// see), it reports every declared transition that fits the event and the states before and after,
// marked ambiguous: a chart then lights them all rather than guess one.

import type { AnyActorRef, AnyEventObject, AnyStateMachine, InspectionEvent, StateValue } from 'xstate';

/** What an actor did with one event. */
export interface Taken {
  event: AnyEventObject;
  before: StateValue;
  after: StateValue;
  /** The transition objects of the machine definition (state nodes' `on` and `always` entries). */
  transitions: unknown[];
  /** The transitions are the candidates that fit, not the ones known to be taken (one or more of them were). */
  ambiguous: boolean;
}

/** The parts of an xstate state node read here. */
interface Node {
  path: string[];
  states: Record<string, Node>;
  on: Record<string, Transition[]>;
  always?: Transition[];
}

interface Transition {
  target?: Node[];
}

interface Turn {
  event: AnyEventObject;
  /** The snapshot it is processed in, and what the machine selects there; set once its turn comes. */
  before?: StateValue;
  selected?: unknown[];
  /** The microsteps xstate reported for it (none on the fast path): the event of each, the value after. */
  steps: { event: AnyEventObject; value: StateValue }[];
}

type Snapshot = { status?: string; value?: StateValue };

export class TakenTracker {
  readonly #machine: AnyStateMachine;
  readonly #actor: AnyActorRef;
  readonly #report: (taken: Taken) => void;
  /** Events relayed to the actor and not yet processed, oldest first. */
  readonly #queue: Turn[] = [];
  #value: StateValue;

  constructor(machine: AnyStateMachine, actor: AnyActorRef, report: (taken: Taken) => void) {
    this.#machine = machine;
    this.#actor = actor;
    this.#report = report;
    this.#value = (actor.getSnapshot() as Snapshot).value ?? {};
  }

  /** Feed it every inspection event of the actor's system (others are ignored). */
  inspect(event: InspectionEvent): void {
    if (event.actorRef !== this.#actor) return;
    switch (event.type) {
      case '@xstate.event': {
        const turn: Turn = { event: event.event, steps: [] };
        this.#queue.push(turn);
        if (this.#queue.length === 1) this.#select(turn);
        return;
      }
      case '@xstate.microstep': {
        const turn = this.#queue.find((t) => t.event === event.event) ?? this.#queue[0];
        turn?.steps.push({ event: event.event, value: (event.snapshot as Snapshot).value ?? {} });
        return;
      }
      case '@xstate.snapshot':
        this.#processed(event.event, (event.snapshot as Snapshot).value ?? {});
        return;
      default:
    }
  }

  /** The event's turn has come: what the machine selects for it in the snapshot it is about to be processed in. */
  #select(turn: Turn): void {
    const snapshot = this.#actor.getSnapshot() as Snapshot;
    turn.before = snapshot.value;
    if (snapshot.status !== 'active') return;
    try {
      turn.selected = this.#machine.getTransitionData(snapshot as never, turn.event as never);
    } catch {
      turn.selected = undefined; // a guard that throws fails the event in xstate too: infer instead
    }
  }

  #processed(event: AnyEventObject, after: StateValue): void {
    const at = this.#queue.findIndex((t) => t.event === event);
    const before = this.#value;
    this.#value = after;
    if (at < 0) {
      // Not relayed to the actor while this tracker watched: its start and stop (nothing to draw),
      // or an event on its way when the tracker began (then: what fits).
      if (event.type !== 'xstate.init' && event.type !== 'xstate.stop') this.#report(this.#taken({ event, steps: [] }, before, after));
      return;
    }
    // Turns before it were dropped unprocessed (the actor stopped or failed meanwhile).
    const turn = this.#queue.splice(0, at + 1)[at] as Turn;
    const next = this.#queue[0];
    if (next !== undefined) this.#select(next);
    this.#report(this.#taken(turn, turn.before ?? before, after));
  }

  #taken(turn: Turn, before: StateValue, after: StateValue): Taken {
    // The event's own step: exact when its turn was seen, else what fits.
    const first = turn.selected ?? this.#fitting(turn.event.type, before, turn.steps[0]?.value ?? after);
    const transitions = [...first];
    let ambiguous = turn.selected === undefined && first.length > 1;
    // Later steps of the same macrostep (eventless transitions, raised events): what fits each.
    turn.steps.forEach((step, i) => {
      const prev = turn.steps[i - 1];
      if (prev === undefined) return;
      const fits = this.#fitting(step.event === prev.event ? '' : step.event.type, prev.value, step.value);
      if (fits.length > 1) ambiguous = true;
      transitions.push(...fits);
    });
    return { event: turn.event, before, after, transitions, ambiguous };
  }

  /**
   * The declared transitions on `eventType` ('' for eventless ones) of the states `before` is in,
   * innermost first, whose targets agree with `after`: all states they name are active after, and
   * if none changed, they name none or only states active throughout.
   */
  #fitting(eventType: string, before: StateValue, after: StateValue): unknown[] {
    const was = activePaths(before);
    const now = activePaths(after);
    const moved = JSON.stringify(before) !== JSON.stringify(after);
    const root = this.#machine.root as unknown as Node;
    const out: unknown[] = [];
    for (const path of ['', ...was].reverse()) {
      let node: Node | undefined = root;
      if (path !== '') for (const key of path.split('.')) node = node?.states[key];
      const declared = eventType === '' ? (node?.always ?? []) : (node?.on[eventType] ?? []);
      for (const t of declared) {
        const targets = (t.target ?? []).map((x) => x.path.join('.'));
        const fits = moved
          ? targets.length > 0 && targets.every((p) => now.includes(p))
          : targets.every((p) => now.includes(p) && was.includes(p));
        if (fits) out.push(t);
      }
    }
    return out;
  }
}

/** Every state path a value is in: `{ open: { paired: 'ready' } }` → open, open.paired, open.paired.ready. */
export function activePaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  const out: string[] = [];
  for (const [key, sub] of Object.entries(value)) {
    out.push(prefix + key);
    if (sub !== undefined) out.push(...activePaths(sub, `${prefix}${key}.`));
  }
  return out;
}
