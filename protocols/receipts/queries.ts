// Provable queries: point reads only, so a client can verify each answer against a certified header
// (protocols/verify.ts) and recompute it from the proven records.
import { bytes20, bytes32, optional, struct, u53, type Codec } from '../../lib/encoding.js';
import { toHex } from '../../lib/hex.js';
import { defineQuery, type AnyQuery } from '../module.js';
import { tableNameCodec } from './codec.js';
import { ReceiptsReader } from './store.js';
import type { AnchorJson, AnchorRecord, TableHeadJson } from './types.js';

interface VerifyRootHashArgs {
  hash: Uint8Array;
  /** Whose anchor to look up; absent: the first submitter of this root. */
  submitter: Uint8Array | undefined;
}
const verifyRootHashArgs: Codec<VerifyRootHashArgs> = struct<VerifyRootHashArgs>({ hash: bytes32, submitter: optional(bytes20) }, ['hash', 'submitter']);

interface HeadArgs {
  submitter: Uint8Array;
  table: string;
}
const headArgs: Codec<HeadArgs> = struct<HeadArgs>({ submitter: bytes20, table: tableNameCodec }, ['submitter', 'table']);

interface AtArgs extends HeadArgs {
  index: number;
}
const atArgs: Codec<AtArgs> = struct<AtArgs>({ submitter: bytes20, table: tableNameCodec, index: u53 }, ['submitter', 'table', 'index']);

export function anchorToJson(root: Uint8Array, rec: AnchorRecord): AnchorJson {
  return {
    found: true,
    hash: toHex(root),
    submitter: toHex(rec.submitter),
    signer: toHex(rec.signer),
    height: rec.height,
    time: rec.time,
    txHash: toHex(rec.txHash),
    batch: rec.batch,
    meta: { ...rec.meta },
  };
}

function lookup(r: ReceiptsReader, root: Uint8Array, submitter: Uint8Array | undefined): AnchorJson {
  const who = submitter ?? r.firstSubmitter(root);
  const rec = who ? r.anchor(who, root) : undefined;
  return rec ? anchorToJson(root, rec) : { found: false, hash: toHex(root), submitter: submitter ? toHex(submitter) : null };
}

export const queries: Record<string, AnyQuery> = {
  /** {hash, submitter?} → {found, height, time, submitter, signer, txHash, batch, meta} (paper: VerifyRootHash). */
  verifyRootHash: defineQuery({
    args: verifyRootHashArgs,
    provable: true,
    run(ctx, { hash, submitter }) {
      return lookup(new ReceiptsReader(ctx.state), hash, submitter);
    },
  }),
  /** {submitter, table} → {count, lastId, lastRoot}: how many batches of this table the submitter anchored. */
  anchorHead: defineQuery({
    args: headArgs,
    provable: true,
    run(ctx, { submitter, table }): TableHeadJson {
      const h = new ReceiptsReader(ctx.state).head(submitter, table);
      return { submitter: toHex(submitter), table, count: h?.count ?? 0, lastId: h ? h.lastId : null, lastRoot: h ? toHex(h.lastRoot) : null };
    },
  }),
  /** {submitter, table, index} → the anchor of that batch (as verifyRootHash), or found: false. */
  anchorAt: defineQuery({
    args: atArgs,
    provable: true,
    run(ctx, { submitter, table, index }): AnchorJson | { found: false; index: number } {
      const r = new ReceiptsReader(ctx.state);
      const root = r.batchRoot(submitter, table, index);
      return root ? lookup(r, root, submitter) : { found: false, index };
    },
  }),
};
