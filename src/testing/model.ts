// Model-based testing for machines that embed sockets: paths from xstate/graph over the user's
// machine, each replayed on a real system (real sockets, a fresh Context), checking after every step
// that the running actor went where the model says. Test-only helpers: no socket logic lives here.

import type { Actor, AnyStateMachine, EventFromLogic, InputFrom, SnapshotFrom, StateValue } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { StatePath, TraversalOptions } from 'xstate/graph';

type Ev<TMachine extends AnyStateMachine> = EventFromLogic<TMachine>;
type Snap<TMachine extends AnyStateMachine> = SnapshotFrom<TMachine>;

/** One walk through the model: `steps[0]` is the initial state (event `xstate.init`). */
export interface ModelPath<TMachine extends AnyStateMachine> extends StatePath<Snap<TMachine>, Ev<TMachine>> {
  /** `idle -dispatch-> dispatching -zmq.sent-> awaitingResult`: a test name. */
  description: string;
}

export interface ModelPathOptions<TMachine extends AnyStateMachine> extends TraversalOptions<Snap<TMachine>, Ev<TMachine>, InputFrom<TMachine>> {
  /**
   * `shortest` (default): one shortest path to each state. `simple`: every path that visits no
   * state twice (more paths, the same states reached by different routes).
   */
  traversal?: 'shortest' | 'simple';
}

/**
 * The paths of a machine, for replaying. Unlike xstate's `createTestModel`, machines that `invoke`
 * or spawn (sockets, for instance) are accepted: the walk never starts their actors.
 *
 * `events` lists the events to try, with their payloads; an event type the machine accepts that is
 * not listed is tried as a bare `{ type }`. Keep the context finite (or pass `serializeState`), or
 * the walk never ends.
 */
export function modelPaths<TMachine extends AnyStateMachine>(machine: TMachine, options: ModelPathOptions<TMachine> = {}): ModelPath<TMachine>[] {
  const { traversal = 'shortest', ...walk } = options;
  const paths = (traversal === 'simple' ? getSimplePaths(machine, walk as never) : getShortestPaths(machine, walk as never)) as StatePath<Snap<TMachine>, Ev<TMachine>>[];
  for (const p of paths) {
    // A model that throws (a context factory reading a missing input, a failing action) reaches an
    // error snapshot; no replay could agree with it.
    const s = p.state as { status?: string; error?: unknown };
    if (s.status === 'error') throw new Error(`the model itself fails on ${describePath(p)}: ${String(s.error)} (is \`input\` given?)`, { cause: s.error });
  }
  return paths.map((p) => ({ ...p, description: describePath(p) }));
}

/** What each executor and check is given. */
export interface ReplayArgs<TMachine extends AnyStateMachine, TWorld> {
  /** What `setup` built: the peer sockets, the Context, … */
  world: TWorld;
  /** The user's actor, running on real sockets. */
  actor: Actor<TMachine>;
}

export interface ReplayPlan<TMachine extends AnyStateMachine, TWorld> {
  /**
   * Builds a fresh system for one path (a new Context, the sockets around the machine) and the
   * user's actor, started.
   */
  setup: () => { world: TWorld; actor: Actor<TMachine> } | Promise<{ world: TWorld; actor: Actor<TMachine> }>;
  /**
   * How each event of the model happens for real. An event the user sends is sent to the actor; an
   * event a socket actor delivers (`zmq.message`, `zmq.sent`) is caused by acting on the world (a
   * peer sends), never sent to the actor by hand. Every event type on a path needs one.
   */
  events: { [K in Ev<TMachine>['type']]?: (args: ReplayArgs<TMachine, TWorld> & { event: Extract<Ev<TMachine>, { type: K }> }) => unknown };
  /**
   * What must hold in the world once the actor is in a state: keys as `snapshot.matches()` takes
   * them (`'awaitingResult'`, `'open.ready'`); `'*'` runs where no other key matches. A check runs
   * once the actor has reached the state; for a state the system leaves on its own (a send
   * completing), check only what stays true after it.
   */
  states?: Record<string, (args: ReplayArgs<TMachine, TWorld> & { snapshot: Snap<TMachine> }) => unknown>;
  /** Runs after each path, pass or fail (the actor is stopped first). */
  teardown?: (args: ReplayArgs<TMachine, TWorld>) => unknown;
  /** What must match between model and actor (default: the state value). */
  key?: (snapshot: Snap<TMachine>) => string;
  /**
   * ms to wait for the actor to reach a predicted state before failing with the path so far.
   * Default: no limit (the test runner's timeout ends a hung path).
   */
  stepTimeout?: number;
}

