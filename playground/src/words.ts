// What the page says, in words a newcomer reads without knowing xstate or libzmq: what a state
// means for the socket, what a transition did, what a monitor event reports. The raw names stay
// on the page too (in titles, on hover), so the words never hide what the machine did.

import type { SocketEvent } from '../../src/browser.js';
import type { ChartTransition } from './chart-model.js';

/** What being in a state means, as a verb phrase for the socket (`REQ …`), by machine id then state key. */
const MEANING: Record<string, Record<string, string>> = {
  request: {
    idle: 'may send its next request',
    awaitingReply: 'waits for the reply (another send is refused)',
  },
  reply: {
    receiving: 'waits for the next request',
    replying: 'owes a reply (another receive is refused until it sends one)',
    peerGone: 'owes a reply to a peer that has left (the reply will be dropped)',
  },
  router: {
    noPeers: 'has nobody to route to',
    attached: 'knows its peers by their routing ids',
    off: 'drops what it cannot route',
    on: 'fails a send it cannot route (ROUTER_MANDATORY)',
  },
  push: {
    noPeers: 'has no peer: a send waits',
    ready: 'can send: a peer has room',
    mute: 'cannot send: every peer\'s queue is full, so a send waits',
  },
  dealer: {
    noPeers: 'has no peer: a send waits',
    ready: 'can send: a peer has room',
    mute: 'cannot send: every peer\'s queue is full, so a send waits',
  },
  pub: {
    noPeers: 'has no subscriber: what it publishes is dropped',
    flowing: 'publishes to every matching subscriber',
    congested: 'has a subscriber whose queue is full: messages for it are dropped',
  },
  sub: {
    noPeers: 'has no publisher',
    attached: 'is connected to a publisher',
  },
  pull: {
    noPeers: 'has no peer to receive from',
    attached: 'is connected and can receive',
  },
  pair: {
    unpaired: 'has no peer: send and receive wait',
    paired: 'has its one peer',
    ready: 'is paired and can send',
    mute: 'is paired, but its peer\'s queue is full: a send waits',
  },
};
const ANY_MACHINE: Record<string, string> = {
  open: 'is open',
  lingering: 'is closing: it waits for its queued messages to leave',
  closed: 'is closed',
  noPeers: 'has no peer',
};

/** What being in `path` means for a socket whose machine is `machineId` (by the innermost state that has words). */
export function meaning(machineId: string, path: string): string {
  const keys = path.split('.');
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string;
    const said = MEANING[machineId]?.[key] ?? ANY_MACHINE[key];
    if (said !== undefined) return said;
  }
  return `is in ${path}`;
}

/** What an event reports: either something the socket did (`sent its request`) or something that happened to it. */
const EVENTS: Record<string, { did?: string; happened?: string }> = {
  'request.sent': { did: 'sent its request' },
  'reply.received': { did: 'got its reply' },
  'request.received': { did: 'took a request' },
  'reply.sent': { did: 'sent its reply' },
  'peer.attached': { happened: 'A peer connected' },
  'peer.detached': { happened: 'A peer left' },
  'peer.identified': { happened: 'A peer told its routing id' },
  'pipe.muted': { happened: 'The queue to a peer filled up' },
  'pipe.ready': { happened: 'The queue to a peer drained to its low-water mark' },
  'subscription.added': { happened: 'A subscriber asked for a topic' },
  'subscription.removed': { happened: 'A subscriber dropped a topic' },
  subscribe: { did: 'subscribed to a topic' },
  unsubscribe: { did: 'unsubscribed from a topic' },
  'option.changed': { did: 'had an option changed' },
  configure: { did: 'was configured' },
  close: { did: 'was asked to close' },
  'pipes.drained': { happened: 'The last queued message left' },
  'linger.expired': { happened: 'The linger time ran out' },
};

