// Scene: our sockets and real libzmq (the `zeromq` package) over tcp, including a libzmq peer that
// goes away and comes back on the same port while our Push keeps queueing for it.

import * as zmq from 'zeromq';
import { Context, Push, Reply, Request } from '../src/index.js';
import type { Socket, SocketEvent } from '../src/index.js';
import { scene, step, text, watch } from './show.js';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

/** Rejects if `promise` has not settled after `ms`: every wait in this scene is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves on the next monitor event of `type` that `socket` emits. */
function nextEvent(socket: Socket, type: SocketEvent['type'], ms = 3000): Promise<SocketEvent> {
  let listener: ((e: SocketEvent) => void) | undefined;
  const seen = new Promise<SocketEvent>((resolve) => {
    listener = (e) => {
      if (e.type === type) resolve(e);
    };
    socket.events.on('*', listener);
  });
  return within(seen, ms, `a "${type}" event`).finally(() => socket.events.off('*', listener as never));
}

/** Binds a libzmq socket to `address`, retrying while the OS still holds the port (bounded). */
async function bindAgain(socket: zmq.Socket, address: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await socket.bind(address);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function libzmqScene(): Promise<void> {
  const context = new Context();
  const theirs: zmq.Socket[] = [];
  const ours: { close(): void }[] = [];
  let stopShowing = () => {};
  try {
    scene('libzmq over tcp: our Push, a libzmq Pull that restarts');

    const pull1 = new zmq.Pull({ linger: 0, receiveTimeout: 3000 });
    theirs.push(pull1);
    await pull1.bind('tcp://127.0.0.1:*');
    const address = pull1.lastEndpoint as string;
    step(`libzmq Pull bound ${address} (a free port, read from lastEndpoint)`);

    // libzmq's default reconnect interval, stated here because the scene relies on it being short.
    const push = watch('push', new Push({ context, reconnectInterval: 100 }));
    ours.push(push);
    let retries = 0; // connect:retry events seen
    const gloss: Partial<Record<SocketEvent['type'], string>> = {
      connect: 'tcp connection open',
      handshake: 'ZMTP handshake done',
      disconnect: 'the peer went away',
    };
    const show = (e: SocketEvent) => {
      if (e.type === 'connect:retry') {
        // The first two tell the story; later ones would only repeat it.
        if (++retries <= 2) console.log(dim(`    [push event] connect:retry: next attempt in ${e.interval} ms`));
      } else if (gloss[e.type] !== undefined) {
        console.log(dim(`    [push event] ${e.type}: ${gloss[e.type]}${e.peer?.socketType ? ` (a ${e.peer.socketType})` : ''}`));
      }
    };
    push.events.on('*', show);
    stopShowing = () => push.events.off('*', show);
    const handshake = nextEvent(push, 'handshake');
    push.connect(address);
    step('push.connect() returned at once: its pipe is attached already (the machine is ready)');
    await handshake;
    step('our Push connected and finished the ZMTP handshake with libzmq');

    await push.send('hello libzmq');
    step(`libzmq Pull received "${text(await pull1.receive())}"`);

    scene('libzmq over tcp: the peer goes away');
    const gone = nextEvent(push, 'disconnect');
    pull1.close();
    step('libzmq Pull closed (linger 0)');
    await gone;
    const retried = nextEvent(push, 'connect:retry');
    for (const m of ['queued 1', 'queued 2', 'queued 3']) await push.send(m);
    step('sent "queued 1..3" while nobody listens: each send resolved at once,');
    step('  because a connecting Push keeps its pipe across reconnects and queues in it');
    step(`push machine still ${JSON.stringify(push.getSnapshot().value)}: the kept pipe is still attached`);
    await retried;
    await pause(150); // a visual pause: let a second retry show
    step(`our side keeps retrying: reconnectInterval ${push.reconnectInterval} ms plus a random jitter, as libzmq`);

    scene('libzmq over tcp: the peer comes back on the same port');
    const pull2 = new zmq.Pull({ linger: 0, receiveTimeout: 3000 });
    theirs.push(pull2);
    const back = nextEvent(push, 'handshake');
    await bindAgain(pull2, address);
    step(`a new libzmq Pull bound ${address}`);
    await back;
    step('our Push reconnected on its own; the queued messages flow:');
    for (let i = 0; i < 3; i++) step(`  libzmq Pull received "${text(await pull2.receive())}"`);

    scene('libzmq over tcp: REQ/REP round trips in both directions');
    const zrep = new zmq.Reply({ linger: 0, receiveTimeout: 3000, sendTimeout: 3000 });
    theirs.push(zrep);
    await zrep.bind('tcp://127.0.0.1:*');
    const req = new Request({ context, receiveTimeout: 3000 });
    ours.push(req);
    req.connect(zrep.lastEndpoint as string);
    await req.send('ping from monocoque');
    const [q1] = await zrep.receive();
    step(`libzmq Reply (bound ${zrep.lastEndpoint}) received "${q1?.toString()}"`);
    await zrep.send(`pong from libzmq ${zmq.version}`);
    step(`our Request received "${text(await req.receive())}"`);

    const rep = new Reply({ context, receiveTimeout: 3000 });
    ours.push(rep);
    await rep.bind('tcp://127.0.0.1:*');
    const zreq = new zmq.Request({ linger: 0, receiveTimeout: 3000, sendTimeout: 3000 });
    theirs.push(zreq);
    zreq.connect(rep.lastEndpoint as string);
    await zreq.send('ping from libzmq');
    const [q2] = await rep.receive();
    step(`our Reply (bound ${rep.lastEndpoint}) received "${q2?.toString()}"`);
    await rep.send('pong from monocoque');
    step(`libzmq Request received "${text(await zreq.receive())}"`);
  } finally {
    stopShowing();
    for (const s of ours) s.close();
    for (const s of theirs) s.close();
  }
}
