// Socket type names as they travel in the Socket-Type property, and which pairs may connect
// (RFC 23 table, RFC 37 list, libzmq `mechanism.cpp check_socket_type`). Pure data, no IO.

/** Socket types as libzmq spells them on the wire. */
export const SOCKET_TYPES = [
  'REQ', 'REP', 'DEALER', 'ROUTER', 'PUB', 'XPUB', 'SUB', 'XSUB', 'PUSH', 'PULL', 'PAIR',
] as const;

/** One of {@link SOCKET_TYPES}. */
export type SocketTypeName = (typeof SOCKET_TYPES)[number];

const PEERS: Readonly<Record<SocketTypeName, readonly SocketTypeName[]>> = {
  REQ: ['REP', 'ROUTER'],
  REP: ['REQ', 'DEALER'],
  DEALER: ['REP', 'DEALER', 'ROUTER'],
  ROUTER: ['REQ', 'DEALER', 'ROUTER'],
  PUB: ['SUB', 'XSUB'],
  XPUB: ['SUB', 'XSUB'],
  SUB: ['PUB', 'XPUB'],
  XSUB: ['PUB', 'XPUB'],
  PUSH: ['PULL'],
  PULL: ['PUSH'],
  PAIR: ['PAIR'],
};

/** True when `name` is a socket type name exactly as spelled on the wire (upper case). */
export function isSocketType(name: string): name is SocketTypeName {
  return Object.prototype.hasOwnProperty.call(PEERS, name);
}

/**
 * True when a `local` socket may talk to a `remote` one. Names compare case-sensitively, as libzmq
 * compares them; unknown names never pair.
 */
export function canPair(local: string, remote: string): boolean {
  return isSocketType(local) && isSocketType(remote) && PEERS[local].includes(remote);
}

/** True for the types whose READY carries an Identity property (libzmq: REQ, DEALER, ROUTER). */
export function sendsIdentity(socketType: string): boolean {
  return socketType === 'REQ' || socketType === 'DEALER' || socketType === 'ROUTER';
}
