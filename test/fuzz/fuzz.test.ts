// The malformed-stream fuzzer (scripts/fuzz.ts, `npm run fuzz`) in short: a fixed seed, then a few
// random ones (printed on failure, with the command that replays them). Every socket type, NULL,
// PLAIN and CURVE, binding and connecting, takes blind and interactive ZMTP streams, mutated and cut
// into random chunks, and still completes round trips with our peers and libzmq's.

import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { KnownBug } from './oracle.js';
import { closeFuzzResources, formatReport, runFuzz, seedText } from './runner.js';
import type { FuzzReport } from './runner.js';

/**
 * Bugs of src/ this fuzzer found (KNOWN_BUGS in oracle.ts), tolerated here until they are fixed:
 * the streams stay the same, the oracle permits what the socket does today. Delete an id once its
 * bug is fixed, and these runs hold src/ to it.
 */
const TOLERATED: KnownBug[] = [];

/** What must be zero after any run. */
function problems(r: FuzzReport) {
  return {
    crashes: r.crashes,
    hangs: r.hangs,
    wrongDeliveries: r.wrongDeliveries,
    lost: r.lost,
    refusedValid: r.refusedValid,
    badOutput: r.badOutput,
    apiErrors: r.apiErrors,
    fuzzerErrors: r.fuzzerErrors,
    roundTripFailures: r.roundTripFailures,
    fdChange: r.fdEnd - r.fdStart,
  };
}

const NONE = {
  crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, refusedValid: 0, badOutput: 0, apiErrors: 0, fuzzerErrors: 0, roundTripFailures: 0, fdChange: 0,
};

afterAll(() => closeFuzzResources());

describe('fuzzer: malformed ZMTP streams against every socket type, mechanism and role', () => {
  it('2,000 cases from a fixed seed: no crash, hang or wrong delivery, every round trip passes, descriptors back to start', async () => {
    const r = await runFuzz({ seed: 0x5eed2024, cases: 2000, every: 100, tolerate: TOLERATED });
    expect(problems(r), formatReport(r)).toEqual(NONE);
    // 80 sockets (all 66 combinations) either made their round trips or were closed with cases under
    // way; the streams got past handshakes with each mechanism, and many were valid throughout.
    expect(r.roundTrips / 2 + r.closedEarly).toBe(80);
    for (const m of ['NULL', 'PLAIN', 'CURVE']) expect(r.byMechanism[m].sessions, m).toBeGreaterThan(100);
    expect(r.strict).toBeGreaterThan(200);
  }, 120_000);

  it('random seeds, 300 cases each (a failure names the seed and the command that replays it)', async () => {
    for (let i = 0; i < 3; i++) {
      const seed = randomInt(0, 2 ** 32);
      const r = await runFuzz({ seed, cases: 300, every: 100, tolerate: TOLERATED });
      expect(problems(r), `seed ${seedText(seed)}\n${formatReport(r)}`).toEqual(NONE);
    }
  }, 120_000);
});
