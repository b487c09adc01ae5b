// The fast start (machines/fast-edges.ts): a machine whose start only enters states and runs named
// actions gets its initial snapshot without xstate's initial macrostep. Against xstate's own start,
// for every socket machine, the supervisor and the inproc connection with each kind of input: the
// same snapshot, the same actions in the same order; and what needs more is left to xstate. Also the
// edges into a top-level final state (a socket's close, a connection's end), with the machine's output.

import { describe, expect, it } from 'vitest';
import { assign, createActor, initialTransition, setup, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { dealerMachine } from '../../machines/dealer.js';
import { startsFast, withFastEdges } from '../../machines/fast-edges.js';
import { inprocConnectionMachine } from '../../machines/inproc-connection.js';
import type { InprocConnectionInput } from '../../machines/inproc-connection.js';
import { pairMachine } from '../../machines/pair.js';
import { publisherMachine } from '../../machines/publisher.js';
import { pullMachine } from '../../machines/pull.js';
import { pushMachine } from '../../machines/push.js';
import { replyMachine } from '../../machines/reply.js';
import { requestMachine } from '../../machines/request.js';
import { subscriberMachine } from '../../machines/subscriber.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import { xpublisherMachine } from '../../machines/xpublisher.js';
import { xsubscriberMachine } from '../../machines/xsubscriber.js';

/** The same machine with xstate's algorithm for everything: the machine the shortcut wraps. */
const slowTwin = <M extends AnyStateMachine>(machine: M): M => Object.getPrototypeOf(machine) as M;

function describeSnapshot(s: AnyMachineSnapshot) {
  return JSON.parse(JSON.stringify({
    status: s.status, value: s.value, tags: [...s.tags].sort(), context: s.context, children: s.children,
    historyValue: s.historyValue, output: s.output ?? null, error: s.error ?? null,
  })) as unknown;
}

const named = (actions: { type: string; params: unknown }[]) => actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => [a.type, a.params]);

/** Asserts the machine's start and xstate's give the same snapshot and ask for the same actions. */
function expectSameStart(machine: AnyStateMachine, input?: unknown): AnyMachineSnapshot {
  const [mine, mineActions] = initialTransition(machine, input as never);
  const [theirs, theirActions] = initialTransition(slowTwin(machine), input as never);
  expect(describeSnapshot(mine as AnyMachineSnapshot)).toEqual(describeSnapshot(theirs as AnyMachineSnapshot));
  expect(named(mineActions)).toEqual(named(theirActions));
  return mine as AnyMachineSnapshot;
}

const connection = (over: Partial<InprocConnectionInput>): InprocConnectionInput => ({
  connectionId: 'c1', name: 'x', connectorId: 1, connectorType: 'PUSH', immediate: false, ...over,
});

