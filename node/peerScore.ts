// Peer scoring for the networking layer: every penalty lowers a peer's score, scores recover
// exponentially toward 0, and a peer whose score falls to the threshold is banned for a while (the
// ban doubles for repeat offenders, up to a cap). Pure bookkeeping with an injected clock: p2p.ts
// turns a ban into a disconnect and refuses the peer's connections until the ban expires.

export interface PeerScoreOptions {
  /** A peer whose score falls to this value or below is banned. Default -100. */
  threshold?: number;
  /** Half-life of a penalty, in ms: a score of -80 is -40 after this long. Default 60 s. */
  halfLifeMs?: number;
  /** First ban duration, doubled for each later ban of the same peer. Default 60 s. */
  banMs?: number;
  /** Longest ban. Default 1 h. */
  maxBanMs?: number;
  /** Most peers tracked; entries that have recovered are dropped first. Default 10,000. */
  maxPeers?: number;
  now?: () => number;
}

export interface Penalty {
  /** Score after the penalty (≤ 0). */
  score: number;
  /** True when this penalty caused a ban (not when the peer was already banned). */
  banned: boolean;
  /** End of the ban in force, if any (ms since the epoch of `now`). */
  bannedUntil: number | undefined;
}

interface Entry {
  score: number;
  at: number;
  bans: number;
  bannedUntil: number;
}

export const DEFAULT_PENALTY = 10;

export class PeerScores {
  readonly threshold: number;
  private readonly halfLifeMs: number;
  private readonly banMs: number;
  private readonly maxBanMs: number;
  private readonly maxPeers: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: PeerScoreOptions = {}) {
    this.threshold = opts.threshold ?? -100;
    this.halfLifeMs = opts.halfLifeMs ?? 60_000;
    this.banMs = opts.banMs ?? 60_000;
    this.maxBanMs = opts.maxBanMs ?? 3_600_000;
    this.maxPeers = opts.maxPeers ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (!(this.threshold < 0)) throw new RangeError('peer score threshold must be negative');
    if (!(this.halfLifeMs > 0) || !(this.banMs > 0) || !(this.maxBanMs >= this.banMs)) throw new RangeError('peer score durations must be positive');
  }

  /** Lowers `peer`'s score by `weight` (> 0); bans it if the score reaches the threshold. */
  penalize(peer: string, weight = DEFAULT_PENALTY): Penalty {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new RangeError('penalty weight must be a positive finite number');
    const t = this.now();
    let e = this.entries.get(peer);
    if (e === undefined) {
      this.prune(t);
      e = { score: 0, at: t, bans: 0, bannedUntil: 0 };
      this.entries.set(peer, e);
    }
    // Already banned: the ban is the punishment; messages still in flight add nothing.
    if (e.bannedUntil > t) return { score: this.threshold, banned: false, bannedUntil: e.bannedUntil };
    e.score = this.decayed(e, t) - weight;
    e.at = t;
    if (e.score > this.threshold) return { score: e.score, banned: false, bannedUntil: undefined };
    e.bans += 1;
    e.bannedUntil = t + Math.min(this.maxBanMs, this.banMs * 2 ** Math.min(30, e.bans - 1));
    // The ban is the punishment; the peer starts from 0 once it is over.
    e.score = 0;
    return { score: this.threshold, banned: true, bannedUntil: e.bannedUntil };
  }

  /** Current score (0 for unknown peers; the threshold while banned). */
  score(peer: string): number {
    const e = this.entries.get(peer);
    if (e === undefined) return 0;
    const t = this.now();
    return e.bannedUntil > t ? this.threshold : this.decayed(e, t);
  }

  isBanned(peer: string): boolean {
    return this.bannedUntil(peer) !== undefined;
  }

  /** End of the ban in force on `peer`, or undefined. */
  bannedUntil(peer: string): number | undefined {
    const e = this.entries.get(peer);
    return e !== undefined && e.bannedUntil > this.now() ? e.bannedUntil : undefined;
  }

  /** Number of peers tracked (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private decayed(e: Entry, t: number): number {
    const dt = Math.max(0, t - e.at);
    const s = e.score * 2 ** (-dt / this.halfLifeMs);
    return s > -0.01 ? 0 : s;
  }

  /** Keeps the table bounded: forgets recovered, unbanned peers (and, if still full, the oldest). */
  private prune(t: number): void {
    if (this.entries.size < this.maxPeers) return;
    for (const [peer, e] of this.entries) {
      if (e.bannedUntil <= t && this.decayed(e, t) === 0 && e.bans === 0) this.entries.delete(peer);
    }
    for (const [peer, e] of this.entries) {
      if (this.entries.size < this.maxPeers) break;
      if (e.bannedUntil <= t) this.entries.delete(peer);
    }
  }
}
