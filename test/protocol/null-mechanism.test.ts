import { describe, expect, it } from 'vitest';
import {
  encodeMetadata,
  errorCommand,
  FrameDecoder,
  NullMechanism,
  readyCommand,
  type HandshakeStep,
} from '../../src/protocol/index.js';
import { ascii, hex, Recorder } from './helpers.js';

/** The data of a command frame, as the decoder would hand it to the mechanism. */
function dataOf(frame: Uint8Array): { name: string; data: Uint8Array } {
  const sink = new Recorder();
  new FrameDecoder().push(frame, sink);
  const [e] = sink.events;
  if (e === undefined || 'message' in e) throw new Error('expected a command');
  return { name: e.command, data: e.data };
}

function step(mech: NullMechanism, frame: Uint8Array): HandshakeStep {
  const { name, data } = dataOf(frame);
  return mech.onCommand(name, data);
}

describe('NULL mechanism', () => {
  it('starts with our READY frame, byte for byte as libzmq', () => {
    expect(Array.from(new NullMechanism({ socketType: 'SUB' }).start())).toEqual(
      Array.from(hex('04 19 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 03 53 55 42')),
    );
  });

  it('announces identity and metadata', () => {
    const ready = new NullMechanism({ socketType: 'DEALER', identity: ascii('d1'), metadata: { 'X-K': 'v' } }).start();
    expect(Array.from(ready)).toEqual(Array.from(readyCommand('DEALER', ascii('d1'), { 'X-K': 'v' })));
  });

  it('completes on a compatible READY and reports the peer', () => {
    const mech = new NullMechanism({ socketType: 'ROUTER' });
    const s = step(mech, readyCommand('DEALER', ascii('peer-1'), { 'X-App': 'a' }));
    expect(s.status).toBe('ready');
    if (s.status !== 'ready') return;
    expect(s.peer.socketType).toBe('DEALER');
    expect(Array.from(s.peer.identity ?? [])).toEqual(Array.from(ascii('peer-1')));
    expect(Object.keys(s.peer.properties)).toEqual(['Socket-Type', 'Identity', 'X-App']);
  });

  it('reports an absent Identity as undefined and an empty one as empty', () => {
    const sub = step(new NullMechanism({ socketType: 'PUB' }), readyCommand('SUB'));
    expect(sub.status === 'ready' && sub.peer.identity).toBeUndefined();
    const dealer = step(new NullMechanism({ socketType: 'DEALER' }), readyCommand('DEALER'));
    expect(dealer.status === 'ready' && dealer.peer.identity?.length).toBe(0);
  });

  it('matches property names case-insensitively on input', () => {
    const frame = new Uint8Array([0x04, 0, ...hex('05 52 45 41 44 59'), ...encodeMetadata({ 'SOCKET-TYPE': 'PUSH' })]);
    frame[1] = frame.length - 2;
    const s = step(new NullMechanism({ socketType: 'PULL' }), frame);
    expect(s.status === 'ready' && s.peer.socketType).toBe('PUSH');
  });

  it('accepts a READY without Socket-Type, as libzmq does', () => {
    const s = step(new NullMechanism({ socketType: 'PUSH' }), hex('04 06 05 52 45 41 44 59'));
    expect(s.status).toBe('ready');
    expect(s.status === 'ready' && s.peer.socketType).toBe('');
  });

  it('refuses an incompatible socket type, naming both types', () => {
    const s = step(new NullMechanism({ socketType: 'PUSH' }), readyCommand('PUB'));
    expect(s.status).toBe('error');
    if (s.status !== 'error') return;
    expect(s.violation.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
    expect(s.violation.message).toMatch(/PUSH/);
    expect(s.violation.message).toMatch(/PUB/);
  });

  it('refuses malformed metadata', () => {
    const s = step(new NullMechanism({ socketType: 'PUSH' }), hex('04 08 05 52 45 41 44 59 01 41'));
    expect(s.status === 'error' && s.violation.code).toBe('ERR_ZMTP_INVALID_METADATA');
  });

  it('turns a peer ERROR into a violation with its reason and ZAP status', () => {
    const s = step(new NullMechanism({ socketType: 'DEALER' }), errorCommand('400'));
    expect(s.status).toBe('error');
    if (s.status !== 'error') return;
    expect(s.violation.code).toBe('ERR_ZMTP_PEER_ERROR');
    expect(s.violation.reason).toBe('400');
    expect(s.violation.status).toBe(400);
    const other = step(new NullMechanism({ socketType: 'DEALER' }), errorCommand('go away'));
    expect(other.status === 'error' && other.violation.status).toBeUndefined();
    expect(other.status === 'error' && other.violation.reason).toBe('go away');
  });

  it('reports a malformed ERROR as such', () => {
    const s = new NullMechanism({ socketType: 'DEALER' }).onCommand('ERROR', hex('09 41'));
    expect(s.status === 'error' && s.violation.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_ERROR');
  });

  it('refuses any other command, and a second READY, as unexpected', () => {
    const mech = new NullMechanism({ socketType: 'PUSH' });
    const hello = mech.onCommand('HELLO', new Uint8Array(0));
    expect(hello.status === 'error' && hello.violation.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
    expect(step(mech, readyCommand('PULL')).status).toBe('ready');
    const again = step(mech, readyCommand('PULL'));
    expect(again.status === 'error' && again.violation.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
  });
});
