// No secret leaves the place it is kept (a socket's security settings, the Authenticator's password
// table): not a PLAIN password, not a CURVE secret key, ours or a client's. PLAIN and CURVE handshakes
// between our sockets over tcp, accepted and refused, are watched by an inspector, by every socket's
// monitor events, and by snapshots; refused option values collect error messages. Everything is then
// serialised as an inspector would send it (and walked, toJSON or not) and searched for each secret as
// text, hex, base64, Z85 and raw bytes. A control plants one secret, so the search is shown to find one.

import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import '../../src/transport/register-node.js';
import type { ZmqError } from '../../src/core/errors.js';
import { z85Decode, z85Encode } from '../../src/core/z85.js';
import { curveKeyPair } from '../../src/protocol/curve-keys.js';
import { loadSodium } from '../../src/protocol/sodium.js';
import { Authenticator } from '../../src/socket/authenticator.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import type { EventType, SocketEvent } from '../../src/socket/events.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();
beforeAll(() => loadSodium());

/** A secret and the text a user gives it as (a password as is, a key as Z85). */
interface Secret {
  name: string;
  bytes: Uint8Array;
  text: string;
}

const password = (name: string, value: string): Secret => ({ name, bytes: Buffer.from(value, 'utf8'), text: value });
const secretKey = (name: string, z85: string): Secret => ({ name, bytes: z85Decode(z85), text: z85 });

/**
 * The forms a secret could take in text: as given, hex (either case), base64 and base64url at each of
 * the three alignments it could start at inside longer data, and Z85 (a key's given form; for a
 * password of a multiple of 4 bytes, its encoding).
 */
function textForms(s: Secret): { form: string; needle: string }[] {
  const hex = Buffer.from(s.bytes).toString('hex');
  const forms = [
    { form: 'text', needle: s.text },
    { form: 'hex', needle: hex },
    { form: 'HEX', needle: hex.toUpperCase() },
  ];
  for (let k = 0; k < 3; k++) {
    // With k bytes before it, the secret fills whole base64 groups from group ceil(k/3) on.
    const g = Math.ceil(k / 3);
    const whole = Math.floor((s.bytes.length - (3 * g - k)) / 3);
    const prefixed = Buffer.concat([Buffer.alloc(k), s.bytes]);
    for (const enc of ['base64', 'base64url'] as const) {
      forms.push({ form: `${enc}@${k}`, needle: prefixed.toString(enc).slice(4 * g, 4 * (g + whole)) });
    }
  }
  if (s.bytes.length % 4 === 0) forms.push({ form: 'z85', needle: z85Encode(s.bytes) });
  return forms;
}

/** Strings and byte arrays reachable from `roots` through own properties (toJSON ignored), Maps and Sets. */
function walk(roots: unknown[], onString: (s: string) => void, onBytes: (b: Uint8Array) => void): void {
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') onString(v);
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      onBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      continue;
    }
    if (v instanceof ArrayBuffer) {
      onBytes(new Uint8Array(v));
      continue;
    }
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    if (v instanceof Error) stack.push(v.message, v.stack, v.cause);
    for (const key of Object.getOwnPropertyNames(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d !== undefined && 'value' in d) stack.push(key, d.value);
    }
  }
}

/** Everything as one JSON text, as an inspector would send it: bytes as hex, errors with their message. */
function serialise(items: unknown[]): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(items, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key]; // before toJSON: a Buffer arrives here as itself
    if (raw instanceof Uint8Array) return `hex:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')}`;
    if (raw instanceof Error) {
      const e = raw as ZmqError & { status?: number };
      return { name: e.name, message: e.message, code: e.code, status: e.status, address: e.address, stack: e.stack, cause: e.cause };
    }
    if (value instanceof Map) return [...value];
    if (value instanceof Set) return [...value];
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[seen]';
      seen.add(value);
    }
    if (typeof value === 'bigint') return String(value);
    return value;
  });
}

