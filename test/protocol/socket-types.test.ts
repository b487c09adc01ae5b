import { describe, expect, it } from 'vitest';
import { canPair, isSocketType, SOCKET_TYPES, sendsIdentity } from '../../src/protocol/index.js';

// PROTOCOL.md §7 / libzmq mechanism.cpp check_socket_type.
const VALID: Array<[string, string]> = [
  ['REQ', 'REP'], ['REQ', 'ROUTER'], ['REP', 'DEALER'], ['DEALER', 'DEALER'], ['DEALER', 'ROUTER'],
  ['ROUTER', 'ROUTER'], ['PUB', 'SUB'], ['PUB', 'XSUB'], ['XPUB', 'SUB'], ['XPUB', 'XSUB'],
  ['PUSH', 'PULL'], ['PAIR', 'PAIR'],
];

describe('socket types', () => {
  it('pairs exactly the twelve valid combinations, in both directions', () => {
    const valid = new Set(VALID.flatMap(([a, b]) => [`${a}-${b}`, `${b}-${a}`]));
    for (const a of SOCKET_TYPES) {
      for (const b of SOCKET_TYPES) {
        expect(canPair(a, b), `${a}-${b}`).toBe(valid.has(`${a}-${b}`));
      }
    }
  });

  it('compares names case-sensitively and refuses unknown names, as libzmq does', () => {
    expect(canPair('PUSH', 'pull')).toBe(false);
    expect(canPair('STREAM', 'STREAM')).toBe(false);
    expect(canPair('PUSH', '')).toBe(false);
    expect(isSocketType('toString')).toBe(false);
    expect(isSocketType('XPUB')).toBe(true);
  });

  it('says which types send Identity in READY (REQ, DEALER, ROUTER)', () => {
    expect(SOCKET_TYPES.filter(sendsIdentity)).toEqual(['REQ', 'DEALER', 'ROUTER']);
  });
});
