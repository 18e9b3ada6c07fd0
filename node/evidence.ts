// Equivocation evidence: two conflicting signed messages from one validator, kept in the node's
// database (PREFIX.EVIDENCE) so operators can query them and later the chain can act on them.
import type { KvStore } from '../state/kvStore.js';
import { PREFIX, prefixed } from '../state/prefixes.js';
import { uintBE, toHex } from '../lib/hex.js';
import { tuple, bytes, encode, decode } from '../lib/encoding.js';
import { sha256 } from '../crypto/hash.js';
import { encodeMessage, decodeMessage, MAX_CONSENSUS_MSG_BYTES } from '../consensus/messages.js';
import type { ConsensusMessage } from '../consensus/core/index.js';
import { errorMessage } from '../lib/errors.js';

const pairT = tuple<[Uint8Array, Uint8Array]>(bytes(MAX_CONSENSUS_MSG_BYTES), bytes(MAX_CONSENSUS_MSG_BYTES));

import type { EvidenceJson } from '../rpc/backend.js';

/** Evidence bytes one list() returns at most (beyond its first record). */
export const LIST_MAX_BYTES = 4 * 1024 * 1024;
/** Records kept per validator: one convicts; a few more show a pattern; beyond, only the log. */
export const MAX_EVIDENCE_PER_VALIDATOR = 16;
/** Bytes kept per validator (a ViewChange's prepared certificate can carry a whole block). */
export const MAX_EVIDENCE_BYTES_PER_VALIDATOR = 32 * 1024 * 1024;

/** EVIDENCE ‖ height(8) ‖ validator(2) ‖ digest(8): records sort by height. */
const evidenceKey = (height: number, validator: number, digest: Uint8Array): Uint8Array => prefixed(PREFIX.EVIDENCE, uintBE(height, 8), uintBE(validator, 2), digest);
/** The validator index in an evidenceKey (the 2 bytes after the prefix and the height). */
const validatorOfKey = (k: Uint8Array): number => (k[1 + 8]! << 8) | k[1 + 8 + 1]!;

export class EvidenceStore {
  /** Records and bytes kept per validator (counted from the database on first use). */
  private usage: Promise<Map<number, { records: number; bytes: number }>> | undefined;
  /** Writes run one after another; `flushed()` waits for them. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: KvStore,
    private readonly log?: { warn(msg: string, o?: object): void },
  ) {}

  /**
   * Key: EVIDENCE ‖ height(8) ‖ validator(2) ‖ sha256(pair)[0..8] — one record per distinct pair, at
   * most MAX_EVIDENCE_PER_VALIDATOR records and MAX_EVIDENCE_BYTES_PER_VALIDATOR bytes per validator
   * (a Byzantine validator must not be able to fill the disk with proofs of its own faults). Never
   * throws and never rejects: a failed write is logged.
   */
  record(a: ConsensusMessage, b: ConsensusMessage): void {
    const value = encode(pairT, [encodeMessage(a), encodeMessage(b)]);
    const key = evidenceKey(a.height, a.from, sha256(value).subarray(0, 8));
    this.writes = this.writes.then(async () => {
      try {
        const usage = await (this.usage ??= this.countUsage());
        const u = usage.get(a.from) ?? { records: 0, bytes: 0 };
        if (this.store.get(key) !== undefined) return;
        if (u.records >= MAX_EVIDENCE_PER_VALIDATOR || u.bytes + value.length > MAX_EVIDENCE_BYTES_PER_VALIDATOR) {
          this.log?.warn('equivocation evidence not stored: this validator has used its evidence quota', { validator: a.from, height: a.height, records: u.records, bytes: u.bytes });
          return;
        }
        await this.store.batch([{ type: 'put', key, value }]);
        usage.set(a.from, { records: u.records + 1, bytes: u.bytes + value.length });
      } catch (e) {
        this.log?.warn('equivocation evidence could not be stored', { validator: a.from, height: a.height, err: errorMessage(e) });
      }
    });
  }

  /** Resolves when every record() so far has been written (or given up). */
  flushed(): Promise<void> {
    return this.writes;
  }

  private async countUsage(): Promise<Map<number, { records: number; bytes: number }>> {
    const usage = new Map<number, { records: number; bytes: number }>();
    for await (const [k, v] of this.store.range({ gte: new Uint8Array([PREFIX.EVIDENCE]), lt: new Uint8Array([PREFIX.EVIDENCE + 1]) })) {
      const validator = validatorOfKey(k);
      const u = usage.get(validator) ?? { records: 0, bytes: 0 };
      usage.set(validator, { records: u.records + 1, bytes: u.bytes + v.length });
    }
    return usage;
  }

  /**
   * The first `limit` records, stopping early once their bytes pass LIST_MAX_BYTES (after at least
   * one record): a record can hold two 9 MiB messages, sent as hex.
   */
  async list(limit = 100): Promise<EvidenceJson[]> {
    const out: EvidenceJson[] = [];
    let bytes = 0;
    const gte = new Uint8Array([PREFIX.EVIDENCE]);
    for await (const [, v] of this.store.range({ gte, lt: new Uint8Array([PREFIX.EVIDENCE + 1]), limit })) {
      if (out.length > 0 && bytes + v.length > LIST_MAX_BYTES) break;
      bytes += v.length;
      const [ra, rb] = decode(pairT, v, 'evidence');
      const a = decodeMessage(ra);
      out.push({ validator: a.from, type: a.type, height: a.height, a: toHex(ra), b: toHex(rb) });
      void decodeMessage(rb);
    }
    return out;
  }
}
