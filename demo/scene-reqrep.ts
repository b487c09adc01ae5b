// Scene: REQ/REP lockstep. Each turn (request out, request in, reply out, reply in) is an event
// to the socket's machine; a send out of turn fails with EFSM before any frame moves.

import { Context, Reply, Request } from '../src/index.js';
import type { Socket } from '../src/index.js';
import { scene, stateName, step, text } from './show.js';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

/** The state of one region of a parallel `open` state: `turn` of `{ open: { turn, peers } }`. */
function region(value: unknown, name: string): string {
  const open = (value as { open?: Record<string, unknown> }).open;
  if (open === undefined) return typeof value === 'string' ? value : Object.keys(value as object)[0] ?? '?';
  return stateName(open[name]);
}

/** Prints each change of the machine's `turn` region (whose move it is), labelled. */
function watchTurn<T extends Socket>(label: string, socket: T): T {
  let last = region(socket.getSnapshot().value, 'turn');
  console.log(dim(`    [${label}] turn: ${last}`));
  socket.actor.subscribe((snap) => {
    const now = region(snap.value, 'turn');
    if (now !== last) console.log(dim(`    [${label}] turn: ${last} -> ${now}`));
    last = now;
  });
  return socket;
}

export async function reqRepScene(): Promise<void> {
  const context = new Context();
  scene('REQ/REP: strict lockstep, one request then one reply');
  step('a Request must send, then receive; a Reply must receive, then send');

  const rep = watchTurn('rep', new Reply({ context }));
  const req = watchTurn('req', new Request({ context }));
  await rep.bind('inproc://clock');
  req.connect('inproc://clock');
  step('rep bound inproc://clock, req connected');

  for (const question of ['what time is it?', 'and the date?']) {
    await req.send(question);
    step(`req sent "${question}"`);
    const [got] = await rep.receive();
    step(`rep received "${got?.toString()}"`);
    await rep.send(`answer to: ${got?.toString()}`);
    step('rep replied');
    const reply = await req.receive();
    step(`req received "${text(reply)}"`);
  }

  scene('REQ/REP: a second send without receiving the reply');
  await req.send('first request');
  step('req sent "first request" (its turn is now awaitingReply)');
  try {
    await req.send('second request');
    step('the second send went through (unexpected!)');
  } catch (e) {
    const err = e as { code: string; message: string };
    step(`the second send fails: ${err.code}`);
    step(`  "${err.message}"`);
  }
  step('the machine still waits for the first reply; nothing was sent');
  const [pending] = await rep.receive();
  await rep.send(`answer to: ${pending?.toString()}`);
  step(`req received "${text(await req.receive())}"; back to idle, a send is allowed again`);

  req.close();
  rep.close();
}
