// Sockets as actors inside a user's machine: commands in as events, messages out as events,
// failures as the parent's onError, and the socket's life bound to the state that invokes it.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createActor, sendTo, setup, spawnChild, waitFor } from 'xstate';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher, Subscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';
import {
  dealerActor, pairActor, publisherActor, pullActor, pushActor, replyActor, requestActor, routerActor, socketActor, socketOf,
  subscriberActor, xpublisherActor, xsubscriberActor,
} from '../../src/socket/actor-logic.js';
import type { SocketActorEvent } from '../../src/socket/actor-logic.js';

let context: Context;
const open: Socket[] = [];
const actors: AnyActorRef[] = [];

function track<T extends Socket>(s: T): T {
  open.push(s);
  return s;
}

function start<T extends AnyActorRef>(a: T): T {
  actors.push(a);
  a.start();
  return a;
}

afterEach(() => {
  for (const a of actors.splice(0)) a.stop();
  for (const s of open.splice(0)) s.close();
});

function fresh(): Context {
  context = new Context();
  return context;
}

/** The error code a socket actor fails with when a machine invokes it with `input` (its onError). */
async function failureCode(logic: typeof pushActor | typeof pullActor, input: unknown): Promise<string> {
  const machine = setup({ actors: { socket: logic as typeof pushActor } }).createMachine({
    context: { code: '' },
    initial: 'running',
    states: {
      running: {
        invoke: {
          src: 'socket',
          input: input as never,
          onError: { target: 'failed', actions: assign({ code: ({ event }) => (event.error as { code: string }).code }) },
        },
      },
      failed: {},
    },
  });
  const actor = start(createActor(machine));
  return (await waitFor(actor, (s) => s.matches('failed'))).context.code;
}

const text = (frames: readonly Uint8Array[]) => frames.map((f) => Buffer.from(f).toString());

