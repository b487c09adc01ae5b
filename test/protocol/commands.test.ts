import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  cancelCommand,
  decodeMetadata,
  encodeMetadata,
  errorCommand,
  FrameDecoder,
  getProperty,
  isViolation,
  parseError,
  parsePing,
  pingCommand,
  pongCommand,
  readSubscriptionCommand,
  readSubscriptionMessage,
  readyCommand,
  subscribeCommand,
  subscriptionMessage,
  type Properties,
} from '../../src/protocol/index.js';
import { ascii, hex, Recorder } from './helpers.js';

const bytes = (u: Uint8Array) => Array.from(u);

/** Decodes one command frame with the real decoder. */
function commandOf(frame: Uint8Array): { name: string; data: Uint8Array } {
  const sink = new Recorder();
  expect(new FrameDecoder().push(frame, sink)).toBeUndefined();
  const [event] = sink.events;
  if (event === undefined || 'message' in event) throw new Error('expected a command');
  return { name: event.command, data: event.data };
}

function props(data: Uint8Array): Properties {
  const p = decodeMetadata(data);
  if (isViolation(p)) throw new Error(p.message);
  return p;
}

describe('commands: READY (PROTOCOL.md §5, libzmq tests/testutil.hpp)', () => {
  it('DEALER READY carries Socket-Type and an empty Identity: 43 bytes', () => {
    const expected = hex(`04 29 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 06
                          44 45 41 4c 45 52 08 49 64 65 6e 74 69 74 79 00 00 00 00`);
    expect(bytes(readyCommand('DEALER'))).toEqual(bytes(expected));
    expect(expected.length).toBe(43);
  });

  it('SUB READY carries no Identity: 27 bytes', () => {
    const expected = hex('04 19 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 03 53 55 42');
    expect(bytes(readyCommand('SUB'))).toEqual(bytes(expected));
  });

  it('ROUTER READY matches DEALER but for the type name (libzmq includes an empty Identity)', () => {
    const frame = readyCommand('ROUTER');
    expect(frame.length).toBe(43);
    expect(bytes(frame.subarray(24, 30))).toEqual(bytes(ascii('ROUTER')));
  });

  it('REQ READY carries the identity it is given', () => {
    const { name, data } = commandOf(readyCommand('REQ', ascii('me')));
    expect(name).toBe('READY');
    const p = props(data);
    expect(Object.keys(p)).toEqual(['Socket-Type', 'Identity']);
    expect(bytes(p.Identity)).toEqual(bytes(ascii('me')));
  });

  it('a PUSH never sends Identity, even when given one', () => {
    const p = props(commandOf(readyCommand('PUSH', ascii('ignored'))).data);
    expect(Object.keys(p)).toEqual(['Socket-Type']);
  });

  it('extra properties follow Socket-Type and Identity; they cannot override them', () => {
    const p = props(commandOf(readyCommand('DEALER', undefined, { 'X-App': 'demo', 'socket-type': 'PUB' })).data);
    expect(Object.keys(p)).toEqual(['Socket-Type', 'Identity', 'X-App']);
    expect(new TextDecoder().decode(p['Socket-Type'])).toBe('DEALER');
    expect(new TextDecoder().decode(p['X-App'])).toBe('demo');
  });
});

