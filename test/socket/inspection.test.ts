// Live inspection: one observer given to a Context sees the supervisor, every socket actor and
// every inproc connection actor, and what it sees is plain JSON: no frames, no secrets.

import { afterEach, describe, expect, it } from 'vitest';
import { createActor, sendTo, setup, waitFor } from 'xstate';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import { pushActor, socketOf } from '../../src/socket/actor-logic.js';
import type { SocketActorEvent } from '../../src/socket/actor-logic.js';

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const PAYLOAD = 'payload-7f3a9c';

/** Why a context cannot go to an inspector as is, or undefined if it can. */
function unfitForInspection(context: unknown): string | undefined {
  let why: string | undefined;
  const json = JSON.stringify(context, (key, value: unknown) => {
    if (/secret|password|private/i.test(key)) why ??= `key "${key}" looks like a secret`;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) why ??= `"${key}" holds bytes`;
    return value;
  });
  if (json === undefined) return why;
  if (json.includes('"type":"Buffer"')) why ??= 'a Buffer';
  if (json.includes(PAYLOAD)) why ??= 'a message payload';
  return why;
}

function recorder() {
  const events: InspectionEvent[] = [];
  return { events, inspect: (e: InspectionEvent) => void events.push(e) };
}

function seen(events: InspectionEvent[], ref: AnyActorRef) {
  const mine = events.filter((e) => e.actorRef === ref);
  return {
    actor: mine.some((e) => e.type === '@xstate.actor'),
    snapshots: mine.filter((e) => e.type === '@xstate.snapshot') as Extract<InspectionEvent, { type: '@xstate.snapshot' }>[],
    eventTypes: mine.filter((e) => e.type === '@xstate.event').map((e) => (e as Extract<InspectionEvent, { type: '@xstate.event' }>).event.type),
  };
}

