// Which arrow the playground lights (playground/src/taken.ts): the transitions an event took, told
// from xstate's inspection events and public API, on a machine with two transitions on one event,
// both going where the event went. With the fast-edge shortcut (machines/fast-edges.ts) xstate
// reports no microstep, and the guard that chose between them reads a counter the transition
// itself changes in place: asked afterwards, the guard gives the other answer. The tracker asks
// before, while the event waits its turn, so it names the one taken; where it cannot know, it names
// every candidate and says so.
//
//   idle ── go [isFirst] / count ──▶ busy        (guarded alternatives, same target)
//   idle ── go / count ────────────▶ busy
//   idle ── ping [isFirst] / count ─▶ idle        (a self-loop ...)
//   idle ── ping / count                          (... and an internal transition)
//   busy ── back ──▶ idle

import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import { fastEdgesOf, inPlaceActions, withFastEdges } from '../../machines/fast-edges.js';
import { TakenTracker } from '../../playground/src/taken.js';
import type { Taken } from '../../playground/src/taken.js';

interface Ctx { count: number }
type Ev = { type: 'go' } | { type: 'ping' } | { type: 'back' } | { type: 'poke' };

const updates = { count: (context: Ctx) => void context.count++ };

function twoWays() {
  return setup({
    types: { context: {} as Ctx, events: {} as Ev },
    guards: { isFirst: ({ context }) => context.count === 0 },
    actions: { ...inPlaceActions<Ctx, Ev, typeof updates>(updates), echo: () => {} },
  }).createMachine({
    id: 'twoWays',
    context: () => ({ count: 0 }), // a fresh counter per actor: the updates change it in place
    initial: 'idle',
    states: {
      idle: {
        on: {
          go: [{ guard: 'isFirst', target: 'busy', actions: 'count' }, { target: 'busy', actions: 'count' }],
          ping: [{ guard: 'isFirst', target: 'idle', actions: 'count' }, { actions: 'count' }],
        },
      },
      busy: { on: { back: 'idle', poke: { actions: 'echo' } } },
    },
  });
}

/** The machine's own transition objects, by where they are declared: `idle go 0` is the first `go` of idle. */
function transitionsOf(machine: AnyStateMachine): (state: string, event: string, i: number) => unknown {
  const root = machine.root as unknown as { states: Record<string, { on: Record<string, unknown[]> }> };
  return (state, event, i) => root.states[state]?.on[event]?.[i];
}

/** Runs `machine` with a tracker attached; returns what the tracker reported and what xstate reported. */
function run(machine: AnyStateMachine, events: Ev[], options: { trackFrom?: number } = {}) {
  const reports: Taken[] = [];
  const microsteps: { event: string; transitions: unknown[] }[] = [];
  let tracker: TakenTracker | undefined;
  const actor: AnyActorRef = createActor(machine, {
    inspect: (e: InspectionEvent) => {
      // xstate's own record of a microstep, as the oracle for the slow path (a test may read it;
      // the playground does not).
      if (e.type === '@xstate.microstep' && e.actorRef === actor) microsteps.push({ event: e.event.type, transitions: e._transitions });
      tracker?.inspect(e);
    },
  });
  actor.start();
  events.forEach((event, i) => {
    if (i === (options.trackFrom ?? 0)) tracker = new TakenTracker(machine, actor, (t) => reports.push(t));
    actor.send(event);
  });
  return { reports, microsteps, actor };
}

