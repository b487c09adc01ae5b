// ZMTP 3.1 commands and metadata (RFC 37, RFC 23 "Metadata"): builders return whole frames, parsers
// take a command's data (the bytes after its name, as FrameDecoder hands it) and return violations.

import { ZmqError } from '../core/errors.js';
import { allocBytes, fromUtf8, isShortAscii, latin1, utf8, writeAscii } from './bytes.js';
import { encodeCommand } from './frame-encoder.js';
import { sendsIdentity } from './socket-types.js';
import { type Violation, violation } from './violation.js';

/** Property values as given to {@link encodeMetadata}: bytes, or a string sent as UTF-8. */
export type PropertyValue = Uint8Array | string;

/** Decoded metadata: property names exactly as the peer spelled them, values as bytes. */
export type Properties = Record<string, Uint8Array>;

/** Largest property value RFC 37 allows (value-len is uint32, at most 2^31-1). */
const MAX_VALUE_LENGTH = 0x7fffffff;

/** Maximum PING context, in octets (RFC 37 "PING"). */
export const MAX_PING_CONTEXT = 16;

/**
 * Encodes metadata properties (RFC 37: name-len(1) name value-len(4, BE) value), in key order.
 * Names must be 1..255 printable ASCII characters.
 */
export function encodeMetadata(props: Record<string, PropertyValue>): Uint8Array {
  const names = Object.keys(props);
  const values: Uint8Array[] = [];
  let size = 0;
  for (const name of names) {
    if (!isShortAscii(name)) {
      throw new ZmqError(
        'EINVAL',
        `property name ${JSON.stringify(name)} is invalid: use 1..255 printable ASCII characters`,
      );
    }
    const raw = props[name];
    const value = typeof raw === 'string' ? utf8(raw) : raw;
    if (value.length > MAX_VALUE_LENGTH) {
      throw new ZmqError('EINVAL', `property ${name} has ${value.length} bytes; the limit is 2^31-1`);
    }
    values.push(value);
    size += 1 + name.length + 4 + value.length;
  }
  const out = allocBytes(size);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = values[i];
    out[at++] = name.length;
    writeAscii(name, out, at);
    at += name.length;
    writeUint32(out, at, value.length);
    at += 4;
    out.set(value, at);
    at += value.length;
  }
  return out;
}

/**
 * Decodes metadata properties. Like libzmq (`mechanism.cpp parse_metadata`) the whole block is refused
 * when bytes remain that do not form a complete property; the first of duplicate names wins (libzmq keeps
 * them in a `std::map`). Values are views into one private copy of `data`, so keeping a property does not
 * keep the network chunk alive. The record has no prototype: a peer cannot name a property `__proto__`
 * into it.
 */
export function decodeMetadata(data: Uint8Array): Properties | Violation {
  const own = allocBytes(data.length);
  own.set(data);
  const props: Properties = Object.create(null) as Properties;
  let at = 0;
  const end = own.length;
  while (at < end) {
    const nameLength = own[at];
    if (at + 1 + nameLength + 4 > end) return badMetadata(at, end);
    const name = latin1(own, at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const valueLength = readUint32(own, at);
    at += 4;
    if (valueLength > end - at) return badMetadata(at - 5 - nameLength, end);
    if (!(name in props)) props[name] = own.subarray(at, at + valueLength);
    at += valueLength;
  }
  return props;
}

function badMetadata(at: number, end: number): Violation {
  return violation(
    'ERR_ZMTP_INVALID_METADATA',
    `metadata has ${end - at} trailing octets at offset ${at} that do not form a complete property`,
  );
}

/** Looks a property up by name, ignoring case (RFC 37: names are case-insensitive). */
export function getProperty(props: Properties, name: string): Uint8Array | undefined {
  const exact = props[name];
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  for (const key in props) {
    if (key.toLowerCase() === wanted) return props[key];
  }
  return undefined;
}

/**
 * The READY command frame for a socket (NULL mechanism READY, also the metadata shape of PLAIN INITIATE
 * and READY). Emits `Socket-Type` first and, for REQ, DEALER and ROUTER only, `Identity` (empty when
 * unset), byte for byte as libzmq does; `extra` properties (e.g. `X-*` application metadata) follow.
 */
export function readyCommand(
  socketType: string,
  identity?: Uint8Array,
  extra?: Record<string, PropertyValue>,
): Uint8Array {
  return encodeCommand('READY', socketMetadata(socketType, identity, extra));
}

/** The metadata block a socket announces: Socket-Type, Identity when its type sends one, then `extra`. */
export function socketMetadata(
  socketType: string,
  identity?: Uint8Array,
  extra?: Record<string, PropertyValue>,
): Uint8Array {
  const props: Record<string, PropertyValue> = { 'Socket-Type': socketType };
  if (sendsIdentity(socketType)) props.Identity = identity ?? new Uint8Array(0);
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) {
      const lower = key.toLowerCase();
      if (lower === 'socket-type' || lower === 'identity') continue;
      props[key] = extra[key];
    }
  }
  return encodeMetadata(props);
}

