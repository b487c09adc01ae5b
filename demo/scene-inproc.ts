// Scene: the inproc transport — registry, several clients, multipart, zero copy, cleanup.

import { Context, Pair, Pull, Push } from '../src/index.js';
import { scene, step, text, watch } from './show.js';

export async function inprocScene(): Promise<void> {
  const context = new Context();
  scene('inproc: a registry of named endpoints, owned by the supervisor actor');

  const server = watch('pull', new Pull({ context }));
  await server.bind('inproc://jobs');
  step('pull bound inproc://jobs');
  const clients = [1, 2, 3].map((i) => watch(`push${i}`, new Push({ context })));
  for (const c of clients) c.connect('inproc://jobs');
  step(`3 push clients connected; registry lists ${JSON.stringify(context.listInprocEndpoints())}`);
  const connections = Object.keys(context.supervisor.getSnapshot().children);
  step(`the supervisor spawned ${connections.length} connection actors: ${connections.join(', ')}`);

  try {
    await new Pull({ context }).bind('inproc://jobs');
  } catch (e) {
    step(`a second bind of inproc://jobs fails: ${(e as { code: string }).code} (${(e as Error).message})`);
  }

  for (const [i, c] of clients.entries()) await c.send([`client-${i + 1}`, 'multipart', `frame ${i + 1}`]);
  for (let i = 0; i < clients.length; i++) step(`pull received: ${text(await server.receive())}`);

  scene('inproc: connect before bind completes when the bind arrives');
  const early = watch('early-push', new Push({ context }));
  early.connect('inproc://later');
  await early.send('sent before anyone bound inproc://later');
  step('push connected to inproc://later and queued a message; now binding it');
  const late = watch('late-pull', new Pull({ context }));
  await late.bind('inproc://later');
  step(`late pull received: ${text(await late.receive())}`);

  scene('inproc: a 100 KB payload handed over without copying');
  const a = watch('pair-a', new Pair({ context }));
  const b = watch('pair-b', new Pair({ context }));
  await a.bind('inproc://pair');
  b.connect('inproc://pair');
  const payload = Buffer.alloc(100 * 1024, 0x61);
  await a.send(payload);
  const [got] = await b.receive();
  step(`received ${got?.byteLength} bytes; same Buffer object as sent: ${got === payload}`);
  payload[0] = 0x5a;
  step(`sender changed byte 0 to "Z" after receipt; receiver sees "${String.fromCharCode(got?.[0] ?? 0)}" (shared memory, not a copy)`);

  scene('inproc: cleanup');
  for (const s of [server, ...clients, early, late, a, b]) s.close();
  step(`all sockets closed; registry lists ${JSON.stringify(context.listInprocEndpoints())}`);
}
