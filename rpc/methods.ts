// The request/response methods (HTTP and WebSocket): validate the params strictly, then call the
// backend. No logic beyond that lives here (STYLE.md: rpc/ is thin).
import { ERR, InvalidMessageError } from '../lib/errors.js';
import { MAX_TX_BYTES } from '../state/tx.js';
import type { RpcBackend } from './backend.js';
import { readParams, integerParam, bytesParam, fixedBytesParam, addressParam, stringParam, optionalObjectParam, optionalBooleanParam } from './params.js';

/** A method: raw `params` member in, JSON-able result out; throws to answer with an error. */
export type MethodHandler = (params: unknown) => Promise<unknown>;

/** Methods served on HTTP POST / and on WebSocket /ws. Names are fixed (issue 2, item 10). */
export const METHOD_NAMES = ['chain_status', 'chain_getBlock', 'tx_send', 'tx_get', 'account_get', 'query', 'consensus_evidence'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** "module/method", e.g. "bank/balance". */
export const QUERY_PATH_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}\/[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Hands the txs of a JSON-RPC batch's well-formed tx_send requests to the backend's `prepareTxs`
 * before the batch runs member by member. Members that are not well-formed tx_send requests are
 * skipped here; running them gives their errors. Never throws.
 */
export function prepareTxSends(requests: readonly unknown[], backend: RpcBackend): void {
  if (backend.prepareTxs === undefined) return;
  const raws: Uint8Array[] = [];
  for (const r of requests) {
    if (typeof r !== 'object' || r === null || (r as { method?: unknown }).method !== 'tx_send') continue;
    try {
      raws.push(bytesParam(readParams((r as { params?: unknown }).params, ['tx']), 'tx', MAX_TX_BYTES));
    } catch {
      // its own run reports the bad params
    }
  }
  if (raws.length > 1) backend.prepareTxs(raws);
}

export function createMethods(backend: RpcBackend): { readonly [K in MethodName]: MethodHandler } {
  return {
    chain_status: async (raw) => {
      readParams(raw, []);
      return backend.status();
    },
    chain_getBlock: async (raw) => {
      const height = integerParam(readParams(raw, ['height']), 'height', 1);
      const block = await backend.getBlock(height);
      if (block === undefined) throw new InvalidMessageError(ERR.NOT_FOUND, `no block at height ${height}`, { height });
      return block;
    },
    tx_send: async (raw) => {
      const tx = bytesParam(readParams(raw, ['tx']), 'tx', MAX_TX_BYTES);
      return backend.sendTx(tx);
    },
    tx_get: async (raw) => {
      const hash = fixedBytesParam(readParams(raw, ['hash']), 'hash', 32);
      return backend.getTx(hash);
    },
    account_get: async (raw) => {
      const address = addressParam(readParams(raw, ['address']), 'address');
      return backend.getAccount(address);
    },
    query: async (raw) => {
      const p = readParams(raw, ['path', 'args', 'prove']);
      const path = stringParam(p, 'path', QUERY_PATH_RE, 'a string "module/method"');
      const args = optionalObjectParam(p, 'args');
      const prove = optionalBooleanParam(p, 'prove', false);
      return backend.query(path, args, prove);
    },
    consensus_evidence: async (raw) => {
      const p = readParams(raw, ['limit']);
      const limit = p.limit === undefined ? 100 : integerParam(p, 'limit', 1, 1000);
      return backend.evidence(limit);
    },
  };
}
