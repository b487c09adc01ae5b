import { describe, expect, it } from 'vitest';
import { closeAfterEach, text } from '../helpers/sockets.js';
import { createActor } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.js';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { SocketEvent } from '../../src/socket/events.js';

const track = closeAfterEach();

describe('inproc registry (the supervisor)', () => {
  it('registry: binding a taken name is EADDRINUSE naming the endpoint; the first binder keeps it', async () => {
    const context = new Context();
    const a = track(new Pull({ context }));
    const b = track(new Pull({ context }));
    await a.bind('inproc://taken');
    await expect(b.bind('inproc://taken')).rejects.toMatchObject({
      code: 'EADDRINUSE',
      errno: 98,
      address: 'inproc://taken',
      message: expect.stringContaining('inproc://taken'),
    });
    expect(context.listInprocEndpoints()).toEqual(['inproc://taken']);
    expect(context.supervisor.getSnapshot().context.endpoints.get('taken')?.socketId).toBe(a.id);
  });

  it('registry: names are per Context', async () => {
    const one = new Context();
    const two = new Context();
    await track(new Pull({ context: one })).bind('inproc://same');
    await track(new Pull({ context: two })).bind('inproc://same');
    expect(one.listInprocEndpoints()).toEqual(['inproc://same']);
    expect(two.listInprocEndpoints()).toEqual(['inproc://same']);
  });

  it('registry: bad inproc endpoints are refused before reaching the registry', async () => {
    const context = new Context();
    const s = track(new Pull({ context }));
    await expect(s.bind('inproc://')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('"inproc://"') });
    expect(() => s.connect('inproc://')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    await expect(s.bind('foo://x')).rejects.toMatchObject({ code: 'EPROTONOSUPPORT' });
    expect(context.listInprocEndpoints()).toEqual([]);
  });

  it('registry: connect before bind queues up to SNDHWM, and completes when the bind arrives', async () => {
    const context = new Context();
    const push = track(new Push({ context }));
    push.connect('inproc://later');
    const connects: SocketEvent[] = [];
    push.events.on('connect', (e) => connects.push(e));
    await push.send('queued early');
    const supervisor = context.supervisor.getSnapshot();
    expect(Object.values(supervisor.context.connections.toJSON())).toEqual([{ name: 'later', connectorId: push.id }]);
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://later');
    expect(text(await pull.receive())).toEqual(['queued early']);
    expect(Object.values(context.supervisor.getSnapshot().context.connections.toJSON())).toEqual([{ name: 'later', connectorId: push.id, binderId: pull.id }]);
  });

  it('registry: with immediate, nothing is queued toward a name not bound yet', async () => {
    const context = new Context();
    const push = track(new Push({ context, immediate: true, sendTimeout: 0 }));
    push.connect('inproc://later2');
    await expect(push.send('x')).rejects.toMatchObject({ code: 'EAGAIN' });
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://later2');
    await push.send('y');
    expect(text(await pull.receive())).toEqual(['y']);
  });

  it('registry: the supervisor spawns one connection actor per inproc connection', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://many');
    for (let i = 0; i < 3; i++) track(new Push({ context })).connect('inproc://many');
    // Each connection actor is in the supervisor's system under its connection id.
    const ids = Object.keys(context.supervisor.getSnapshot().context.connections.toJSON());
    const states = ids.map((id) => (context.supervisor.system.get(id) as { getSnapshot(): { value: unknown } } | undefined)?.getSnapshot().value);
    expect(states).toEqual(['attached', 'attached', 'attached']);
    expect(pull.getSnapshot().context.peers.size).toBe(3);
  });

  it('registry: a finished connection actor is let go: none is left after connections close, disconnect or are refused', async () => {
    // Every connection actor started, refused ones included, as the inspector sees it start.
    const started: string[] = [];
    const context = new Context({
      inspect: (e) => {
        if (e.type === '@xstate.actor' && (e.actorRef as unknown as { logic: { id?: string } }).logic.id === 'inprocConnection') {
          started.push((e.actorRef as unknown as { options: { systemId: string } }).options.systemId);
        }
      },
    });
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://churn');
    const count = () => {
      const s = context.supervisor.getSnapshot();
      const alive = started.filter((id) => context.supervisor.system.get(id) !== undefined).length;
      return [alive, s.context.connections.size];
    };
    for (let i = 0; i < 50; i++) {
      const push = new Push({ context, linger: 0 });
      push.connect('inproc://churn');
      await push.send(String(i));
      expect(text(await pull.receive())).toEqual([String(i)]);
      if (i % 2 === 0) push.disconnect('inproc://churn');
      push.close();
    }
    // A refused pairing (PUB cannot talk to PULL) ends its actor too.
    const pub = new Publisher({ context, linger: 0 });
    pub.connect('inproc://churn');
    pub.close();
    expect(started).toHaveLength(51);
    // Each close above released its socket synchronously (linger 0, nothing queued).
    expect(count()).toEqual([0, 0]);
    // And what is still connected is still there.
    track(new Push({ context })).connect('inproc://churn');
    expect(count()).toEqual([1, 1]);
  });

  it('registry: unbind removes the name and detaches its peers, who learn of it', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    const push = track(new Push({ context, sendTimeout: 0 }));
    await pull.bind('inproc://gone');
    push.connect('inproc://gone');
    const left: SocketEvent[] = [];
    push.events.on('disconnect', (e) => left.push(e));
    expect(push.getSnapshot().value).toEqual({ open: 'ready' });
    await pull.unbind('inproc://gone');
    expect(context.listInprocEndpoints()).toEqual([]);
    expect(left.map((e) => e.address)).toEqual(['inproc://gone']);
    expect(push.getSnapshot().value).toEqual({ open: 'noPeers' });
    expect(pull.getSnapshot().context.peers.list()).toEqual([]);
    await expect(push.send('x')).rejects.toMatchObject({ code: 'EAGAIN' });
    await expect(pull.unbind('inproc://gone')).rejects.toMatchObject({ code: 'ENOENT' });
    // The name is free again.
    await track(new Pull({ context })).bind('inproc://gone');
  });

  it('registry: a closed socket releases its names', async () => {
    const context = new Context();
    const pull = new Pull({ context });
    await pull.bind('inproc://closing');
    pull.close();
    expect(context.listInprocEndpoints()).toEqual([]);
    await track(new Pull({ context })).bind('inproc://closing');
  });

  it('registry: a pairing ZeroMQ does not allow is refused with an event on both sides, nothing delivered', async () => {
    const context = new Context();
    const a = track(new Push({ context, sendTimeout: 0 }));
    const b = track(new Push({ context }));
    const refusals: string[] = [];
    a.events.on('peer:refused', (e) => refusals.push(`a ${e.error?.code} ${e.peer?.socketType}`));
    b.events.on('peer:refused', (e) => refusals.push(`b ${e.error?.code} ${e.peer?.socketType}`));
    await b.bind('inproc://wrong');
    a.connect('inproc://wrong');
    expect(refusals).toEqual(['a ENOCOMPATPROTO PUSH', 'b ENOCOMPATPROTO PUSH']);
    expect(a.getSnapshot().context.peers.list()).toEqual([]);
    await expect(a.send('x')).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('registry: an early connection to a name later bound by the wrong type is taken back', async () => {
    const context = new Context();
    const a = track(new Pair({ context }));
    a.connect('inproc://wrong2');
    await a.send('early'); // queued toward a binder not known yet
    const b = track(new Pull({ context }));
    const refused: SocketEvent[] = [];
    a.events.on('peer:refused', (e) => refused.push(e));
    await b.bind('inproc://wrong2');
    expect(refused).toHaveLength(1);
    expect(a.getSnapshot().value).toEqual({ open: 'unpaired' });
    b.receiveTimeout = 20;
    await expect(b.receive()).rejects.toMatchObject({ code: 'EAGAIN' });
  });
});

