// Security options (ZMQ_PLAIN_*, ZMQ_CURVE_*, ZMQ_ZAP_DOMAIN) as libzmq keeps them: which mechanism a
// socket speaks on tcp/ipc, in which role, with which credentials. Kept apart from the other options
// and from every machine context: these values include secrets (a password, a secret key) that must
// never reach a snapshot, an inspection event or an error message.

import { describeValue, ZmqError } from './errors.js';
import { curveKeyBytes, z85Encode } from './z85.js';

/** The mechanism a socket speaks, as ZMTP names it (lower case); `securityMechanism` reads NULL as `null`, as zeromq.js does. */
export type SecurityMechanism = 'null' | 'plain' | 'curve';

/** What a socket's security options add up to. Secrets are held here and nowhere else. */
export interface SecuritySettings {
  mechanism: SecurityMechanism;
  /** ZMQ_PLAIN_SERVER / ZMQ_CURVE_SERVER: this side checks credentials. */
  asServer: boolean;
  plainUsername: string | null;
  plainPassword: string | null;
  /** Our CURVE permanent public key (client: C; a server may set it, libzmq ignores it there). */
  curvePublicKey: Uint8Array | null;
  /** Our CURVE permanent secret key (client: c, server: s). */
  curveSecretKey: Uint8Array | null;
  /** The server's public key S, set on a client. */
  curveServerKey: Uint8Array | null;
  /** ZMQ_ZAP_DOMAIN: the domain ZAP requests name; NULL sockets ask ZAP only when it is set. */
  zapDomain: string;
}

/**
 * libzmq's `zap_enabled` (`session_base.cpp`): a mechanism other than NULL, or a ZAP domain. A NULL
 * socket asks ZAP only then; with it, a ZMTP 1.0/2.0 peer is refused for good.
 */
export function zapEnabled(s: Readonly<SecuritySettings> | undefined): boolean {
  return s !== undefined && (s.mechanism !== 'null' || s.zapDomain !== '');
}

export function defaultSecurity(): SecuritySettings {
  return {
    mechanism: 'null',
    asServer: false,
    plainUsername: null,
    plainPassword: null,
    curvePublicKey: null,
    curveSecretKey: null,
    curveServerKey: null,
    zapDomain: '',
  };
}

export const SECURITY_OPTIONS = [
  'plainServer', 'plainUsername', 'plainPassword', 'curveServer', 'curvePublicKey', 'curveSecretKey', 'curveServerKey', 'zapDomain',
] as const;

export type SecurityOptionName = (typeof SECURITY_OPTIONS)[number];

export function isSecurityOption(name: string): name is SecurityOptionName {
  return (SECURITY_OPTIONS as readonly string[]).includes(name);
}

/** libzmq's names, for error messages. */
const LIBZMQ: Record<SecurityOptionName, string> = {
  plainServer: 'ZMQ_PLAIN_SERVER',
  plainUsername: 'ZMQ_PLAIN_USERNAME',
  plainPassword: 'ZMQ_PLAIN_PASSWORD',
  curveServer: 'ZMQ_CURVE_SERVER',
  curvePublicKey: 'ZMQ_CURVE_PUBLICKEY',
  curveSecretKey: 'ZMQ_CURVE_SECRETKEY',
  curveServerKey: 'ZMQ_CURVE_SERVERKEY',
  zapDomain: 'ZMQ_ZAP_DOMAIN',
};

/** What kind of value a secret is, without showing it (nor its length): `a number`, `an object`, `a byte array`. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof Uint8Array) return 'a byte array';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A string option of at most 255 UTF-8 bytes (libzmq's limit for usernames, passwords, domains). */
function shortText(name: SecurityOptionName, value: unknown, secret: boolean): string {
  const shown = secret ? 'the value' : describeValue(value);
  if (typeof value !== 'string') throw new ZmqError('EINVAL', `option ${name} (${LIBZMQ[name]}): ${secret ? kindOf(value) : shown} is not a string`);
  const n = new TextEncoder().encode(value).length;
  if (n > 255) throw new ZmqError('EINVAL', `option ${name} (${LIBZMQ[name]}): ${shown} has ${n} bytes; the limit is 255`);
  return value;
}

