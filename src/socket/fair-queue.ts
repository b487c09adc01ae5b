// Fair queueing: a socket reads its peers' pipes in turn, one message from each (RFC 28's
// fair-queued input), skipping pipes that are empty until they say they are readable again.

import type { Message } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import type { Peer } from './socket.js';

/**
 * @internal Fair queueing over the incoming pipes of a socket's peers (a socket's `inbound`; PUB
 * and XPUB do without, reading subscriptions as they arrive), telling which peer each message
 * came from (REQ, REP and ROUTER need it). A pipe joins when it reports `pipeReadable` and leaves
 * when a read finds it empty or it ends.
 */
export class FairQueue {
  /** Pipes with messages; each knows its place here (`readerSlot`), so one leaves in O(1). */
  #active: Pipe[] = [];
  #next = 0;
  /** The peer the last message returned by `read()` came from. */
  from: Peer | undefined = undefined;

  add(pipe: Pipe): void {
    if (pipe.readerSlot >= 0) return;
    pipe.readerSlot = this.#active.length;
    this.#active.push(pipe);
  }

  remove(pipe: Pipe): void {
    if (pipe.readerSlot >= 0) this.#takeOut(pipe.readerSlot);
  }

  read(): Message | undefined {
    const active = this.#active;
    while (active.length > 0) {
      if (this.#next >= active.length) this.#next = 0;
      const pipe = active[this.#next] as Pipe;
      const msg = pipe.read();
      if (msg !== undefined) {
        this.#next++;
        this.from = pipe.readerTag as Peer;
        return msg;
      }
      // Empty: the read armed its `pipeReadable`, so it rejoins on the next write.
      this.#takeOut(this.#next);
    }
    return undefined;
  }

  /** Forgets every pipe (the socket is released). */
  clear(): void {
    for (const pipe of this.#active) pipe.readerSlot = -1;
    this.#active.length = 0;
    this.#next = 0;
    this.from = undefined;
  }

  /** Swaps the pipe at `i` with the last one and drops it. */
  #takeOut(i: number): void {
    const active = this.#active;
    const gone = active[i] as Pipe;
    const last = active[active.length - 1] as Pipe;
    active[i] = last;
    last.readerSlot = i;
    active.pop();
    gone.readerSlot = -1;
  }

  /**
   * Whether any pipe holds a message. The empty pipes it passes leave, as in read(): a pipe read
   * down to its last message stays listed, and with many peers the list filled with them, so that
   * each look (a REQ's every send, every `readable`) walked one per peer.
   */
  get hasMessages(): boolean {
    const active = this.#active;
    while (active.length > 0) {
      const pipe = active[0] as Pipe;
      if (pipe.size > 0) return true;
      // A lone pipe stays: looking at it again costs no more, and it saves the REQ/REP round trip
      // (one peer) a rejoin per turn.
      if (active.length === 1) return false;
      pipe.read(); // arms its `pipeReadable`: it rejoins on the next write
      this.#takeOut(0);
    }
    return false;
  }
}
