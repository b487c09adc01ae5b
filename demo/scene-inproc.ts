// Scene: the inproc transport — registry, several clients, multipart, zero copy, cleanup.

import { Context, Pair, Pull, Push } from '../src/index.js';
import { act, scene, text, watch } from './show.js';

export async function inprocScene(): Promise<void> {
  const context = new Context();
  scene('inproc: a registry of named endpoints, owned by the supervisor actor');

  const server = await act('pull bound inproc://jobs', async () => {
    const server = watch('pull', new Pull({ context }));
    await server.bind('inproc://jobs');
    return server;
  });
  const clients = await act(
    () => `3 push clients connected; registry lists ${JSON.stringify(context.listInprocEndpoints())}`,
    () => {
      const clients = [1, 2, 3].map((i) => watch(`push${i}`, new Push({ context })));
      for (const c of clients) c.connect('inproc://jobs');
      return clients;
    },
  );
  await act(
    (ids) => `the supervisor's context.connections lists ${ids.length} connection actors: ${ids.join(', ')}`,
    () => Object.keys(context.supervisor.getSnapshot().context.connections.toJSON()),
  );

  await act(
    (err) => [`a second bind of inproc://jobs fails: ${err.code}`, `"${err.message}"`],
    async () => {
      const second = new Pull({ context });
      try {
        await second.bind('inproc://jobs');
        return { code: 'no error (unexpected!)', message: '' };
      } catch (e) {
        return e as { code: string; message: string };
      } finally {
        second.close();
      }
    },
  );

  await act('each push sent a 3-frame message', async () => {
    for (const [i, c] of clients.entries()) await c.send([`client-${i + 1}`, 'multipart', `frame ${i + 1}`]);
  });
  for (let i = 0; i < clients.length; i++) await act((got) => `pull received: ${text(got)}`, () => server.receive());

  scene('inproc: connect before bind completes when the bind arrives');
  const early = await act('push connected to inproc://later and queued a message; nobody bound it yet', async () => {
    const early = watch('early-push', new Push({ context }));
    early.connect('inproc://later');
    await early.send('sent before anyone bound inproc://later');
    return early;
  });
  const late = await act('late pull bound inproc://later', async () => {
    const late = watch('late-pull', new Pull({ context }));
    await late.bind('inproc://later');
    return late;
  });
  await act((got) => `late pull received: ${text(got)}`, () => late.receive());

  scene('inproc: a 100 KB payload handed over without copying');
  const [a, b] = await act('pair-a bound inproc://pair, pair-b connected', async () => {
    const a = watch('pair-a', new Pair({ context }));
    const b = watch('pair-b', new Pair({ context }));
    await a.bind('inproc://pair');
    b.connect('inproc://pair');
    return [a, b] as const;
  });
  const payload = Buffer.alloc(100 * 1024, 0x61);
  const got = await act(
    (got) => `pair-b received ${got?.byteLength} bytes; same Buffer object as sent: ${got === payload}`,
    async () => {
      await a.send(payload);
      return (await b.receive())[0];
    },
  );
  await act(
    () => `sender changed byte 0 to "Z" after receipt; receiver sees "${String.fromCharCode(got?.[0] ?? 0)}" (shared memory, not a copy)`,
    () => {
      payload[0] = 0x5a;
    },
  );

  scene('inproc: cleanup');
  await act(
    () => `all sockets closed; registry lists ${JSON.stringify(context.listInprocEndpoints())}`,
    () => {
      for (const s of [server, ...clients, early, late, a, b]) s.close();
    },
  );
}
