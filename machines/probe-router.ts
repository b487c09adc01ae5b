// ZMQ_PROBE_ROUTER, which DEALER, REQ and ROUTER take: a new peer first gets an empty message, before
// anything else goes to it (libzmq `dealer_t::xattach_pipe`, `router_t::xattach_pipe`; REQ is a
// dealer there). The rule, the option event and the effect's parameters the three machines share;
// each machine guards its `peer.attached` edge with the rule and names the `sendProbe` effect.

/** The option command that turns the probe on or off for peers that attach from then on. */
export interface ProbeRouterEvent {
  type: 'option.changed';
  name: 'probeRouter';
  value: boolean;
}

/** Parameters of the `sendProbe` effect: the new peer that gets the empty message. */
export interface ProbeParams {
  peerId: number;
}

/** Whether a new peer first gets an empty message (ZMQ_PROBE_ROUTER), before anything else goes to it. */
export function probesNewPeer(context: { probeRouter?: boolean }): boolean {
  return context.probeRouter === true;
}

/** The `sendProbe` effect's parameters for a `peer.attached` event. */
export function probeParams({ event }: { event: { type: string; peerId?: number } }): ProbeParams {
  return { peerId: event.peerId ?? -1 };
}

/** Whether an option event sets ZMQ_PROBE_ROUTER. */
export function setsProbeRouter({ event }: { event: { type: string; name?: string } }): boolean {
  return event.type === 'option.changed' && event.name === 'probeRouter';
}
