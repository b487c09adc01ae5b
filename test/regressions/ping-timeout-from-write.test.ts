// Our PING timeout counted from the moment the connection machine asked for the PING, not from
// when it was written. The engine writes on a microtask after the heartbeat timer's turn (or on a
// later turn when a batch is waiting), so a loop blocked in between for longer than the timeout
// wrote the PING only after the block and dropped the peer a millisecond later, before any peer
// could answer. Found against libzmq, where it failed about one run in ten (its PONG usually comes
// back within a millisecond, sometimes not); here a raw peer that answers 50 ms after each PING
// makes it fail every time without the fix.
//
//   heartbeat timer: sendPing ─┬─ (blocked 500 ms) ─┬─ PING written ─── 50 ms ─── PONG read
//                     old: armed here               new: armed here (timeout 300 ms)

import type { Socket as NetSocket } from 'node:net';
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { pongCommand } from '../../src/protocol/index.js';
import { Pair } from '../../src/socket/pair.js';
import { blockingContext, handshakeBytes, nextEvent, rawServer, track } from '../transport/helpers.js';

/** A raw PAIR peer that answers each PING with a PONG `lateMs` later, and counts the PINGs. */
function latePonger(lateMs: number, pings: number[]): (s: NetSocket) => void {
  return (s) => {
    const k = pings.push(0) - 1;
    s.write(handshakeBytes('PAIR'));
    let pending = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Each of our PINGs is a 9-byte command frame (4 PING, TTL, no context); nothing else comes.
      let at: number;
      while ((at = pending.indexOf('PING')) >= 0) {
        pending = pending.subarray(at + 4);
        pings[k] = (pings[k] as number) + 1;
        setTimeout(() => s.writable && s.write(pongCommand()), lateMs);
      }
    });
  };
}

/** Right after the first heartbeat timer's transition: the PING is asked for, not yet written. */
const afterPingAsked = (e: InspectionEvent): boolean =>
  e.type === '@xstate.snapshot' && (e.event as { type: string }).type.startsWith('xstate.after.heartbeatInterval');

describe('our PING timeout after a blocked loop', () => {
  it('counts from the PING write: a peer answering 50 ms after it keeps the connection', async () => {
    const pings: number[] = [];
    const server = await rawServer(latePonger(50, pings));
    const { context, blocked } = blockingContext(afterPingAsked, 500);
    const pair = track(new Pair({ context, heartbeatInterval: 100, heartbeatTimeout: 300 }));
    pair.connect(server.endpoint);
    await blocked;
    // Kept: the same connection gets two more PINGs, each answered late. Dropped: a disconnect.
    const kept = new Promise<string>((resolve) => {
      const check = setInterval(() => {
        if ((pings[0] as number) >= 3) {
          clearInterval(check);
          resolve('kept');
        }
      }, 10);
    });
    const dropped = nextEvent(pair, 'disconnect').then(() => 'dropped');
    expect(await Promise.race([kept, dropped])).toBe('kept');
    expect(pings.length).toBe(1); // one connection: no reconnect
  });
});