/** What an action does, as a verb phrase for the socket; actions not listed are named as they are. */
const ACTIONS: Record<string, string> = {
  attachPeer: 'adds the peer to its table',
  detachPeer: 'removes the peer from its table',
  identifyPeer: 'notes the peer\'s routing id',
  rekeyPeer: 'files the peer under its new routing id',
  markMuted: 'marks that peer as mute',
  markReady: 'marks that peer ready',
  setOption: 'applies the option',
  recordRequest: 'notes which peer it asked',
  forgetRequest: 'forgets the request',
  discardReplies: 'drops stale replies',
  recordRequester: 'notes who asked',
  forgetRequester: 'forgets who asked',
  refusePeer: 'refuses it (a PAIR has only one peer)',
  refuseDuplicate: 'refuses it (that routing id is taken)',
  evictHolder: 'disconnects the peer that held that id',
  forgetPeer: 'forgets the peer',
  addSubscription: 'adds the topic to its filter',
  removeSubscription: 'removes the topic from its filter',
  countUp: 'counts the subscription',
  countDown: 'counts the subscription down',
  sendSubscription: 'tells its publishers',
  setHandover: 'applies ROUTER_HANDOVER',
  configure: 'applies the setting',
};

function sentence(s: string): string {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

function joinPhrases(list: string[]): string {
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1] as string}`;
}

/**
 * A state change in words: `REQ sent its request and now waits for the reply (another send is
 * refused).` or `A peer connected: PUSH can send: a peer has room.`
 */
export function narrateMove(who: string, machineId: string, eventType: string, entered: string[]): string {
  const now = joinPhrases(entered.map((p) => meaning(machineId, p)));
  const e = EVENTS[eventType];
  if (e?.did !== undefined) return sentence(`${who} ${e.did} and now ${now}`);
  if (e?.happened !== undefined) return sentence(`${e.happened}: ${who} now ${now}`);
  return sentence(`${who} heard ${eventType} and now ${now}`);
}

/** A transition that kept the state, in words: `A subscriber asked for a topic: PUB adds the topic to its filter.` */
export function narrateStay(who: string, eventType: string, t: ChartTransition | undefined): string {
  const e = EVENTS[eventType];
  const did = (t?.actions ?? []).map((a) => ACTIONS[a] ?? `runs ${a}`);
  const what = did.length > 0 ? joinPhrases(did) : 'does nothing';
  const state = ' (its state stays the same)';
  if (e?.did !== undefined) return sentence(`${who} ${e.did}: it ${what}${state}`);
  if (e?.happened !== undefined) return sentence(`${e.happened}: ${who} ${what}${state}`);
  return sentence(`${who} heard ${eventType}: it ${what}${state}`);
}

/** Where a socket starts, in words. */
export function narrateStart(who: string, machineId: string, leaves: string[]): string {
  return sentence(`${who} starts: it ${joinPhrases(leaves.map((p) => meaning(machineId, p)))}`);
}

/** A monitor event (`sock.events`) in words. */
export function narrateMonitor(who: string, e: SocketEvent, peerName: (e: SocketEvent) => string | undefined): string {
  const at = e.address ? ` ${e.address}` : '';
  const peer = peerName(e);
  const them = peer !== undefined ? peer : e.peer?.socketType !== undefined ? `a ${e.peer.socketType}` : 'a peer';
  switch (e.type) {
    case 'bind': return `${who} is bound to${at}: peers can connect there.`;
    case 'accept': return `${who} accepted a connection from ${them} on${at}.`;
    case 'connect': return `${who} connected to${at} (${them}).`;
    case 'connect:delay': return `${who} will connect to${at} once something binds there.`;
    case 'connect:retry': return `${who} tries${at} again in ${e.interval ?? '?'} ms.`;
    case 'disconnect': return `${who} lost its connection with ${them} on${at}.`;
    case 'close': return `${who} closed${at}.`;
    case 'end': return `${who} is closed: no more events.`;
    case 'handshake': return `${who} finished the handshake with ${them}.`;
    case 'peer:refused': return `${who} refused ${them}${at ? ` on${at}` : ''}: ${e.error?.message ?? 'its rules say no'}.`;
    default:
      return e.error ? `${who}: ${e.type} on${at}: ${e.error.code} ${e.error.message}` : `${who}: ${e.type}${at}.`;
  }
}
