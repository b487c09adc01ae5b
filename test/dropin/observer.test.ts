// zeromq.js's Observer class: `new Observer(sock)` is the socket's one event stream.

import { describe, expect, it } from 'vitest';
import { Observer, Pair, Push, SocketEvents } from '../../src/index.js';

describe('Observer', () => {
  it('is the stream sock.events gives, so an event is read once, through either', async () => {
    const sock = new Pair({ linger: 0 });
    const observer = new Observer(sock);
    expect(observer).toBe(sock.events);
    expect(sock.events instanceof Observer).toBe(true);
    expect(observer instanceof SocketEvents).toBe(true);
    await sock.bind('inproc://observer-1');
    expect((await observer.receive()).type).toBe('bind');
    sock.close();
    expect((await sock.events.receive()).type).toBe('end');
    expect(observer.closed).toBe(true);
  });

  it('goes to listeners in emitter mode, as zeromq.js does', async () => {
    const sock = new Push({ linger: 0 });
    const seen: string[] = [];
    new Observer(sock).on('bind', (e) => seen.push(e.address));
    await sock.bind('inproc://observer-2');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['inproc://observer-2']);
    expect(() => sock.events.receive()).toThrow(/emitter mode/);
    sock.close();
  });

  it('refuses what is not a socket with a TypeError that says what to pass', () => {
    expect(() => new Observer({} as never)).toThrow(TypeError);
    expect(() => new Observer(null as never)).toThrow(/pass a socket/);
    expect(() => new Observer(3 as never)).toThrow(/number was given/);
  });
});
