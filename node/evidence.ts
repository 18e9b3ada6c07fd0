// Equivocation evidence: two conflicting signed messages from one validator, kept in the node's
// database (PREFIX.EVIDENCE) so operators can query them and later the chain can act on them.
import type { KvStore } from '../state/kvStore.js';
import { PREFIX, prefixed } from '../state/prefixes.js';
import { uintBE, toHex } from '../lib/hex.js';
import { tuple, bytes, encode, decode } from '../lib/encoding.js';
import { sha256 } from '../crypto/hash.js';
import { encodeMessage, decodeMessage, MAX_CONSENSUS_MSG_BYTES } from '../consensus/messages.js';
import type { ConsensusMessage } from '../consensus/core/index.js';

const pairT = tuple<[Uint8Array, Uint8Array]>(bytes(MAX_CONSENSUS_MSG_BYTES), bytes(MAX_CONSENSUS_MSG_BYTES));

import type { EvidenceJson } from '../rpc/backend.js';

export class EvidenceStore {
  constructor(private readonly store: KvStore) {}

  /** Key: EVIDENCE ‖ height(8) ‖ validator(2) ‖ sha256(pair)[0..8] — one record per distinct pair. */
  record(a: ConsensusMessage, b: ConsensusMessage): void {
    const value = encode(pairT, [encodeMessage(a), encodeMessage(b)]);
    const key = prefixed(PREFIX.EVIDENCE, uintBE(a.height, 8), uintBE(a.from, 2), sha256(value).subarray(0, 8));
    void this.store.batch([{ type: 'put', key, value }]);
  }

  async list(limit = 100): Promise<EvidenceJson[]> {
    const out: EvidenceJson[] = [];
    const gte = new Uint8Array([PREFIX.EVIDENCE]);
    for await (const [, v] of this.store.range({ gte, lt: new Uint8Array([PREFIX.EVIDENCE + 1]), limit })) {
      const [ra, rb] = decode(pairT, v, 'evidence');
      const a = decodeMessage(ra);
      out.push({ validator: a.from, type: a.type, height: a.height, a: toHex(ra), b: toHex(rb) });
      void decodeMessage(rb);
    }
    return out;
  }
}