describe('which transition an event took (playground/src/taken.ts)', () => {
  const fast = withFastEdges(twoWays(), { guards: ['isFirst'], updates: updates as never });
  const t = transitionsOf(fast);

  it('the shortcut takes these edges: xstate reports no microstep for them', () => {
    const table = fastEdgesOf(fast).get('idle');
    expect(table?.get('go')?.map((c) => c.fast)).toEqual([true, true]);
    expect(table?.get('ping')?.map((c) => c.fast)).toEqual([true, true]);
    const { microsteps } = run(fast, [{ type: 'go' }, { type: 'back' }, { type: 'ping' }]);
    expect(microsteps.map((m) => m.event)).not.toContain('go');
    expect(microsteps.map((m) => m.event)).not.toContain('ping');
  });

  it('guarded alternatives with the same target: the first go takes the guarded one, the next the other', () => {
    const { reports } = run(fast, [{ type: 'go' }, { type: 'back' }, { type: 'go' }]);
    expect(reports.map((r) => [r.event.type, r.before, r.after, r.ambiguous])).toEqual([
      ['go', 'idle', 'busy', false],
      ['back', 'busy', 'idle', false],
      ['go', 'idle', 'busy', false],
    ]);
    expect(reports[0]?.transitions).toEqual([t('idle', 'go', 0)]);
    expect(reports[2]?.transitions).toEqual([t('idle', 'go', 1)]);
  });

  it('a self-loop and an internal transition on one event: each ping names the one it took', () => {
    const { reports } = run(fast, [{ type: 'ping' }, { type: 'ping' }]);
    expect(reports.map((r) => [r.before, r.after, r.ambiguous])).toEqual([['idle', 'idle', false], ['idle', 'idle', false]]);
    expect(reports[0]?.transitions).toEqual([t('idle', 'ping', 0)]);
    expect(reports[1]?.transitions).toEqual([t('idle', 'ping', 1)]);
  });

  it('asked after the event, the guard would name the other one: the counter it reads has moved on', () => {
    const { actor } = run(fast, [{ type: 'go' }]);
    const isFirst = fast.implementations.guards.isFirst as (args: unknown, params: unknown) => boolean;
    expect(isFirst({ context: actor.getSnapshot().context, event: { type: 'go' } }, undefined)).toBe(false);
  });

  it('without the shortcut, the tracker names what xstate\'s own microsteps report', () => {
    const slow = twoWays();
    const { reports, microsteps } = run(slow, [{ type: 'go' }, { type: 'back' }, { type: 'go' }, { type: 'back' }, { type: 'ping' }, { type: 'ping' }, { type: 'poke' }]);
    // `poke` in idle: xstate reports a microstep that took nothing.
    expect(microsteps.map((m) => [m.event, m.transitions.length])).toEqual([['go', 1], ['back', 1], ['go', 1], ['back', 1], ['ping', 1], ['ping', 1], ['poke', 0]]);
    expect(reports.map((r) => r.transitions)).toEqual(microsteps.map((m) => m.transitions));
    expect(reports.every((r) => !r.ambiguous)).toBe(true);
  });

  it('an event sent while the actor handles another is judged in the state it finds', () => {
    // `poke` in busy runs `echo`, which sends `back` and then `go`: both wait until poke is done.
    const machine = withFastEdges(twoWays().provide({ actions: { echo: () => { actor.send({ type: 'back' }); actor.send({ type: 'go' }); } } }), { guards: ['isFirst'], updates: updates as never });
    const tt = transitionsOf(machine);
    const reports: Taken[] = [];
    let tracker: TakenTracker | undefined;
    const actor: AnyActorRef = createActor(machine, { inspect: (e: InspectionEvent) => tracker?.inspect(e) });
    actor.start();
    tracker = new TakenTracker(machine, actor, (r) => reports.push(r));
    actor.send({ type: 'go' }); // the first go: guarded
    actor.send({ type: 'poke' });
    expect(reports.map((r) => [r.event.type, r.before, r.after])).toEqual([['go', 'idle', 'busy'], ['poke', 'busy', 'busy'], ['back', 'busy', 'idle'], ['go', 'idle', 'busy']]);
    expect(reports[3]?.transitions).toEqual([tt('idle', 'go', 1)]);
  });

  it('an event whose turn it did not see: every transition that fits, marked ambiguous', () => {
    // The tracker starts while `go` is on its way (attached between the event and its snapshot).
    const reports: Taken[] = [];
    let tracker: TakenTracker | undefined;
    const actor: AnyActorRef = createActor(fast, {
      inspect: (e: InspectionEvent) => {
        if (e.type === '@xstate.event' && e.event.type === 'go') tracker = new TakenTracker(fast, actor, (r) => reports.push(r));
        else tracker?.inspect(e);
      },
    });
    actor.start();
    actor.send({ type: 'go' });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.ambiguous).toBe(true);
    expect(reports[0]?.transitions).toEqual([t('idle', 'go', 0), t('idle', 'go', 1)]);
  });
});
