// Replay protection for chains of signatures: every origin signature covers a sequence number, and a
// verifier keeps the last accepted number per stream, refusing any number ≤ it (gaps are allowed:
// readings get lost). Streams:
// - a device's readings and feedback share one stream keyed by the device address (one monotone
//   counter per device for everything it signs);
// - a service's commands to one device are keyed by serviceId ‖ deviceId (40 bytes).
// The verify functions record a claim only when the whole envelope verified, so a forged envelope
// with a high number cannot lock out the genuine ones.
import { toHex } from '../../lib/hex.js';

export interface SeqClaim {
  stream: Uint8Array;
  seq: number;
}

export class ReplayGuard {
  readonly #last = new Map<string, number>();

  /** `saved` is what `entries()` returned (e.g. reloaded from disk). */
  constructor(saved?: Iterable<readonly [string, number]>) {
    if (saved) for (const [k, v] of saved) this.#last.set(k, v);
  }

  /** Last accepted sequence number of a stream, if any. */
  last(stream: Uint8Array): number | undefined {
    return this.#last.get(toHex(stream));
  }

  isFresh(stream: Uint8Array, seq: number): boolean {
    const last = this.last(stream);
    return last === undefined || seq > last;
  }

  /**
   * Checks claims as one batch (in order; a stream may appear more than once, with increasing
   * numbers). Returns the index of the first stale claim and records nothing, or -1 after recording
   * all of them.
   */
  acceptAll(claims: readonly SeqClaim[]): number {
    const pending = new Map<string, number>();
    for (let i = 0; i < claims.length; i++) {
      const { stream, seq } = claims[i]!;
      const k = toHex(stream);
      const last = pending.get(k) ?? this.#last.get(k);
      if (last !== undefined && seq <= last) return i;
      pending.set(k, seq);
    }
    for (const [k, v] of pending) this.#last.set(k, v);
    return -1;
  }

  /** Records `seq` for `stream` if it is fresh; returns false for a replay. */
  accept(stream: Uint8Array, seq: number): boolean {
    return this.acceptAll([{ stream, seq }]) === -1;
  }

  /** Saved form: [stream hex, last seq] sorted by stream. */
  entries(): [string, number][] {
    return [...this.#last.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}