describe('inspection', () => {
  it('an observer given to a Context sees the supervisor, a socket actor and an inproc connection actor live', async () => {
    const { events, inspect } = recorder();
    const context = new Context({ inspect });
    const pull = new Pull({ context });
    const push = new Push({ context });
    open.push(pull, push);
    await pull.bind('inproc://seen');
    push.connect('inproc://seen');
    await push.send([PAYLOAD, Buffer.from(PAYLOAD)]);
    expect((await pull.receive())[0].toString()).toBe(PAYLOAD);

    const connectionId = Object.keys(context.supervisor.getSnapshot().context.connections.toJSON())[0];
    // The connection actor lives in the supervisor's system, found under its connection id.
    const connection = context.supervisor.system.get(connectionId as string) as AnyActorRef;
    expect(connection).toBeDefined();

    const sup = seen(events, context.supervisor);
    expect(sup.actor).toBe(true);
    expect(sup.eventTypes).toEqual(expect.arrayContaining(['inproc.bind', 'inproc.connect']));
    expect(sup.snapshots.at(-1)?.snapshot).toBe(context.supervisor.getSnapshot());

    for (const socket of [push, pull]) {
      const s = seen(events, socket.actor);
      expect(s.actor, socket.type).toBe(true);
      expect(s.eventTypes, socket.type).toContain('peer.attached');
      expect(s.snapshots.at(-1)?.snapshot, socket.type).toBe(socket.getSnapshot());
    }

    const conn = seen(events, connection);
    expect(conn.actor).toBe(true);
    expect(conn.eventTypes).toContain('xstate.init');
    expect(conn.snapshots.length).toBeGreaterThan(0);
    expect((conn.snapshots.at(-1)?.snapshot as { value?: unknown } | undefined)?.value).toBe('attached');

    // Closing is seen too: the socket goes to closed, the connection actor to closed.
    push.close();
    expect((seen(events, push.actor).snapshots.at(-1)?.snapshot as { value?: unknown } | undefined)?.value).toBe('closed');
    expect(seen(events, connection).eventTypes).toContain('connection.close');
    expect((seen(events, connection).snapshots.at(-1)?.snapshot as { value?: unknown } | undefined)?.value).toBe('closed');
    // It is the supervisor's child: its end reaches the supervisor, sent by it.
    const ended = events.filter((e) => e.type === '@xstate.event' && e.actorRef === context.supervisor && e.sourceRef === connection);
    expect(ended.map((e) => (e as Extract<InspectionEvent, { type: '@xstate.event' }>).event.type)).toEqual(['xstate.done.actor.connection']);
  });

  it('no snapshot an inspector receives holds Buffers, message bytes or secrets', async () => {
    const { events, inspect } = recorder();
    const context = new Context({ inspect });
    const pull = new Pull({ context, routingId: 'worker-1' });
    const push = new Push({ context, sendHighWaterMark: 2 });
    open.push(pull, push);
    pull.connect('inproc://bytes'); // connect before bind: the pending connection is inspected too
    await push.bind('inproc://bytes');
    for (let i = 0; i < 5; i++) void push.send([PAYLOAD, new Uint8Array([1, 2, 3])]); // fills to mute
    for (let i = 0; i < 5; i++) await pull.receive();
    pull.close();
    push.close();

    const snapshots = events.filter((e) => e.type === '@xstate.snapshot') as Extract<InspectionEvent, { type: '@xstate.snapshot' }>[];
    const actors = new Set(snapshots.map((e) => e.actorRef));
    expect(actors).toContain(context.supervisor);
    expect(actors).toContain(push.actor);
    expect(actors).toContain(pull.actor);
    expect(snapshots.length).toBeGreaterThan(10);
    for (const e of snapshots) {
      const ctx = (e.snapshot as { context?: unknown }).context;
      expect(unfitForInspection(ctx), `${(e.actorRef as AnyActorRef).id} after ${e.event.type}`).toBeUndefined();
    }
    // The check itself can fail: a context holding a frame is caught.
    expect(unfitForInspection({ peers: [{ last: Buffer.from('x') }] })).toBeDefined();
    expect(unfitForInspection({ plainPassword: 'x' })).toBeDefined();
  });

  it('a user machine and its embedded socket share one observer: the wrapper, the socket machine and the sends are seen', async () => {
    const { events, inspect } = recorder();
    const context = new Context({ inspect });
    const pull = new Pull({ context });
    open.push(pull);
    await pull.bind('inproc://user');
    const machine = setup({
      types: { events: {} as SocketActorEvent | { type: 'go' } },
      actors: { push: pushActor },
    }).createMachine({
      invoke: { id: 'out', src: 'push', input: { options: { context }, connect: ['inproc://user'] } },
      on: { go: { actions: sendTo('out', { type: 'send', message: PAYLOAD }) } },
    });
    const user = createActor(machine, { inspect });
    user.start();
    user.send({ type: 'go' });
    expect((await pull.receive())[0].toString()).toBe(PAYLOAD);
    const wrapper = user.getSnapshot().children.out as AnyActorRef;
    await waitFor(user, () => seen(events, user).eventTypes.includes('zmq.sent'));

    const w = seen(events, wrapper);
    expect(w.actor).toBe(true);
    expect(w.eventTypes).toEqual(expect.arrayContaining(['send']));
    // zmq.sent reaches the user machine from the wrapper (the inspector sees who sent it).
    const sent = events.find((e) => e.type === '@xstate.event' && e.actorRef === user && e.event.type === 'zmq.sent') as Extract<InspectionEvent, { type: '@xstate.event' }>;
    expect(sent.sourceRef).toBe(wrapper);
    // The socket inside the wrapper is a Context socket: its own machine is inspected as well.
    const socket = socketOf(wrapper) as Socket;
    expect(seen(events, socket.actor).eventTypes).toContain('peer.attached');
    for (const e of events) {
      if (e.type !== '@xstate.snapshot') continue;
      expect(unfitForInspection((e.snapshot as { context?: unknown }).context), (e.actorRef as AnyActorRef).id).toBeUndefined();
    }
    user.stop();
  });
});