describe('fast start', () => {
  it.each([
    ['PAIR', pairMachine], ['PUSH', pushMachine], ['PULL', pullMachine], ['DEALER', dealerMachine],
    ['REQ', requestMachine, { requestId: 5 }], ['REP', replyMachine], ['PUB', publisherMachine], ['XPUB', xpublisherMachine],
    ['SUB', subscriberMachine], ['XSUB', xsubscriberMachine], ['supervisor', supervisorMachine],
  ] as const)('%s starts by the shortcut, with the snapshot xstate gives', (_name, machine, input?: unknown) => {
    expect(startsFast(machine as AnyStateMachine)).toBe(true);
    expectSameStart(machine as AnyStateMachine, input);
  });

  it('an inproc connection starts by the shortcut through its eventless steps, for each input', () => {
    expect(startsFast(inprocConnectionMachine)).toBe(true);
    // Bound already and the types pair: attached, with its entry effect.
    const attached = expectSameStart(inprocConnectionMachine, connection({ binderId: 2, binderType: 'PULL' }));
    expect(attached.value).toBe('attached');
    expect(named(initialTransition(inprocConnectionMachine, connection({ binderId: 2, binderType: 'PULL' }))[1])).toEqual([['attachBoth', undefined]]);
    // Not bound yet: pending, giving the connector its pipes.
    expect(expectSameStart(inprocConnectionMachine, connection({})).value).toBe('pending');
    // Bound, but the types do not pair: a final state, done with the machine's output.
    const refused = expectSameStart(inprocConnectionMachine, connection({ binderId: 2, binderType: 'PUB' }));
    expect(refused.status).toBe('done');
    expect(refused.output).toEqual({ connectionId: 'c1' });
  });

  it('a connection\'s end and a socket\'s close are edges into a final state: done, with the output xstate gives', () => {
    const [attached] = initialTransition(inprocConnectionMachine, connection({ binderId: 2, binderType: 'PULL' }));
    const [mine, mineActions] = transition(inprocConnectionMachine, attached, { type: 'connection.close' });
    const [theirAttached] = initialTransition(slowTwin(inprocConnectionMachine), connection({ binderId: 2, binderType: 'PULL' }));
    const [theirs, theirActions] = transition(slowTwin(inprocConnectionMachine), theirAttached, { type: 'connection.close' });
    expect(describeSnapshot(mine)).toEqual(describeSnapshot(theirs));
    expect(mine.status).toBe('done');
    expect(mine.output).toEqual({ connectionId: 'c1' });
    expect(named(mineActions)).toEqual(named(theirActions));
    expect(named(mineActions)).toEqual([['detach', undefined]]);

    // A running actor ends as xstate would end it: its done event reaches observers with the output.
    const actor = createActor(inprocConnectionMachine, { input: connection({ binderId: 2, binderType: 'PULL' }) });
    let completed = false;
    actor.subscribe({ complete: () => (completed = true) });
    actor.start();
    actor.send({ type: 'connection.close' });
    expect(completed).toBe(true);
    expect(actor.getSnapshot().output).toEqual({ connectionId: 'c1' });

    const [open] = initialTransition(pairMachine);
    const [closed, closeActions] = transition(pairMachine, open, { type: 'close', linger: 0, queued: 0 });
    expect(closed.status).toBe('done');
    expect(named(closeActions)).toEqual([['release', undefined]]);
  });

  it('an edge into a final state whose exit, or the root\'s, runs something is left to xstate (it runs them as the machine ends)', () => {
    const machine = withFastEdges(setup({
      actions: { release: () => {}, bye: () => {}, leave: () => {} },
    }).createMachine({
      exit: 'bye',
      initial: 'open',
      states: { open: { on: { close: 'closed' } }, closed: { type: 'final', entry: 'release', exit: 'leave' } },
    }), { effects: ['release', 'bye', 'leave'] });
    const [open] = initialTransition(machine);
    const [mine, mineActions] = transition(machine, open, { type: 'close' });
    const [theirOpen] = initialTransition(slowTwin(machine));
    const [theirs, theirActions] = transition(slowTwin(machine), theirOpen, { type: 'close' });
    expect(describeSnapshot(mine)).toEqual(describeSnapshot(theirs));
    expect(named(mineActions)).toEqual(named(theirActions));
    expect(named(mineActions).map(([type]) => type)).toEqual(['release', 'leave', 'bye']);
  });

  it('a start that needs more is left to xstate: spawning, throwing, an unnamed entry, a guard not named as pure', () => {
    const child = setup({}).createMachine({});
    // A context that spawns: xstate makes it (the child is there).
    const spawning = withFastEdges(setup({ actors: { child } }).createMachine({
      context: ({ spawn }) => ({ ref: spawn('child', { id: 'kid' }) }), initial: 'a', states: { a: {} },
    }), {});
    expect(startsFast(spawning)).toBe(true);
    const spawned = createActor(spawning).getSnapshot();
    expect(spawned.status).toBe('active');
    expect(Object.keys(spawned.children)).toEqual(['kid']);

    // A context that throws: xstate's error snapshot.
    const throwing = withFastEdges(setup({}).createMachine({
      context: () => { throw new Error('no context'); }, initial: 'a', states: { a: {} },
    }), {});
    const failed = initialTransition(throwing)[0];
    expect(failed.status).toBe('error');
    expect((failed.error as Error).message).toBe('no context');

    const unnamedEntry = withFastEdges(setup({}).createMachine({ initial: 'a', states: { a: { entry: () => {} } } }), {});
    expect(startsFast(unnamedEntry)).toBe(false);
    const rootEntry = withFastEdges(setup({ actions: { fx: () => {} } }).createMachine({ entry: 'fx', initial: 'a', states: { a: {} } }), { effects: ['fx'] });
    expect(startsFast(rootEntry)).toBe(false);
    const impureGuard = withFastEdges(setup({ guards: { g: () => true } }).createMachine({
      initial: 'a', states: { a: { always: { guard: 'g', target: 'b' } }, b: {} },
    }), {});
    expect(startsFast(impureGuard)).toBe(false);
    expect(initialTransition(impureGuard)[0].value).toBe('b'); // xstate's start, same outcome

    // Updates in place on the way: the guards after them see them, as xstate's start does.
    const counting = withFastEdges(setup({
      guards: { big: ({ context }) => (context as { n: number }).n > 1 },
      actions: { bump: assign(({ context }) => { (context as { n: number }).n++; return {}; }) },
    }).createMachine({
      context: () => ({ n: 1 }),
      initial: 'a',
      states: { a: { always: { target: 'b', actions: 'bump' } }, b: { always: [{ guard: 'big', target: 'c' }] }, c: {} },
    }), { guards: ['big'], updates: { bump: (c: { n: number }) => { c.n++; } } as never });
    expect(startsFast(counting)).toBe(true);
    expect(expectSameStart(counting).value).toBe('c');
  });
});
