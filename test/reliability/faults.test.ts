// Faults, the short run: under each of our connecting sockets, the bound peer (libzmq, in a child
// process, see faults.ts) is killed with SIGKILL and restarted at the same address 10 times, over tcp
// and over ipc, while multipart traffic flows. `npm run reliability` runs 200 restarts each and
// writes the figures (time to reconnect, messages lost per restart) to docs/reliability.md.

import { describe, expect, it } from 'vitest';
import { runFaults } from './faults.js';
import type { FaultSocket, FaultTransport } from './faults.js';

const RESTARTS = 10;
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

const CASES: { type: FaultSocket; what: string }[] = [
  { type: 'DEALER', what: 'every echo whole, once and in order; what was queued while the peer was down goes to the next one' },
  { type: 'REQ', what: 'relaxed and correlated: a request the dead peer took is given up at the disconnect, the next one is answered' },
  { type: 'SUB', what: 'the new publisher gets exactly the subscriptions of the moment (one changed while no peer was there)' },
  { type: 'PUSH', what: 'the PULL side gets every message whole, once and in order across peers' },
];

for (const transport of ['tcp', 'ipc'] as FaultTransport[]) {
  describe(`faults over ${transport}: the bound peer killed (SIGKILL) and restarted ${RESTARTS} times`, () => {
    for (const { type, what } of CASES) {
      it(`${type}: reconnects each time; ${what}`, async () => {
        const r = await runFaults({ type, transport, restarts: RESTARTS, reconnectInterval: 10 });
        expect(r.violations).toEqual([]);
        // One connection per peer, each seen to go.
        expect(r.handshakes).toBe(RESTARTS + 1);
        expect(r.disconnects).toBe(RESTARTS);
        expect(r.reconnectMs).toHaveLength(RESTARTS);
        // Every message is accounted for: delivered, or lost to one kill; none lost once no peer dies.
        expect(r.delivered + sum(r.lostPerRestart)).toBe(r.sent);
        expect(r.lostPerRestart[RESTARTS]).toBe(0);
        // A restart loses at most what was in flight: the window (REQ: the one request out).
        const bound = type === 'REQ' ? 1 : r.window;
        for (const lost of r.lostPerRestart) expect(lost).toBeLessThanOrEqual(bound);
        if (type === 'SUB') expect(r.subscriptionsRestored).toBe(RESTARTS + 1);
      }, 60_000);
    }
  });
}