/** Where each secret was found among `items`, as "name as form in where"; empty when nowhere. */
function findSecrets(items: unknown[], secrets: Secret[]): string[] {
  const found: string[] = [];
  const json = serialise(items);
  const strings: string[] = [json];
  const arrays: Uint8Array[] = [];
  walk(items, (s) => strings.push(s), (b) => arrays.push(b));
  for (const s of secrets) {
    const forms = textForms(s);
    for (const [i, str] of strings.entries()) {
      const where = i === 0 ? 'the serialisation' : 'a string reached by walking';
      for (const { form, needle } of forms) if (str.includes(needle)) found.push(`${s.name} as ${form} in ${where}`);
      // Bytes carried inside a string (as latin1 or UTF-8).
      if (Buffer.from(str, 'latin1').indexOf(s.bytes) >= 0 || Buffer.from(str, 'utf8').indexOf(s.bytes) >= 0) {
        found.push(`${s.name} as bytes inside a string`);
      }
    }
    for (const a of arrays) if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).indexOf(s.bytes) >= 0) found.push(`${s.name} as raw bytes`);
  }
  return [...new Set(found)];
}

/** The next event of `type` on the socket (`*`: the next of the types matching `pred`). */
function nextEvent(socket: Socket, type: EventType | '*', pred: (e: SocketEvent) => boolean = () => true): Promise<SocketEvent & { error: ZmqError & { status?: number } }> {
  return new Promise((resolve) => {
    const on = (e: SocketEvent): void => {
      if (!pred(e)) return;
      socket.events.off(type, on);
      resolve(e as never);
    };
    socket.events.on(type, on);
  });
}

/** The error a call throws (every one is EINVAL here). */
function thrown(call: () => unknown): ZmqError {
  try {
    call();
  } catch (e) {
    expect((e as ZmqError).code).toBe('EINVAL');
    return e as ZmqError;
  }
  throw new Error('expected the call to throw');
}

const handshakeFailure = (e: SocketEvent): boolean => e.type.startsWith('handshake:error:');

