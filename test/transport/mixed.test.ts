// One socket, three transports: a Router bound on tcp, ipc and inproc at once routes between peers
// that came through each of them.
//
//   dealer "t" ──tcp──┐
//   dealer "i" ──ipc──┼── Router ── forwards [to, body] from one dealer to another
//   dealer "p" ─inproc┘

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Context, Dealer, Router } from '../../src/index.js';
import type { Socket, SocketEvent } from '../../src/index.js';

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('mixed transports', () => {
  it('mixed: a Router bound on tcp, ipc and inproc routes between peers of all three', async () => {
    const context = new Context();
    const router = new Router({ context, mandatory: true, linger: 0 });
    open.push(router);
    const accepted: SocketEvent[] = [];
    router.events.on('accept', (e) => accepted.push(e));
    await router.bind('tcp://127.0.0.1:*');
    const tcp = router.lastEndpoint as string;
    const ipc = `ipc://${join(mkdtempSync(join(tmpdir(), 'mixed-')), 'r.sock')}`;
    await router.bind(ipc);
    await router.bind('inproc://mixed');

    const dealers = new Map<string, Dealer>();
    for (const [name, ep] of [['t', tcp], ['i', ipc], ['p', 'inproc://mixed']] as const) {
      const d = new Dealer({ context, routingId: name, linger: 0 });
      open.push(d);
      d.connect(ep);
      dealers.set(name, d);
    }
    // Every dealer says hello; the router learns all three ids.
    for (const d of dealers.values()) await d.send('hello');
    const from = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const [id, body] = await router.receive();
      expect(String(body)).toBe('hello');
      from.add(String(id));
    }
    expect(from).toEqual(new Set(['t', 'i', 'p']));
    expect(new Set(accepted.map((e) => e.address?.split(':')[0]))).toEqual(new Set(['tcp', 'ipc', 'inproc']));

    // Each dealer asks the router to forward to the next one, across transports.
    const ring = [['t', 'i'], ['i', 'p'], ['p', 't']] as const;
    for (const [src, dst] of ring) await (dealers.get(src) as Dealer).send([dst, `from ${src}`]);
    for (let i = 0; i < 3; i++) {
      const [src, dst, body] = await router.receive();
      await router.send([dst as Buffer, body as Buffer, src as Buffer]);
    }
    for (const [src, dst] of ring) {
      const [body, origin] = await (dealers.get(dst) as Dealer).receive();
      expect(String(body)).toBe(`from ${src}`);
      expect(String(origin)).toBe(src);
    }
  });
});
