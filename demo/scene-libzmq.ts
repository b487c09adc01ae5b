// Scene: our sockets and real libzmq (the `zeromq` package) over tcp, including a libzmq peer that
// goes away and comes back on the same port while our Push keeps queueing for it.

import * as zmq from 'zeromq';
import { Context, Push, Reply, Request } from '../src/index.js';
import type { Socket, SocketEvent } from '../src/index.js';
import { act, detail, scene, stateName, step, text, watch } from './show.js';

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
    const address = await act(
      (address) => `libzmq Pull bound ${address} (a free port, read from lastEndpoint)`,
      async () => {
        await pull1.bind('tcp://127.0.0.1:*');
        return pull1.lastEndpoint as string;
      },
    );

    let retries = 0; // connect:retry events seen
    const gloss: Partial<Record<SocketEvent['type'], string>> = {
      connect: 'tcp connection open',
      handshake: 'ZMTP handshake done',
      disconnect: 'the peer went away',
    };
    const show = (e: SocketEvent) => {
      if (e.type === 'connect:retry') {
        // The first two tell the story; later ones would only repeat it.
        if (++retries <= 2) detail(`[push event] connect:retry: next attempt in ${e.interval} ms`);
      } else if (gloss[e.type] !== undefined) {
        detail(`[push event] ${e.type}: ${gloss[e.type]}${e.peer?.socketType ? ` (a ${e.peer.socketType})` : ''}`);
      }
    };
    const { push, handshake } = await act('push.connect() returned at once: its pipe is attached already (the machine is ready)', () => {
      // libzmq's default reconnect interval, stated here because the scene relies on it being short.
      const push = watch('push', new Push({ context, reconnectInterval: 100 }));
      ours.push(push);
      push.events.on('*', show);
      stopShowing = () => push.events.off('*', show);
      const handshake = nextEvent(push, 'handshake');
      push.connect(address);
      return { push, handshake };
    });
    await act('our Push connected and finished the ZMTP handshake with libzmq', () => handshake);

    await act(
      (got) => `libzmq Pull received "${text(got)}"`,
      async () => {
        await push.send('hello libzmq');
        return pull1.receive();
      },
    );

    scene('libzmq over tcp: the peer goes away');
    const retried = await act('libzmq Pull closed (linger 0)', async () => {
      const gone = nextEvent(push, 'disconnect');
      pull1.close();
      await gone;
      return { next: nextEvent(push, 'connect:retry') };
    });
    await act(
      ['sent "queued 1..3" while nobody listens: each send resolved at once,', 'because a connecting Push keeps its pipe across reconnects and queues in it'],
      async () => {
        for (const m of ['queued 1', 'queued 2', 'queued 3']) await push.send(m);
      },
    );
    step(`push machine still ${stateName(push.getSnapshot().value)}: the kept pipe is still attached`);
    await act(`our side keeps retrying: reconnectInterval ${push.reconnectInterval} ms plus a random jitter, as libzmq`, async () => {
      await retried.next;
      await pause(150); // a visual pause: let a second retry show
    });

    scene('libzmq over tcp: the peer comes back on the same port');
    const pull2 = new zmq.Pull({ linger: 0, receiveTimeout: 3000 });
    theirs.push(pull2);
    const back = nextEvent(push, 'handshake');
    // One step: the reconnect may finish while the bind is still being reported, and its events
    // then belong under this step whichever comes first.
    await act([`a new libzmq Pull bound ${address}`, 'our Push reconnected on its own'], async () => {
      await bindAgain(pull2, address);
      await back;
    });
    await act(
      (got) => ['the queued messages flowed:', ...got.map((m) => `libzmq Pull received "${text(m)}"`)],
      async () => [await pull2.receive(), await pull2.receive(), await pull2.receive()],
    );

    scene('libzmq over tcp: REQ/REP round trips in both directions');
    const zrep = new zmq.Reply({ linger: 0, receiveTimeout: 3000, sendTimeout: 3000 });
    theirs.push(zrep);
    const req = new Request({ context, receiveTimeout: 3000 });
    ours.push(req);
    await act(
      (got) => `libzmq Reply (bound ${zrep.lastEndpoint}) received "${text(got)}"`,
      async () => {
        await zrep.bind('tcp://127.0.0.1:*');
        req.connect(zrep.lastEndpoint as string);
        await req.send('ping from monocoque');
        return zrep.receive();
      },
    );
    await act(
      (got) => `our Request received "${text(got)}"`,
      async () => {
        await zrep.send(`pong from libzmq ${zmq.version}`);
        return req.receive();
      },
    );

    const rep = new Reply({ context, receiveTimeout: 3000 });
    ours.push(rep);
    const zreq = new zmq.Request({ linger: 0, receiveTimeout: 3000, sendTimeout: 3000 });
    theirs.push(zreq);
    await act(
      (got) => `our Reply (bound ${rep.lastEndpoint}) received "${text(got)}"`,
      async () => {
        await rep.bind('tcp://127.0.0.1:*');
        zreq.connect(rep.lastEndpoint as string);
        await zreq.send('ping from libzmq');
        return rep.receive();
      },
    );
    await act(
      (got) => `libzmq Request received "${text(got)}"`,
      async () => {
        await rep.send('pong from monocoque');
        return zreq.receive();
      },
    );
  } finally {
    stopShowing();
    await act('our sockets and the libzmq sockets closed', () => {
      for (const s of ours) s.close();
      for (const s of theirs) s.close();
    });
  }
}