/**
 * The ERROR command frame (RFC 37: reason-len(1) reason). `reason` is ASCII text of at most 255
 * characters, e.g. a ZAP status "400".
 */
export function errorCommand(reason: string): Uint8Array {
  const bytes = utf8(reason);
  if (bytes.length > 255) {
    throw new ZmqError('EINVAL', `ERROR reason has ${bytes.length} bytes; the limit is 255`);
  }
  const data = allocBytes(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return encodeCommand('ERROR', data);
}

/**
 * The ERROR command frame as libzmq 4.3's PLAIN server sends it. Its `plain_common.hpp` spells the
 * prefix `"\x05ERROR"`, which C reads as the one escape `\x05E` (0x5E, '^') followed by "RROR": the
 * body is `5e 52 52 4f 52` + reason-len + reason, and libzmq's PLAIN and CURVE clients recognise only
 * that form (a correct ERROR is an unexpected command to them). NULL and the CURVE server send the
 * correct form. Our decoder reads both (see `FrameDecoder`).
 */
export function libzmqPlainErrorCommand(reason: string): Uint8Array {
  const bytes = utf8(reason);
  if (bytes.length > 255) {
    throw new ZmqError('EINVAL', `ERROR reason has ${bytes.length} bytes; the limit is 255`);
  }
  const size = 6 + bytes.length;
  const header = size <= 255 ? 2 : 9;
  const frame = allocBytes(header + size);
  if (size <= 255) {
    frame[0] = 0x04;
    frame[1] = size;
  } else {
    frame.fill(0, 0, 9);
    frame[0] = 0x06;
    frame[7] = size >>> 8;
    frame[8] = size & 0xff;
  }
  frame.set([0x5e, 0x52, 0x52, 0x4f, 0x52, bytes.length], header);
  frame.set(bytes, header + 6);
  return frame;
}

/**
 * Parses an ERROR command's data into its reason text. A reason length beyond the data is malformed
 * (libzmq `ERR_ZMTP_MALFORMED_COMMAND_ERROR`); extra bytes after the reason are ignored.
 */
export function parseError(data: Uint8Array): string | Violation {
  if (data.length < 1 || data[0] > data.length - 1) {
    return violation(
      'ERR_ZMTP_MALFORMED_COMMAND_ERROR',
      data.length < 1
        ? 'ERROR command has no reason length'
        : `ERROR command announces a ${data[0]}-octet reason but carries ${data.length - 1}`,
    );
  }
  return fromUtf8(data.subarray(1, 1 + data[0]));
}

/** The SUBSCRIBE command frame (ZMTP 3.1): the data is the topic. */
export function subscribeCommand(topic: Uint8Array): Uint8Array {
  return encodeCommand('SUBSCRIBE', topic);
}

/** The CANCEL command frame (ZMTP 3.1): the data is the topic. */
export function cancelCommand(topic: Uint8Array): Uint8Array {
  return encodeCommand('CANCEL', topic);
}

/**
 * The PING command frame (RFC 37): ttl(2, BE, deciseconds, 0..65535) and a context of 0..16 octets that
 * the peer echoes in its PONG.
 */
export function pingCommand(ttlDeciseconds: number, context?: Uint8Array): Uint8Array {
  if (!Number.isInteger(ttlDeciseconds) || ttlDeciseconds < 0 || ttlDeciseconds > 0xffff) {
    throw new ZmqError('EINVAL', `PING ttl ${ttlDeciseconds} is not an integer number of deciseconds in 0..65535`);
  }
  const contextLength = context === undefined ? 0 : context.length;
  if (contextLength > MAX_PING_CONTEXT) {
    throw new ZmqError('EINVAL', `PING context has ${contextLength} bytes; the limit is ${MAX_PING_CONTEXT}`);
  }
  const data = allocBytes(2 + contextLength);
  data[0] = ttlDeciseconds >>> 8;
  data[1] = ttlDeciseconds & 0xff;
  if (context !== undefined) data.set(context, 2);
  return encodeCommand('PING', data);
}

/** The PONG command frame: echoes a PING's context (at most 16 octets, see {@link parsePing}). */
export function pongCommand(context?: Uint8Array): Uint8Array {
  const contextLength = context === undefined ? 0 : context.length;
  if (contextLength > MAX_PING_CONTEXT) {
    throw new ZmqError('EINVAL', `PONG context has ${contextLength} bytes; the limit is ${MAX_PING_CONTEXT}`);
  }
  return encodeCommand('PONG', context);
}

/** A parsed PING. */
export interface Ping {
  /** Time to live in deciseconds; 0 = none. */
  ttl: number;
  /** Context to echo, a view truncated to 16 octets. */
  context: Uint8Array;
}

/**
 * Parses a PING command's data. A longer context is truncated to 16 octets, as libzmq does
 * (`zmtp_engine.cpp process_heartbeat_message`), rather than refused; fewer than 2 octets is malformed.
 */
export function parsePing(data: Uint8Array): Ping | Violation {
  if (data.length < 2) {
    return violation(
      'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED',
      `PING carries ${data.length} octets; it needs at least 2 for its ttl`,
    );
  }
  const end = Math.min(data.length, 2 + MAX_PING_CONTEXT);
  return { ttl: (data[0] << 8) | data[1], context: data.subarray(2, end) };
}

/**
 * A ZMTP 3.0 subscription message body (RFC 29 / libzmq `v2_encoder.cpp`): 0x01 then the topic to
 * subscribe, 0x00 then the topic to cancel. Sent as a single data frame to a 3.0 peer.
 */
export function subscriptionMessage(subscribe: boolean, topic: Uint8Array): Uint8Array {
  const body = allocBytes(1 + topic.length);
  body[0] = subscribe ? 1 : 0;
  body.set(topic, 1);
  return body;
}

/** A subscription request, whichever way it arrived. */
export interface Subscription {
  subscribe: boolean;
  /** The topic prefix, a view. */
  topic: Uint8Array;
}

/**
 * Recognises a subscription carried as a data message: a non-empty first frame starting with 0x01
 * (subscribe) or 0x00 (cancel). libzmq XPUB/PUB accept this form from any peer (`xpub.cpp`), 3.0 or 3.1.
 */
export function readSubscriptionMessage(firstFrame: Uint8Array): Subscription | undefined {
  if (firstFrame.length === 0) return undefined;
  const b = firstFrame[0];
  if (b !== 0 && b !== 1) return undefined;
  return { subscribe: b === 1, topic: firstFrame.subarray(1) };
}

/** Recognises a ZMTP 3.1 SUBSCRIBE or CANCEL command by name; the topic is the command data. */
export function readSubscriptionCommand(name: string, data: Uint8Array): Subscription | undefined {
  if (name === 'SUBSCRIBE') return { subscribe: true, topic: data };
  if (name === 'CANCEL') return { subscribe: false, topic: data };
  return undefined;
}

function writeUint32(target: Uint8Array, at: number, v: number): void {
  target[at] = v >>> 24;
  target[at + 1] = (v >>> 16) & 0xff;
  target[at + 2] = (v >>> 8) & 0xff;
  target[at + 3] = v & 0xff;
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
