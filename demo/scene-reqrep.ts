// Scene: REQ/REP lockstep. Each turn (request out, request in, reply out, reply in) is an event
// to the socket's machine; a send out of turn fails with EFSM before any frame moves.

import { Context, Reply, Request } from '../src/index.js';
import { act, scene, stateName, step, text, watch } from './show.js';

export async function reqRepScene(): Promise<void> {
  const context = new Context();
  scene('REQ/REP: strict lockstep, one request then one reply');
  step('a Request must send, then receive; a Reply must receive, then send');

  const [rep, req] = await act('rep bound inproc://clock, req connected', async () => {
    const rep = watch('rep', new Reply({ context }));
    const req = watch('req', new Request({ context }));
    await rep.bind('inproc://clock');
    req.connect('inproc://clock');
    return [rep, req] as const;
  });

  for (const question of ['what time is it?', 'and the date?']) {
    await act(`req sent "${question}"`, () => req.send(question));
    const [got] = await act((m) => `rep received "${text(m)}"`, () => rep.receive());
    await act('rep replied', () => rep.send(`answer to: ${got?.toString()}`));
    await act((reply) => `req received "${text(reply)}"`, () => req.receive());
  }

  scene('REQ/REP: a second send without receiving the reply');
  await act(() => `req sent "first request" (req is now in ${stateName(req.getSnapshot().value)})`, () => req.send('first request'));
  await act(
    (err) => (err === undefined ? 'the second send went through (unexpected!)' : [`the second send fails: ${err.code}`, `"${err.message}"`]),
    async () => {
      try {
        await req.send('second request');
        return undefined;
      } catch (e) {
        return e as { code: string; message: string };
      }
    },
  );
  step(`the machine still waits for the first reply (${stateName(req.getSnapshot().value)}); nothing was sent`);
  await act('rep received "first request" and replied', async () => {
    const [pending] = await rep.receive();
    await rep.send(`answer to: ${pending?.toString()}`);
  });
  await act((reply) => `req received "${text(reply)}"; back to idle, a send is allowed again`, () => req.receive());

  await act('req and rep closed', () => {
    req.close();
    rep.close();
  });
}