describe('commands: metadata', () => {
  it('encodes a property as name-len, name, uint32 BE value-len, value', () => {
    expect(bytes(encodeMetadata({ 'X-A': hex('01 02') }))).toEqual(bytes(hex('03 58 2d 41 00 00 00 02 01 02')));
  });

  it('encodes string values as UTF-8', () => {
    expect(bytes(encodeMetadata({ 'X-B': 'é' }))).toEqual(bytes(hex('03 58 2d 42 00 00 00 02 c3 a9')));
  });

  it('decodes the empty block as no properties', () => {
    expect(Object.keys(props(new Uint8Array(0)))).toEqual([]);
  });

  it('refuses a block with a truncated property (libzmq EPROTO)', () => {
    for (const bad of ['03 58 2d 41 00 00 00 05 01', '03 58 2d', '01', '03 58 2d 41 00 00 00 00 07']) {
      const v = decodeMetadata(hex(bad));
      expect(isViolation(v), bad).toBe(true);
      expect(isViolation(v) && v.code).toBe('ERR_ZMTP_INVALID_METADATA');
    }
  });

  it('looks names up case-insensitively and keeps the exact spelling as key', () => {
    const p = props(hex('0b 73 6f 63 6b 65 74 2d 74 79 70 65 00 00 00 03 50 55 42'));
    expect(Object.keys(p)).toEqual(['socket-type']);
    expect(bytes(getProperty(p, 'Socket-Type')!)).toEqual(bytes(ascii('PUB')));
    expect(getProperty(p, 'Identity')).toBeUndefined();
  });

  it('keeps the first of duplicate names, as libzmq\'s map does', () => {
    const p = props(hex('01 41 00 00 00 01 31 01 41 00 00 00 01 32'));
    expect(bytes(p.A)).toEqual([0x31]);
  });

  it('cannot be confused by a property named __proto__, code or message', () => {
    const p = decodeMetadata(encodeMetadata({ ['__proto__']: 'x', code: 'y', message: 'z' }));
    expect(isViolation(p)).toBe(false);
    if (isViolation(p)) return;
    expect(Object.getPrototypeOf(p)).toBeNull();
    expect(Object.keys(p)).toEqual(['__proto__', 'code', 'message']);
    expect(new TextDecoder().decode(p['__proto__'])).toBe('x');
  });

  it('returns values that survive the chunk being overwritten', () => {
    const data = encodeMetadata({ Identity: ascii('abc') });
    const p = props(data);
    data.fill(0);
    expect(bytes(p.Identity)).toEqual(bytes(ascii('abc')));
  });

  it('decode(encode(props)) is identity', () => {
    const nameArb = fc.stringMatching(/^[A-Za-z0-9._+-]{1,20}$/);
    fc.assert(
      fc.property(fc.dictionary(nameArb, fc.uint8Array({ maxLength: 300 })), (dict) => {
        const p = props(encodeMetadata(dict));
        expect(Object.keys(p)).toEqual(Object.keys(dict));
        for (const k of Object.keys(dict)) expect(bytes(p[k])).toEqual(bytes(dict[k]));
      }),
    );
  });

  it('never throws on random metadata bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (data) => {
        decodeMetadata(data);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('commands: ERROR', () => {
  it('encodes ERROR "400" as PROTOCOL.md §6', () => {
    expect(bytes(errorCommand('400'))).toEqual(bytes(hex('04 0a 05 45 52 52 4f 52 03 34 30 30')));
  });

  it('parses the reason back', () => {
    expect(parseError(commandOf(errorCommand('Invalid socket type')).data)).toBe('Invalid socket type');
    expect(parseError(hex('00'))).toBe('');
  });

  it('refuses a reason length beyond the data', () => {
    const v = parseError(hex('05 34 30 30'));
    expect(isViolation(v) && v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_ERROR');
    expect(isViolation(parseError(new Uint8Array(0)))).toBe(true);
  });

  it('refuses to encode a reason over 255 bytes', () => {
    expect(() => errorCommand('x'.repeat(256))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('commands: subscriptions (PROTOCOL.md §8)', () => {
  it('encodes SUBSCRIBE "A" and CANCEL "A" as ZMTP 3.1 commands', () => {
    expect(bytes(subscribeCommand(ascii('A')))).toEqual(bytes(hex('04 0b 09 53 55 42 53 43 52 49 42 45 41')));
    expect(bytes(cancelCommand(ascii('A')))).toEqual(bytes(hex('04 08 06 43 41 4e 43 45 4c 41')));
  });

  it('encodes an empty-topic SUBSCRIBE (subscribe to all)', () => {
    expect(bytes(subscribeCommand(new Uint8Array(0)))).toEqual(bytes(hex('04 0a 09 53 55 42 53 43 52 49 42 45')));
  });

  it('builds ZMTP 3.0 subscription message bodies with a leading 1 or 0', () => {
    expect(bytes(subscriptionMessage(true, ascii('A')))).toEqual([0x01, 0x41]);
    expect(bytes(subscriptionMessage(false, ascii('A')))).toEqual([0x00, 0x41]);
  });

  it('recognises both forms on receipt', () => {
    const sub = commandOf(subscribeCommand(ascii('topic')));
    expect(readSubscriptionCommand(sub.name, sub.data)).toEqual({ subscribe: true, topic: ascii('topic') });
    const cancel = commandOf(cancelCommand(ascii('t')));
    expect(readSubscriptionCommand(cancel.name, cancel.data)).toEqual({ subscribe: false, topic: ascii('t') });
    expect(readSubscriptionCommand('PING', new Uint8Array(2))).toBeUndefined();
    expect(readSubscriptionMessage(hex('01 41'))).toEqual({ subscribe: true, topic: ascii('A') });
    expect(readSubscriptionMessage(hex('00'))).toEqual({ subscribe: false, topic: new Uint8Array(0) });
    expect(readSubscriptionMessage(hex('02 41'))).toBeUndefined();
    expect(readSubscriptionMessage(new Uint8Array(0))).toBeUndefined();
  });
});

describe('commands: PING/PONG (PROTOCOL.md §9, libzmq tests/test_heartbeats.cpp)', () => {
  it('encodes PING ttl 0 context "LOL"', () => {
    expect(bytes(pingCommand(0, ascii('LOL')))).toEqual(bytes(hex('04 0a 04 50 49 4e 47 00 00 4c 4f 4c')));
  });

  it('encodes the PONG reply echoing "LOL"', () => {
    expect(bytes(pongCommand(ascii('LOL')))).toEqual(bytes(hex('04 08 04 50 4f 4e 47 4c 4f 4c')));
  });

  it('encodes the ttl big-endian and an empty context', () => {
    expect(bytes(pingCommand(0x1234))).toEqual(bytes(hex('04 07 04 50 49 4e 47 12 34')));
    expect(bytes(pongCommand())).toEqual(bytes(hex('04 05 04 50 4f 4e 47')));
  });

  it('parses ttl and context', () => {
    const { name, data } = commandOf(pingCommand(65535, ascii('ctx')));
    expect(name).toBe('PING');
    const ping = parsePing(data);
    if (isViolation(ping)) throw new Error(ping.message);
    expect(ping.ttl).toBe(65535);
    expect(bytes(ping.context)).toEqual(bytes(ascii('ctx')));
  });

  it('truncates a context over 16 bytes, as libzmq does', () => {
    const data = new Uint8Array(2 + 20).map((_, i) => i);
    const ping = parsePing(data);
    if (isViolation(ping)) throw new Error(ping.message);
    expect(bytes(ping.context)).toEqual(bytes(data.subarray(2, 18)));
  });

  it('refuses a PING without a full ttl', () => {
    const v = parsePing(hex('00'));
    expect(isViolation(v) && v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
  });

  it('refuses to encode a ttl outside 0..65535 or a context over 16 bytes', () => {
    expect(() => pingCommand(65536)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pingCommand(-1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pingCommand(1.5)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pingCommand(0, new Uint8Array(17))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => pongCommand(new Uint8Array(17))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