describe('supervisor machine (pure)', () => {
  it('supervisor: refuses a second bind of a name through its refuseBind effect', () => {
    const refused: string[] = [];
    const actor = createActor(
      supervisorMachine.provide({ actions: { refuseBind: ({ event }) => refused.push((event as { name: string }).name) } }),
    ).start();
    actor.send({ type: 'inproc.bind', name: 'x', socketId: 1, socketType: 'PULL', requestId: 1 });
    actor.send({ type: 'inproc.bind', name: 'x', socketId: 2, socketType: 'PULL', requestId: 2 });
    expect(refused).toEqual(['x']);
    expect(actor.getSnapshot().context.endpoints.toJSON()).toEqual({ x: { socketId: 1, socketType: 'PULL' } });
  });

  it('supervisor: a connection waits in pending until its name is bound, then joins', async () => {
    const context = new Context();
    const push = track(new Push({ context }));
    push.connect('inproc://n');
    const supervisor = context.supervisor;
    const [id] = Object.keys(supervisor.getSnapshot().context.connections.toJSON());
    const child = () => supervisor.system.get(id as string) as { getSnapshot(): { value: unknown } } | undefined;
    expect(child()?.getSnapshot().value).toBe('pending');
    const pull = new Pull({ context });
    await pull.bind('inproc://n');
    expect(child()?.getSnapshot().value).toBe('attached');
    pull.close();
    expect(JSON.parse(JSON.stringify(supervisor.getSnapshot().context))).toEqual({ endpoints: {}, connections: {} });
    expect(child()).toBeUndefined();
  });
});

describe('inproc close and names', () => {
  it('registry: a lingering socket gives its name back at once and still delivers what it queued', async () => {
    const context = new Context();
    const push = new Push({ context, linger: -1 });
    const pull = track(new Pull({ context }));
    await push.bind('inproc://linger-name');
    pull.connect('inproc://linger-name');
    await push.send('last words');
    push.close();
    expect(push.getSnapshot().value).toBe('lingering');
    expect(context.listInprocEndpoints()).toEqual([]);
    const successor = track(new Push({ context }));
    await successor.bind('inproc://linger-name');
    expect(text(await pull.receive())).toEqual(['last words']);
    await push.whenReleased();
    expect(context.listInprocEndpoints()).toEqual(['inproc://linger-name']);
  });
});