/**
 * Applies one security option to `s` with libzmq's side effects (`options.cpp`): setting a PLAIN
 * username or password makes the socket a PLAIN client, `plainServer` a PLAIN server (false: back
 * to NULL), a CURVE key selects CURVE, `curveServerKey` makes a CURVE client, `curveServer` a CURVE
 * server (false: NULL). Validates first, so a refused value changes nothing. Error messages never
 * contain a password or a key.
 */
export function setSecurityOption(s: SecuritySettings, name: SecurityOptionName, value: unknown): void {
  switch (name) {
    case 'plainServer':
    case 'curveServer': {
      if (typeof value !== 'boolean') throw new ZmqError('EINVAL', `option ${name} (${LIBZMQ[name]}): ${describeValue(value)} is not a boolean`);
      s.asServer = value;
      s.mechanism = value ? (name === 'plainServer' ? 'plain' : 'curve') : 'null';
      return;
    }
    case 'plainUsername':
    case 'plainPassword': {
      // libzmq: an empty (NULL) value switches back to the NULL mechanism.
      if (value === null || value === '') {
        if (name === 'plainUsername') s.plainUsername = null;
        else s.plainPassword = null;
        s.mechanism = 'null';
        return;
      }
      const text = shortText(name, value, name === 'plainPassword');
      if (name === 'plainUsername') s.plainUsername = text;
      else s.plainPassword = text;
      s.asServer = false;
      s.mechanism = 'plain';
      return;
    }
    case 'curvePublicKey':
    case 'curveSecretKey':
    case 'curveServerKey': {
      const key = curveKey(name, value);
      if (name === 'curvePublicKey') s.curvePublicKey = key;
      else if (name === 'curveSecretKey') s.curveSecretKey = key;
      else {
        s.curveServerKey = key;
        s.asServer = false;
      }
      s.mechanism = 'curve';
      return;
    }
    case 'zapDomain':
      s.zapDomain = shortText(name, value ?? '', false);
      return;
  }
}

/**
 * A key option's 32 bytes (see `curveKeyBytes`). For the secret key, a string of the right length
 * that does not decode gets a message of its own: z85Decode's quotes the offending character or
 * group of five, which is part of the key.
 */
function curveKey(name: 'curvePublicKey' | 'curveSecretKey' | 'curveServerKey', value: unknown): Uint8Array {
  const option = `${name} (${LIBZMQ[name]})`;
  try {
    return curveKeyBytes(option, value);
  } catch (e) {
    const z85Length = typeof value === 'string' && (value.length === 40 || (value.length === 41 && value.charCodeAt(40) === 0));
    if (name !== 'curveSecretKey' || !z85Length) throw e;
    throw new ZmqError('EINVAL', `option ${option}: the value is not Z85 text (a character outside the Z85 alphabet, or a group of 5 worth more than 32 bits); give 40 Z85 characters or 32 bytes`);
  }
}

/** An option's value as zeromq.js reads it back: keys as Z85 text, unset strings as null. */
export function getSecurityOption(s: SecuritySettings, name: SecurityOptionName): string | boolean | null {
  switch (name) {
    case 'plainServer':
      return s.asServer && s.mechanism === 'plain';
    case 'curveServer':
      return s.asServer && s.mechanism === 'curve';
    case 'plainUsername':
      return s.plainUsername;
    case 'plainPassword':
      return s.plainPassword;
    case 'curvePublicKey':
      return s.curvePublicKey === null ? null : z85Encode(s.curvePublicKey);
    case 'curveSecretKey':
      return s.curveSecretKey === null ? null : z85Encode(s.curveSecretKey);
    case 'curveServerKey':
      return s.curveServerKey === null ? null : z85Encode(s.curveServerKey);
    case 'zapDomain':
      return s.zapDomain;
  }
}

/**
 * What a tcp/ipc bind or connect needs before it may start: a CURVE client needs its key pair and
 * the server's key, a CURVE server its secret key. Returns the problem in words, or undefined.
 */
export function missingCredentials(s: SecuritySettings): string | undefined {
  if (s.mechanism !== 'curve') return undefined;
  if (s.asServer) return s.curveSecretKey === null ? 'a CURVE server needs curveSecretKey' : undefined;
  const missing = (['curveServerKey', 'curvePublicKey', 'curveSecretKey'] as const).filter((k) => s[k] === null);
  return missing.length === 0 ? undefined : `a CURVE client needs curveServerKey, curvePublicKey and curveSecretKey; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set`;
}