describe('socket actors in a user machine', () => {
  it('an invoked Pull delivers each message to its parent as a zmq.message event, frames by reference', async () => {
    fresh();
    const collector = setup({
      types: { context: {} as { got: Buffer[][]; from: string[]; endpoints: string[] }, events: {} as SocketActorEvent },
      actors: { pull: pullActor },
    }).createMachine({
      context: { got: [], from: [], endpoints: [] },
      invoke: { id: 'jobs', src: 'pull', input: { options: { context }, bind: ['inproc://jobs'] } },
      on: {
        'zmq.ready': { actions: assign({ endpoints: ({ event }) => event.endpoints }) },
        'zmq.message': { actions: assign({ got: ({ context: c, event }) => [...c.got, event.frames], from: ({ context: c, event }) => [...c.from, event.actorId] }) },
      },
    });
    const actor = start(createActor(collector));
    const push = track(new Push({ context }));
    push.connect('inproc://jobs');
    // Frames over 128 bytes: inproc hands over the very Buffers (smaller ones are copied at send, as zeromq.js does).
    const sent = ['a', 'b', 'c'].map((c) => Buffer.alloc(200, c));
    for (const frame of sent) await push.send([frame, 'tail']);

    const snap = await waitFor(actor, (s) => s.context.got.length === 3);
    expect(snap.context.got.map(text)).toEqual(['a', 'b', 'c'].map((c) => [c.repeat(200), 'tail']));
    expect(snap.context.got.map((m) => m[0])).toEqual(sent);
    expect(snap.context.got[1][0]).toBe(sent[1]);
    expect(snap.context.from).toEqual(['jobs', 'jobs', 'jobs']);
    expect(snap.context.endpoints).toEqual(['inproc://jobs']);
    const child = snap.children.jobs as AnyActorRef;
    expect(child.getSnapshot().context).toEqual({ socketClass: 'Pull', socketId: socketOf(child)?.id, endpoints: ['inproc://jobs'] });
  });

  it('send events leave an invoked Push in order, and each completion comes back as zmq.sent', async () => {
    fresh();
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://work');
    const producer = setup({
      types: { context: {} as { sent: number }, events: {} as SocketActorEvent | { type: 'produce'; job: string } },
      actors: { push: pushActor },
    }).createMachine({
      context: { sent: 0 },
      invoke: { id: 'out', src: 'push', input: { options: { context }, connect: ['inproc://work'] } },
      on: {
        produce: { actions: sendTo('out', ({ event }) => ({ type: 'send' as const, message: ['job', event.job] })) },
        'zmq.sent': { actions: assign({ sent: ({ context: c }) => c.sent + 1 }) },
      },
    });
    const actor = start(createActor(producer));
    for (const job of ['1', '2', '3']) actor.send({ type: 'produce', job });
    const received = [text(await pull.receive()), text(await pull.receive()), text(await pull.receive())];
    expect(received).toEqual([['job', '1'], ['job', '2'], ['job', '3']]);
    await waitFor(actor, (s) => s.context.sent === 3);
  });

  it('a send a Push cannot make yet waits (no peer), and zmq.sent comes when a peer arrives', async () => {
    fresh();
    const producer = setup({
      types: { context: {} as { sent: number }, events: {} as SocketActorEvent | { type: 'produce' } },
      actors: { push: pushActor },
    }).createMachine({
      context: { sent: 0 },
      invoke: { id: 'out', src: 'push', input: { options: { context }, bind: ['inproc://later'] } },
      on: {
        produce: { actions: sendTo('out', { type: 'send', message: 'x' }) },
        'zmq.sent': { actions: assign({ sent: ({ context: c }) => c.sent + 1 }) },
      },
    });
    const actor = start(createActor(producer));
    actor.send({ type: 'produce' });
    await waitFor(actor.getSnapshot().children.out as AnyActorRef, (s) => s.context.endpoints.length === 1);
    const push = socketOf(actor.getSnapshot().children.out);
    expect(push?.writable).toBe(false);
    expect(actor.getSnapshot().context.sent).toBe(0);
    const pull = track(new Pull({ context }));
    pull.connect('inproc://later');
    expect(text(await pull.receive())).toEqual(['x']);
    await waitFor(actor, (s) => s.context.sent === 1);
  });

  it('a spawned Pair answers through send events (spawnChild)', async () => {
    fresh();
    const upper = setup({
      types: { events: {} as SocketActorEvent },
      actors: { pair: pairActor },
    }).createMachine({
      entry: spawnChild('pair', { id: 'p', input: { options: { context }, bind: ['inproc://upper'] } }),
      on: {
        'zmq.message': { actions: sendTo('p', ({ event }) => ({ type: 'send' as const, message: text(event.frames).map((s) => s.toUpperCase()) })) },
      },
    });
    start(createActor(upper));
    const client = track(new Pair({ context }));
    client.connect('inproc://upper');
    await client.send(['ab', 'cd']);
    expect(text(await client.receive())).toEqual(['AB', 'CD']);
    await client.send('e');
    expect(text(await client.receive())).toEqual(['E']);
  });

  it('a bind the Context refuses (EADDRINUSE) reaches the parent as an error event (onError)', async () => {
    fresh();
    const squatter = track(new Pull({ context }));
    await squatter.bind('inproc://taken');
    expect(await failureCode(pullActor, { options: { context }, bind: ['inproc://taken'] })).toBe('EADDRINUSE');
    // The failed actor's socket was closed: only the squatter is left in the Context.
    expect(context.sockets).toEqual([squatter]);
  });

  it('bad socket options fail the actor at start with EINVAL (onError)', async () => {
    fresh();
    expect(await failureCode(pushActor, { options: { context, sendHighWaterMark: -5 } })).toBe('EINVAL');
    expect(context.sockets).toEqual([]);
  });

  it('a send the socket type refuses is a zmq.error event, and the socket goes on receiving', async () => {
    fresh();
    const machine = setup({
      types: { context: {} as { errors: string[]; got: string[][] }, events: {} as SocketActorEvent | { type: 'reply' } },
      actors: { pull: pullActor },
    }).createMachine({
      context: { errors: [], got: [] },
      invoke: { id: 'in', src: 'pull', input: { options: { context }, bind: ['inproc://in'] } },
      on: {
        reply: { actions: sendTo('in', { type: 'send', message: 'nope' }) },
        'zmq.error': { actions: assign({ errors: ({ context: c, event }) => [...c.errors, `${event.operation}:${event.error.code}`] }) },
        'zmq.message': { actions: assign({ got: ({ context: c, event }) => [...c.got, text(event.frames)] }) },
      },
    });
    const actor = start(createActor(machine));
    actor.send({ type: 'reply' });
    await waitFor(actor, (s) => s.context.errors.length === 1);
    expect(actor.getSnapshot().context.errors).toEqual(['send:ENOTSUP']);
    const push = track(new Push({ context }));
    push.connect('inproc://in');
    await push.send('still here');
    const snap = await waitFor(actor, (s) => s.context.got.length === 1);
    expect(snap.context.got).toEqual([['still here']]);
  });

  it('a subscribe command to a socket without topics is a zmq.error ENOTSUP', async () => {
    fresh();
    const errors: string[] = [];
    const actor = start(createActor(pushActor, { input: { options: { context } } }));
    actor.on('zmq.error', (e) => errors.push(`${e.operation}:${e.error.code}`));
    // @ts-expect-error a Push has no subscribe(): the command is not in its event type
    actor.send({ type: 'subscribe', topics: ['x'] });
    expect(errors).toEqual(['subscribe:ENOTSUP']);
  });

  it('leaving the invoking state closes the socket and frees its endpoint', async () => {
    fresh();
    const machine = setup({ actors: { pull: pullActor } }).createMachine({
      initial: 'on',
      states: {
        on: { invoke: { id: 'sock', src: 'pull', input: { options: { context }, bind: ['inproc://life'] } }, on: { off: 'off' } },
        off: {},
      },
    });
    const actor = start(createActor(machine));
    const child = actor.getSnapshot().children.sock as AnyActorRef;
    await waitFor(child, (s) => s.context.endpoints.length === 1);
    const socket = socketOf(child);
    expect(socket?.type).toBe('PULL');
    expect(context.listInprocEndpoints()).toEqual(['inproc://life']);
    actor.send({ type: 'off' });
    expect(socket?.closed).toBe(true);
    expect(socketOf(child)).toBeUndefined();
    expect(child.getSnapshot().status).toBe('stopped');
    expect(context.listInprocEndpoints()).toEqual([]);
    // The name can be bound again.
    await track(new Pull({ context })).bind('inproc://life');
  });

  it('a close command ends the actor: the parent hears onDone', async () => {
    fresh();
    const machine = setup({ actors: { push: pushActor } }).createMachine({
      initial: 'on',
      states: {
        on: {
          invoke: { id: 'sock', src: 'push', input: { options: { context } }, onDone: 'closed' },
          on: { shut: { actions: sendTo('sock', { type: 'close' }) } },
        },
        closed: {},
      },
    });
    const actor = start(createActor(machine));
    const socket = socketOf(actor.getSnapshot().children.sock);
    actor.send({ type: 'shut' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(socket?.closed).toBe(true);
  });

  it('socketActor is generic over the class and memoised per class', () => {
    expect(socketActor(Push)).toBe(pushActor);
    expect(socketActor(Pull)).toBe(pullActor);
    expect(socketActor(Pair)).toBe(pairActor);
    expect(socketActor(Push)).not.toBe(socketActor(Pull));
    expect(new Set([pushActor, pullActor, pairActor, requestActor, replyActor, dealerActor, routerActor, publisherActor, subscriberActor, xpublisherActor, xsubscriberActor]).size).toBe(11);
  });

  it('setup() takes the logic and infers its input type (wrong inputs fail tsc)', () => {
    const a = setup({ actors: { pull: pullActor } }).createMachine({
      // @ts-expect-error bind takes a list of endpoints
      invoke: { src: 'pull', input: { bind: 'inproc://x' } },
    });
    const b = setup({ actors: { push: pushActor } }).createMachine({
      // @ts-expect-error conflate is a boolean option
      invoke: { src: 'push', input: { options: { conflate: 1 } } },
    });
    expect(a.implementations.actors.pull).toBe(pullActor);
    expect(b.implementations.actors.push).toBe(pushActor);
  });
});

describe('the parent link, through xstate\'s public API', () => {
  it('the parent\'s inspector sees zmq.ready and each zmq.message as sent by the socket actor', async () => {
    fresh();
    const seen: InspectionEvent[] = [];
    const collector = setup({
      types: { context: {} as { got: number }, events: {} as SocketActorEvent },
      actors: { pull: pullActor },
    }).createMachine({
      context: { got: 0 },
      invoke: { id: 'in', src: 'pull', input: { options: { context }, bind: ['inproc://watched'] } },
      on: { 'zmq.message': { actions: assign({ got: ({ context: c }) => c.got + 1 }) } },
    });
    const actor = start(createActor(collector, { inspect: (e) => void seen.push(e) }));
    const child = actor.getSnapshot().children.in as AnyActorRef;
    await waitFor(child, (s) => s.context.endpoints.length === 1);
    const push = track(new Push({ context }));
    push.connect('inproc://watched');
    await push.send('one');
    await push.send('two');
    await waitFor(actor, (s) => s.context.got === 2);

    const toParent = seen.filter((e) => e.type === '@xstate.event' && e.actorRef === actor && e.event.type.startsWith('zmq.')) as Extract<InspectionEvent, { type: '@xstate.event' }>[];
    expect(toParent.map((e) => e.event.type)).toEqual(['zmq.ready', 'zmq.message', 'zmq.message']);
    for (const e of toParent) expect(e.sourceRef).toBe(child);
    expect(toParent.map((e) => text((e.event as { frames?: Buffer[] }).frames ?? []))).toEqual([[], ['one'], ['two']]);
  });

  it('a socket actor without a parent emits its events for actor.on() listeners', async () => {
    fresh();
    const got: string[][] = [];
    const ready: string[][] = [];
    const actor = createActor(pullActor, { input: { options: { context }, bind: ['inproc://alone'] } });
    actor.on('zmq.ready', (e) => ready.push(e.endpoints));
    actor.on('zmq.message', (e) => got.push([e.actorId, ...text(e.frames)]));
    start(actor);
    const push = track(new Push({ context }));
    push.connect('inproc://alone');
    await push.send(['a', 'b']);
    await push.send('c');
    await waitFor(actor, () => got.length === 2);
    expect(ready).toEqual([['inproc://alone']]);
    expect(got).toEqual([[actor.id, 'a', 'b'], [actor.id, 'c']]);
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('a connect to a malformed endpoint fails the actor (onError), and its socket is closed', async () => {
    fresh();
    expect(await failureCode(pushActor, { options: { context }, connect: ['tcp://nohost'] })).toBe('EINVAL');
    expect(context.sockets).toEqual([]);
  });

  it('the socket actor\'s snapshot is plain JSON at every stage: active, then done after close', async () => {
    fresh();
    const actor = start(createActor(pushActor, { input: { options: { context }, bind: ['inproc://json'] } }));
    const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    const ready = await waitFor(actor, (s) => s.context.endpoints.length === 1);
    const id = socketOf(actor)?.id;
    expect(roundTrip(ready)).toEqual(ready);
    expect(ready).toMatchObject({ status: 'active', context: { socketClass: 'Push', socketId: id, endpoints: ['inproc://json'] } });
    actor.send({ type: 'close' });
    const done = actor.getSnapshot();
    expect(roundTrip(done)).toEqual(done);
    expect(done).toMatchObject({ status: 'done', output: undefined, context: { socketClass: 'Push', socketId: id } });
    expect(socketOf(actor)).toBeUndefined();
    expect(context.sockets.every((s) => s.closed)).toBe(true);
  });

  it('the actor logic and the testing helpers use no private member of xstate', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    for (const file of ['src/socket/actor-logic.ts', 'src/testing/model.ts']) {
      const code = readFileSync(`${root}${file}`, 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '');
      expect(code.match(/\._[A-Za-z]\w*|\[['"`]_[A-Za-z]\w*/g), file).toBeNull();
    }
  });
});

describe('Reply and Request as actors', () => {
  it('a user machine that invokes a Reply socket and answers a Request from outside', async () => {
    fresh();
    //   Request (outside) ──"2+3"──▶ Reply actor ──zmq.message──▶ user machine
    //   Request (outside) ◀──"5"─── Reply actor ◀──send event──── user machine
    const adder = setup({
      types: { context: {} as { answered: number }, events: {} as SocketActorEvent },
      actors: { reply: socketActor(Reply) },
    }).createMachine({
      context: { answered: 0 },
      invoke: { id: 'rep', src: 'reply', input: { options: { context }, bind: ['inproc://adder'] } },
      on: {
        'zmq.message': {
          actions: [
            sendTo('rep', ({ event }) => {
              const [a, b] = text(event.frames)[0].split('+').map(Number);
              return { type: 'send' as const, message: String(a + b) };
            }),
            assign({ answered: ({ context: c }) => c.answered + 1 }),
          ],
        },
      },
    });
    const actor = start(createActor(adder));
    const req = track(new Request({ context }));
    req.connect('inproc://adder');
    await req.send('2+3');
    expect(text(await req.receive())).toEqual(['5']);
    await req.send('40+2');
    expect(text(await req.receive())).toEqual(['42']);
    expect(actor.getSnapshot().context.answered).toBe(2);
  });

  it('an invoked Request sends, and its reply comes back as zmq.message', async () => {
    fresh();
    const rep = track(new Reply({ context }));
    await rep.bind('inproc://svc');
    const client = setup({
      types: { context: {} as { replies: string[][] }, events: {} as SocketActorEvent | { type: 'ask'; q: string } },
      actors: { request: socketActor(Request) },
    }).createMachine({
      context: { replies: [] },
      invoke: { id: 'req', src: 'request', input: { options: { context }, connect: ['inproc://svc'] } },
      on: {
        ask: { actions: sendTo('req', ({ event }) => ({ type: 'send' as const, message: event.q })) },
        'zmq.message': { actions: assign({ replies: ({ context: c, event }) => [...c.replies, text(event.frames)] }) },
      },
    });
    const actor = start(createActor(client));
    actor.send({ type: 'ask', q: 'ping' });
    expect(text(await rep.receive())).toEqual(['ping']);
    await rep.send('pong');
    await waitFor(actor, (s) => s.context.replies.length === 1);
    actor.send({ type: 'ask', q: 'again' });
    expect(text(await rep.receive())).toEqual(['again']);
    await rep.send('sure');
    const snap = await waitFor(actor, (s) => s.context.replies.length === 2);
    expect(snap.context.replies).toEqual([['pong'], ['sure']]);
  });
});

describe('Subscriber as an actor', () => {
  it('subscribe and unsubscribe events choose which published messages reach the parent', async () => {
    fresh();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://feed');
    const watcher = setup({
      types: { context: {} as { got: string[][] }, events: {} as SocketActorEvent | { type: 'watch' | 'unwatch'; topic: string } },
      actors: { sub: socketActor(Subscriber) },
    }).createMachine({
      context: { got: [] },
      invoke: { id: 'sub', src: 'sub', input: { options: { context }, connect: ['inproc://feed'] } },
      on: {
        watch: { actions: sendTo('sub', ({ event }) => ({ type: 'subscribe' as const, topics: [event.topic] })) },
        unwatch: { actions: sendTo('sub', ({ event }) => ({ type: 'unsubscribe' as const, topics: [event.topic] })) },
        'zmq.message': { actions: assign({ got: ({ context: c, event }) => [...c.got, text(event.frames)] }) },
      },
    });
    const actor = start(createActor(watcher));
    actor.send({ type: 'watch', topic: 'weather.' });
    await pub.send(['sport.', 'goal']);
    await pub.send(['weather.', 'rain']);
    await waitFor(actor, (s) => s.context.got.length === 1);
    actor.send({ type: 'unwatch', topic: 'weather.' });
    actor.send({ type: 'watch', topic: 'sport.' });
    await pub.send(['weather.', 'sun']);
    await pub.send(['sport.', 'miss']);
    const snap = await waitFor(actor, (s) => s.context.got.length === 2);
    expect(snap.context.got).toEqual([['weather.', 'rain'], ['sport.', 'miss']]);
  });
});

describe('docs/embedding.md', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));

  it.each(['docs/embedding.md', 'README.md'])('the snippet in %s is docs/embedding-example.ts, with the package name for imports', (file) => {
    const md = readFileSync(`${root}${file}`, 'utf8');
    const marker = '<!-- snippet: docs/embedding-example.ts -->';
    const at = md.indexOf(marker);
    expect(at, `${file} has no "${marker}"`).toBeGreaterThanOrEqual(0);
    const block = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
    const example = readFileSync(`${root}docs/embedding-example.ts`, 'utf8').replace(/from '\.\.\/src\/[^']+'/g, "from 'monocoque'");
    expect(block?.[1]).toBe(example);
  });

  it('the README snippet runs: the echo machine answers the Request', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../../docs/embedding-example.js');
      expect(log).toHaveBeenCalledWith('hello');
    } finally {
      log.mockRestore();
    }
  });
});
