// What every mechanism shares (src/protocol/mechanism.ts): the ZAP verdict, command bodies as a
// cipher seals them, and the greeting's room for a plugged-in mechanism's name.

import { describe, expect, it } from 'vitest';
import {
  checkMechanism,
  commandBody,
  encodeCommand,
  encodeGreeting,
  errorCommand,
  GreetingDecoder,
  isViolation,
  splitCommandBody,
  zapRefusal,
  type ZapReply,
} from '../../src/protocol/index.js';
import { ascii, hex } from './helpers.js';

const reply = (status: ZapReply['status']): ZapReply => ({ status, statusText: 'why', userId: '', metadata: {} });

describe('mechanism helpers', () => {
  it('zapRefusal: 200 goes on; 300 fails silently; 400 and 500 fail with ERROR carrying the status', () => {
    expect(zapRefusal(reply(200))).toBeUndefined();
    const temporary = zapRefusal(reply(300));
    expect(temporary).toMatchObject({ status: 'error', violation: { code: 'ERR_ZAP_REFUSED', status: 300 } });
    expect(temporary?.send).toBeUndefined();
    for (const status of [400, 500] as const) {
      const s = zapRefusal(reply(status));
      expect(s).toMatchObject({ status: 'error', violation: { status } });
      expect(s?.send?.map((f) => Array.from(f))).toEqual([Array.from(errorCommand(String(status)))]);
      expect(s?.status === 'error' && s.violation.message).toContain('"why"');
    }
  });

  it('commandBody is the body of the command frame encodeCommand writes (RFC 37 grammar)', () => {
    expect(Array.from(commandBody('PING', hex('00 0a 4c')))).toEqual(Array.from(encodeCommand('PING', hex('00 0a 4c')).subarray(2)));
    expect(Array.from(commandBody('PONG', undefined))).toEqual(Array.from(hex('04 50 4f 4e 47')));
  });

  it('splitCommandBody takes a body apart, and refuses an empty name or one longer than the body', () => {
    const c = splitCommandBody(commandBody('SUBSCRIBE', ascii('topic')));
    expect(isViolation(c)).toBe(false);
    if (isViolation(c)) return;
    expect(c.name).toBe('SUBSCRIBE');
    expect(Array.from(c.data)).toEqual(Array.from(ascii('topic')));
    for (const bad of [new Uint8Array(0), hex('00 41'), hex('05 41 42')]) {
      const v = splitCommandBody(bad);
      expect(isViolation(v) && v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
    }
  });

  it('a plugged-in mechanism may announce its own name in the greeting; a name that cannot go there is EINVAL', () => {
    const g = encodeGreeting('X-XOR', false);
    const r = new GreetingDecoder().push(g);
    expect(r.done && r.greeting?.mechanism).toBe('X-XOR');
    if (!r.done || r.greeting === undefined) return;
    expect(checkMechanism('X-XOR', r.greeting)).toBeUndefined();
    expect(checkMechanism('NULL', r.greeting)?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
    for (const bad of ['', 'lower', 'A'.repeat(21), 'NUL\u0000L']) {
      expect(() => encodeGreeting(bad, false)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
  });
});
