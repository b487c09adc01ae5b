// The byte stream a stream engine reads and writes: one connection's bytes, in order, both ways, with
// back-pressure. node:net implements it today (node-stream.ts), a WebSocket later. Bytes only: no
// ZMTP, no sockets, no timers of the engine's (an adapter may keep its own, e.g. for a grace time).

/** What a byte stream tells the one who reads it (a stream engine). */
export interface ByteStreamListener {
  /**
   * Bytes from the peer, in order. The listener may keep views into `chunk` (the frame decoder hands
   * out subarrays): an adapter never reuses a chunk's memory.
   */
  onStreamData(chunk: Uint8Array): void;
  /** The stream takes writes again after `write` returned false. */
  onStreamDrain(): void;
  /**
   * The peer will send nothing more (a TCP FIN) while the stream is not yet closed. Only streams that
   * can half-close report it; a WebSocket goes straight to `onStreamClose`. Not reported while reading
   * is paused (a paused node:net stream does not see the FIN).
   */
  onStreamEnd(): void;
  /** The stream is gone (either side closed it, or it failed). Reported once, last. */
  onStreamClose(): void;
}

/**
 * One connection's bytes, as a stream engine uses them.
 *
 * ```ts
 * stream.open(listener);               // data, drain, end and close go to the listener from now on
 * if (!stream.write(chunks)) waitFor('onStreamDrain');
 * stream.pause();                      // back-pressure towards the peer
 * stream.end(1000);                    // close once written, or after 1 s if the peer does not read
 * ```
 */
export interface ByteStream {
  /** Starts reporting to `listener`. Called once. */
  open(listener: ByteStreamListener): void;
  /**
   * Writes `chunks` in order, as one gathered write (node:net: corked; a WebSocket adapter: one
   * send). The chunks are referenced, not copied: their bytes must not change afterwards. Returns
   * false once the stream holds more than it wants: write again after `onStreamDrain`.
   */
  write(chunks: readonly Uint8Array[]): boolean;
  /** Stops reading: the peer's bytes wait in the stream and the kernel, and then in the peer (back-pressure). */
  pause(): void;
  /** Reads again after `pause`. */
  resume(): void;
  /**
   * Closes once everything written has left (our side's graceful close; a stream that can half-close
   * sends its FIN first), or after `graceMs` if the peer does not read (0: at once; < 0: no limit).
   */
  end(graceMs: number): void;
  /** Closes at once; unwritten bytes are lost. Idempotent. */
  destroy(): void;
}
