import { describe, expect, it } from 'vitest';
import {
  encodeGreeting,
  encodeMetadata,
  errorCommand,
  FrameDecoder,
  GreetingDecoder,
  type Greeting,
  type Mechanism,
  type MechanismStep,
  NullMechanism,
  readyCommand,
  type ZapReply,
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

function step(mech: Mechanism, frame: Uint8Array): MechanismStep {
  const { name, data } = dataOf(frame);
  return mech.onCommand(name, data);
}

/** A peer's greeting as the engine hands it to `start`. */
function peerGreeting(): Greeting {
  const r = new GreetingDecoder().push(encodeGreeting('NULL', false));
  if (!r.done || r.greeting === undefined) throw new Error('greeting did not decode');
  return r.greeting;
}

/** The one frame a step sends. */
function sentFrame(s: MechanismStep): number[] {
  expect(s.send?.length).toBe(1);
  return Array.from(s.send![0]);
}

const reply = (status: ZapReply['status']): ZapReply => ({ status, statusText: status === 200 ? 'OK' : 'no', userId: '', metadata: {} });

describe('NULL mechanism', () => {
  it('announces NULL with as-server 0 in the greeting', () => {
    const mech: Mechanism = new NullMechanism({ socketType: 'PUSH' });
    expect(mech.name).toBe('NULL');
    expect(mech.asServer).toBe(false);
  });

  it('starts by sending our READY frame, byte for byte as libzmq, and waits for the peer', () => {
    const s = new NullMechanism({ socketType: 'SUB' }).start(peerGreeting());
    expect(s.status).toBe('continue');
    expect(sentFrame(s)).toEqual(Array.from(hex('04 19 05 52 45 41 44 59 0b 53 6f 63 6b 65 74 2d 54 79 70 65 00 00 00 03 53 55 42')));
  });

  it('announces identity and metadata', () => {
    const s = new NullMechanism({ socketType: 'DEALER', identity: ascii('d1'), metadata: { 'X-K': 'v' } }).start(peerGreeting());
    expect(sentFrame(s)).toEqual(Array.from(readyCommand('DEALER', ascii('d1'), { 'X-K': 'v' })));
  });

  it('completes on a compatible READY and reports the peer, sending nothing more', () => {
    const mech = new NullMechanism({ socketType: 'ROUTER' });
    mech.start(peerGreeting());
    const s = step(mech, readyCommand('DEALER', ascii('peer-1'), { 'X-App': 'a' }));
    expect(s.send).toBeUndefined();
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

describe('NULL mechanism with a ZAP handler (libzmq: ZMQ_ZAP_DOMAIN set and a handler bound)', () => {
  it('asks ZAP first, with mechanism NULL and no credentials, and sends nothing yet', () => {
    const s = new NullMechanism({ socketType: 'PUSH', zap: true }).start(peerGreeting());
    expect(s.status).toBe('zap');
    if (s.status !== 'zap') return;
    expect(s.send).toBeUndefined();
    expect(s.request.mechanism).toBe('NULL');
    expect(s.request.credentials).toEqual([]);
  });

  it('a 200 before the peer READY sends our READY; the peer READY then completes', () => {
    const mech = new NullMechanism({ socketType: 'PUSH', zap: true });
    mech.start(peerGreeting());
    const accepted = mech.zapReplied(reply(200));
    expect(accepted.status).toBe('continue');
    expect(sentFrame(accepted)).toEqual(Array.from(readyCommand('PUSH')));
    const done = step(mech, readyCommand('PULL'));
    expect(done.status === 'ready' && done.peer.socketType).toBe('PULL');
  });

  it('a peer READY before the verdict waits for it; the 200 then sends our READY and completes', () => {
    const mech = new NullMechanism({ socketType: 'PUSH', zap: true });
    mech.start(peerGreeting());
    const held = step(mech, readyCommand('PULL'));
    expect(held).toEqual({ status: 'continue' });
    const done = mech.zapReplied(reply(200));
    expect(done.status).toBe('ready');
    expect(sentFrame(done)).toEqual(Array.from(readyCommand('PUSH')));
    expect(done.status === 'ready' && done.peer.socketType).toBe('PULL');
  });

  it('an incompatible peer READY fails at once, without waiting for the verdict', () => {
    const mech = new NullMechanism({ socketType: 'PUSH', zap: true });
    mech.start(peerGreeting());
    const s = step(mech, readyCommand('PUB'));
    expect(s.status === 'error' && s.violation.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
  });

  it('300 closes without a word; 400 and 500 send ERROR with the status as reason', () => {
    for (const status of [300, 400, 500] as const) {
      const mech = new NullMechanism({ socketType: 'PUSH', zap: true });
      mech.start(peerGreeting());
      const s = mech.zapReplied(reply(status));
      expect(s.status).toBe('error');
      if (s.status !== 'error') return;
      expect(s.violation.status).toBe(status);
      expect(s.violation.message).toContain(String(status));
      if (status === 300) expect(s.send).toBeUndefined();
      else expect(sentFrame(s)).toEqual(Array.from(errorCommand(String(status))));
    }
  });

  it('a ZAP reply nobody asked for is an error, naming its status', () => {
    const mech = new NullMechanism({ socketType: 'PUSH' });
    mech.start(peerGreeting());
    const s = mech.zapReplied(reply(200));
    expect(s.status === 'error' && s.violation.code).toBe('ERR_ZAP_UNSPECIFIED');
    expect(s.status === 'error' && s.violation.message).toContain('200');
  });
});