describe('secrets', () => {
  it('no password or secret key appears in inspection events, snapshots, monitor events or errors', async () => {
    const PASSWORD = 'c0rrect-h0rse-42'; // 16 bytes: Z85 can encode it too
    const WRONG = 'n0t-the-passw0rd';
    const server = curveKeyPair();
    const known = curveKeyPair();
    const stranger = curveKeyPair();
    const misled = curveKeyPair();
    const secrets = [
      password('the PLAIN password', PASSWORD),
      password('the wrong PLAIN password', WRONG),
      secretKey("the server's secret key", server.secretKey),
      secretKey("the known client's secret key", known.secretKey),
      secretKey("the unknown client's secret key", stranger.secretKey),
      secretKey("the misled client's secret key", misled.secretKey),
    ];

    const inspections: InspectionEvent[] = [];
    const context = new Context({ inspect: (e) => inspections.push(e) });
    const monitor: SocketEvent[] = [];
    const sockets: Socket[] = [];
    /** A socket of this Context whose every monitor event is kept. */
    const watched = <T extends Socket>(s: T): T => {
      sockets.push(track(s));
      s.events.on('*', (e) => monitor.push(e));
      return s;
    };
    const snapshots: unknown[] = [];
    const errors: unknown[] = [];

    const auth = new Authenticator({ context });
    try {
      auth.configurePlain({ admin: PASSWORD });
      auth.configureCurve([known.publicKey]);
      await auth.start();

      // PLAIN, accepted: a message each way.
      const plainServer = watched(new Router({ context, plainServer: true }));
      await plainServer.bind('tcp://127.0.0.1:*');
      const plainClient = watched(new Dealer({ context, plainUsername: 'admin', plainPassword: PASSWORD }));
      plainClient.connect(plainServer.lastEndpoint!);
      await plainClient.send('plain hello');
      const [id, hello] = await plainServer.receive();
      expect(hello.toString()).toBe('plain hello');
      await plainServer.send([id, 'plain answer']);
      expect(text(await plainClient.receive())).toEqual(['plain answer']);

      // PLAIN, refused: a wrong password.
      const refusedPlain = nextEvent(plainServer, 'handshake:error:auth');
      const wrongClient = watched(new Dealer({ context, plainUsername: 'admin', plainPassword: WRONG }));
      const wrongClientFailed = nextEvent(wrongClient, 'handshake:error:auth');
      wrongClient.connect(plainServer.lastEndpoint!);
      expect([(await refusedPlain).error.status, (await wrongClientFailed).error.status]).toEqual([400, 400]);

      // CURVE, accepted: the known client, a message each way.
      const curveServer = watched(new Router({ context, curveServer: true, curveSecretKey: server.secretKey }));
      await curveServer.bind('tcp://127.0.0.1:*');
      const curveClient = watched(new Dealer({ context, curveServerKey: server.publicKey, curvePublicKey: known.publicKey, curveSecretKey: known.secretKey }));
      curveClient.connect(curveServer.lastEndpoint!);
      await curveClient.send('curve hello');
      const [cid, chello] = await curveServer.receive();
      expect(chello.toString()).toBe('curve hello');
      await curveServer.send([cid, 'curve answer']);
      expect(text(await curveClient.receive())).toEqual(['curve answer']);

      // CURVE, refused: a key the Authenticator does not know.
      const refusedCurve = nextEvent(curveServer, 'handshake:error:auth');
      const strangerClient = watched(new Dealer({ context, curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: z85Decode(stranger.secretKey) }));
      const strangerFailed = nextEvent(strangerClient, 'handshake:error:auth');
      strangerClient.connect(curveServer.lastEndpoint!);
      expect([(await refusedCurve).error.status, (await strangerFailed).error.status]).toEqual([400, 400]);

      // CURVE, a client with the wrong server key: its HELLO does not open at the server.
      const unopened = nextEvent(curveServer, 'handshake:error:protocol');
      const misledClient = watched(new Dealer({ context, curveServerKey: curveKeyPair().publicKey, curvePublicKey: misled.publicKey, curveSecretKey: misled.secretKey }));
      const misledFailed = nextEvent(misledClient, '*', handshakeFailure);
      misledClient.connect(curveServer.lastEndpoint!);
      expect((await unopened).error.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      await misledFailed;

      // Refused option values that carry a secret.
      const probe = watched(new Push({ context }));
      errors.push(
        thrown(() => (probe.plainPassword = `${PASSWORD}${'x'.repeat(250)}`)),
        thrown(() => (probe.plainPassword = Buffer.from(PASSWORD) as never)),
        thrown(() => new Push({ context, plainUsername: 'admin', plainPassword: [PASSWORD] as never })),
        thrown(() => (probe.curveSecretKey = server.secretKey.slice(0, 39))),
        thrown(() => (probe.curveSecretKey = `${known.secretKey.slice(0, 39)}~`)),
        thrown(() => (probe.curveSecretKey = `${known.secretKey}=`)),
        thrown(() => (probe.curveSecretKey = z85Decode(stranger.secretKey).subarray(0, 31))),
        thrown(() => auth.configurePlain({ admin: `${PASSWORD}${'y'.repeat(250)}` })),
      );
      const keyed = watched(new Push({ context, curveSecretKey: misled.secretKey }));
      errors.push(thrown(() => keyed.connect('tcp://127.0.0.1:5555')));

      expect(monitor.some((e) => e.type === 'handshake')).toBe(true);
      expect(monitor.filter(handshakeFailure).length).toBeGreaterThanOrEqual(5);
      for (const s of sockets) snapshots.push(s.getSnapshot());
      snapshots.push(auth.getSnapshot(), context.supervisor.getSnapshot());
    } finally {
      await auth.stop();
    }
    for (const s of sockets) s.close();
    await Promise.all(sockets.map((s) => s.whenReleased()));
    for (const s of sockets) snapshots.push(s.getSnapshot());
    snapshots.push(auth.getSnapshot());

    const collected = { inspections, monitor: monitor.filter((e) => e.type.startsWith('handshake') || e.type === 'disconnect'), allMonitor: monitor, snapshots, errors };
    expect(inspections.length).toBeGreaterThan(100);
    expect(findSecrets([collected], secrets)).toEqual([]);

    // The control: the same search over the same collection finds a secret planted in it, in each form.
    const planted = (thing: unknown): string[] => findSecrets([collected, { planted: thing }], secrets);
    expect(planted(PASSWORD)).toContain('the PLAIN password as text in the serialisation');
    expect(planted(server.secretKey)).toContain("the server's secret key as text in the serialisation");
    expect(planted(z85Decode(known.secretKey))).toEqual(expect.arrayContaining(["the known client's secret key as hex in the serialisation", "the known client's secret key as raw bytes"]));
    expect(planted(`x${Buffer.from(z85Decode(stranger.secretKey)).toString('base64')}`)).toContain("the unknown client's secret key as base64@0 in the serialisation");
    expect(planted(Buffer.concat([Buffer.from('ab'), Buffer.from(WRONG)]).toString('base64url'))).toContain('the wrong PLAIN password as base64url@2 in the serialisation');
    expect(planted(z85Encode(Buffer.from(WRONG)))).toContain('the wrong PLAIN password as z85 in the serialisation');
    expect(planted(new Error(`oops ${Buffer.from(z85Decode(misled.secretKey)).toString('hex').toUpperCase()}`))).toContain("the misled client's secret key as HEX in the serialisation");
    expect(planted(Buffer.from(z85Decode(misled.secretKey)).toString('latin1'))).toContain("the misled client's secret key as bytes inside a string");
  });

  it('an EINVAL about a password or secret key names the option and quotes none of the value', () => {
    const s = track(new Push({ context: new Context() }));
    // Fixed bytes, so that a 4-character match by chance cannot come and go between runs.
    const key = z85Encode(new Uint8Array(32).map((_, i) => (i * 41 + 13) & 0xff));
    const pass = 'Sw0rdf1sh-Qu4ck!';
    const bad = [
      `#${key.slice(1)}`, // its first group of five is worth more than 32 bits
      `${key.slice(0, 20)}~${key.slice(21)}`, // a character outside Z85
      `${key.slice(0, 39)}\u00e9`, // outside ASCII
      key.slice(0, 39),
      `${key}${key.slice(0, 5)}`,
    ];
    const said = [/not Z85 text/, /not Z85 text/, /not Z85 text/, /40 characters; this one has 39/, /40 characters; this one has 45/];
    const messages: string[] = [];
    bad.forEach((value, i) => {
      const e = thrown(() => (s.curveSecretKey = value));
      expect(e.message).toMatch(/curveSecretKey \(ZMQ_CURVE_SECRETKEY\)/);
      expect(e.message).toMatch(said[i]);
      messages.push(e.message);
    });
    const passwords: [unknown, RegExp][] = [
      [`${pass}${'z'.repeat(250)}`, /has 266 bytes; the limit is 255/],
      [12345678, /a number is not a string/],
      [{ pass }, /an object is not a string/],
      [Buffer.from(pass), /a byte array is not a string/],
    ];
    for (const [value, what] of passwords) {
      const e = thrown(() => (s.plainPassword = value as never));
      expect(e.message).toMatch(/plainPassword \(ZMQ_PLAIN_PASSWORD\)/);
      expect(e.message).toMatch(what);
      messages.push(e.message);
    }
    const windows = (v: string): string[] => Array.from({ length: v.length - 3 }, (_, i) => v.slice(i, i + 4));
    for (const m of messages) {
      expect(windows(key).filter((w) => m.includes(w)), m).toEqual([]);
      expect(windows(pass).filter((w) => m.includes(w)), m).toEqual([]);
      expect(m).not.toContain('12345678');
    }
    expect([s.securityMechanism, s.curveSecretKey, s.plainPassword]).toEqual([null, null, null]);
  });
});
