// The monitor event stream as zeromq.js's Observer behaves: buffered from the first access of
// `sock.events`, two exclusive modes (reading or emitter), and the end of the stream.

import { describe, expect, it } from 'vitest';
import { Context, Dealer, Pair } from '../../src/index.js';
import type { Event } from '../../src/index.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('events: buffered from first access', () => {
  it('an end that comes before the first receive() is kept: close() right after reading sock.events', async () => {
    const sock = track(new Dealer({ context: new Context() }));
    const events = sock.events;
    sock.close();
    expect(await events.receive()).toEqual({ type: 'end' });
    expect(events.closed).toBe(true);
    await expect(events.receive()).rejects.toMatchObject({ code: 'EBADF', message: 'Socket is closed' });
  });

  it('inproc bind and connect events wait in the buffer until read, in order', async () => {
    const context = new Context();
    const a = track(new Pair({ context }));
    const b = track(new Pair({ context }));
    const events = a.events;
    await a.bind('inproc://buffered');
    b.connect('inproc://buffered');
    a.close();
    const seen: string[] = [];
    for await (const e of events) seen.push(`${e.type} ${e.address ?? ''}`.trim());
    expect(seen).toEqual(['bind inproc://buffered', 'accept inproc://buffered', 'end']);
  });

  it('events of a tcp connection made before the first access are not kept (the monitor starts then)', async () => {
    const context = new Context();
    const a = track(new Pair({ context, linger: 0 }));
    const b = track(new Pair({ context, linger: 0 }));
    await a.bind('tcp://127.0.0.1:*');
    b.connect(a.lastEndpoint as string);
    await b.send('over tcp');
    expect(text(await a.receive())).toEqual(['over tcp']);
    // The transport reported accept and handshake through the same property: nothing was kept.
    const events = a.events;
    a.close();
    const types: string[] = [];
    for await (const e of events) types.push(e.type);
    expect(types).not.toContain('accept');
    expect(types).not.toContain('handshake');
    expect(types.at(-1)).toBe('end');
  });

  it('a socket whose events are never read keeps none: a late first access sees only what follows', async () => {
    const context = new Context();
    const a = track(new Pair({ context }));
    await a.bind('inproc://late');
    await a.unbind('inproc://late');
    const events = a.events;
    await a.bind('inproc://late-2');
    expect(await events.receive()).toMatchObject({ type: 'bind', address: 'inproc://late-2' });
  });
});

describe('events: emitter mode', () => {
  it('after on(), receive() throws at once (not a rejected promise), as zeromq.js does', () => {
    const sock = track(new Dealer({ context: new Context() }));
    sock.events.on('bind', () => {});
    expect(() => sock.events.receive()).toThrow(/Observer is in event emitter mode/);
    expect(() => sock.events.receive()).toThrow(expect.objectContaining({ code: 'EFSM' }));
  });

  it('events buffered before the first on() reach the listeners, before later ones, after every on() of that turn', async () => {
    const context = new Context();
    const sock = track(new Dealer({ context }));
    const events = sock.events;
    await sock.bind('inproc://early');
    const seen: string[] = [];
    events.on('bind', (e) => seen.push(`bind ${e.address}`));
    events.on('end', () => seen.push('end'));
    expect(seen).toEqual([]); // delivered on a microtask, so a second on() in the same turn sees it too
    await Promise.resolve();
    expect(seen).toEqual(['bind inproc://early']);
    sock.close();
    expect(seen).toEqual(['bind inproc://early', 'end']);
  });

  it('an event that comes while buffered ones wait for their microtask is delivered after them', async () => {
    const context = new Context();
    const sock = track(new Dealer({ context }));
    const events = sock.events;
    await sock.bind('inproc://first');
    const seen: string[] = [];
    events.on('*', (e: Event) => seen.push(e.address ?? e.type));
    await sock.bind('inproc://second'); // resolves on a later microtask than the drain
    sock.close();
    expect(seen).toEqual(['inproc://first', 'inproc://second', 'end']);
  });
});

describe('events: addresses', () => {
  it('bind:error names the endpoint as the caller gave it, scheme included', async () => {
    const context = new Context();
    const a = track(new Dealer({ context }));
    const b = track(new Dealer({ context }));
    await a.bind('tcp://127.0.0.1:*');
    const address = a.lastEndpoint as string;
    const failed = new Promise<Event>((resolve) => b.events.on('bind:error', resolve));
    await expect(b.bind(address)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const event = await failed;
    expect(event.address).toBe(address);
    expect(event.error).toMatchObject({ code: 'EADDRINUSE', errno: 98 });
  });
});