/**
 * Replays one path on a real system. After each step's event is made to happen, the actor must
 * reach the state the model predicts, and through no other state: the states it goes through are
 * recorded as they happen, so a state it leaves at once (a send that completes) still counts, and a
 * wrong turn fails with the path so far. Then the state's checks run.
 */
export async function replayPath<TMachine extends AnyStateMachine, TWorld>(path: ModelPath<TMachine>, plan: ReplayPlan<TMachine, TWorld>): Promise<void> {
  const key = plan.key ?? ((s: Snap<TMachine>) => JSON.stringify((s as { value: StateValue }).value));
  const { world, actor } = await plan.setup();
  const args: ReplayArgs<TMachine, TWorld> = { world, actor };
  const observed: string[] = [key(actor.getSnapshot() as Snap<TMachine>)];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const sub = actor.subscribe({
    next: (s) => {
      const k = key(s as Snap<TMachine>);
      if (observed[observed.length - 1] !== k) observed.push(k);
      notify();
    },
    error: (e) => {
      failure = e;
      notify();
    },
    complete: () => {
      ended = true;
      notify();
    },
  });
  let cursor = 0;
  let done = 'start';
  const fail = (what: string): never => {
    throw new Error(`${path.description}\n  after ${done}: ${what}\n  the actor went through: ${observed.join(' -> ')}`);
  };
  const nextObserved = async (): Promise<string> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (observed.length <= cursor) {
        if (failure !== undefined) fail(`the actor failed: ${String(failure)}`);
        if (ended) fail('the actor stopped');
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (plan.stepTimeout !== undefined && timer === undefined) {
            timer = setTimeout(() => {
              timer = undefined;
              failure ??= new Error(`no new state within ${plan.stepTimeout} ms`);
              notify();
            }, plan.stepTimeout);
          }
        });
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return observed[cursor++] as string;
  };

  try {
    let previous: string | undefined;
    for (const [i, step] of path.steps.entries()) {
      const predicted = key(step.state);
      if (i > 0) {
        const run = plan.events[step.event.type as Ev<TMachine>['type']];
        if (run === undefined) fail(`no executor for event "${step.event.type}" in the plan's events`);
        await (run as (a: unknown) => unknown)({ ...args, event: step.event });
        done = `step ${i} (${step.event.type})`;
      }
      if (predicted !== previous) {
        const got = await nextObserved();
        if (got !== predicted) fail(`the model predicts ${predicted}; the actor went to ${got}`);
      }
      previous = predicted;
      await checkState(plan, args, step.state);
    }
  } finally {
    sub.unsubscribe();
    actor.stop();
    await plan.teardown?.(args);
  }
}

async function checkState<TMachine extends AnyStateMachine, TWorld>(plan: ReplayPlan<TMachine, TWorld>, args: ReplayArgs<TMachine, TWorld>, snapshot: Snap<TMachine>): Promise<void> {
  const checks = plan.states ?? {};
  const keys = Object.keys(checks).filter((k) => k !== '*' && (snapshot as { matches(v: string): boolean }).matches(k));
  if (keys.length === 0 && '*' in checks) keys.push('*');
  for (const k of keys) await checks[k]?.({ ...args, snapshot });
}

/** `idle -dispatch-> dispatching -zmq.sent-> awaitingResult` */
export function describePath(path: { steps: readonly { state: unknown; event: { type: string } }[] }): string {
  const parts: string[] = [];
  for (const [i, step] of path.steps.entries()) {
    const value = valueText((step.state as { value?: StateValue }).value);
    parts.push(i === 0 ? value : `-${step.event.type}-> ${value}`);
  }
  return parts.join(' ');
}

function valueText(value: StateValue | undefined): string {
  if (value === undefined) return '?';
  if (typeof value === 'string') return value;
  const entries = Object.entries(value).map(([k, v]) => (v === undefined ? k : `${k}.${valueText(v as StateValue)}`));
  return entries.length === 1 ? (entries[0] as string) : `{${entries.join(', ')}}`;
}
