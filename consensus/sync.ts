// Block sync: a node behind (new, restarted, partitioned) fetches committed blocks with their commit
// certificates from peers, checks each certificate against the validator set, re-executes the block
// (processProposal without the clock rule) and commits it. Request/response over the p2p sync
// protocol; the wire format is canonical: request [fromHeight, maxBlocks], response [[block, cert]…].
import { tuple, list, u53, bytes, encode, decode } from '../lib/encoding.js';
import { InvalidMessageError, errorMessage } from '../lib/errors.js';
import { decodeBlock, commitCertificateCodec, verifyCommit, MAX_BLOCK_BYTES, type Validator } from '../state/block.js';
import type { Application, CommittedBlock } from '../state/application.js';
import type { BlockStore } from '../state/blockStore.js';

export const SYNC_MAX_BLOCKS = 64;
export const SYNC_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** A request is [fromHeight, maxBlocks]: a few bytes (the p2p layer refuses longer frames). */
export const SYNC_MAX_REQUEST_BYTES = 64;

const requestT = tuple<[number, number]>(u53, u53);
/** A sync response: consecutive [encoded block, encoded certificate] pairs. */
export const syncResponseCodec = list(tuple<[Uint8Array, Uint8Array]>(bytes(MAX_BLOCK_BYTES), bytes(64 * 1024)), SYNC_MAX_BLOCKS);

export function encodeSyncRequest(fromHeight: number, maxBlocks: number): Uint8Array {
  return encode(requestT, [fromHeight, maxBlocks]);
}

/**
 * Serves a sync request from the block store: consecutive certified blocks from `fromHeight`, as
 * the stored bytes (the requester decodes and checks everything). Decoding and re-encoding them held
 * the event loop for 219–333 ms per 3-byte request for 64 blocks of 256 KiB; now 59–126 ms, most
 * of it this VM's first touch of the 16 MiB response (audit, session 7).
 */
export function serveSync(blocks: BlockStore, req: Uint8Array): Uint8Array {
  const [from, max] = decode(requestT, req, 'sync request', SYNC_MAX_REQUEST_BYTES);
  if (from < 1) throw new InvalidMessageError('SYNC_BAD_REQUEST', 'fromHeight must be ≥ 1');
  const out: [Uint8Array, Uint8Array][] = [];
  let size = 0;
  for (let h = from; h < from + Math.min(max, SYNC_MAX_BLOCKS); h++) {
    const b = blocks.rawBlock(h);
    const c = blocks.rawCertificate(h);
    if (!b || !c) break;
    const pair: [Uint8Array, Uint8Array] = [b, c];
    size += pair[0].length + pair[1].length;
    if (out.length > 0 && size > SYNC_MAX_RESPONSE_BYTES) break;
    out.push(pair);
  }
  return encode(syncResponseCodec, out);
}

export interface SyncDeps {
  app: Application;
  validators: readonly Validator[];
  /** Asks validator `peer` for blocks; rejects on timeout or transport errors. */
  request(peer: number, req: Uint8Array): Promise<Uint8Array>;
  /** Peer sent something invalid (bad certificate, wrong block). */
  penalize?(peer: number, reason: string): void;
  /** After each synced block is committed (the node updates its mempool, metrics and RPC subscribers, as for a consensus commit). */
  onCommit?(block: CommittedBlock): void;
  log?: { warn(msg: string, obj?: object): void };
}

/**
 * Fetches and commits blocks from the app's height + 1 up to `toHeight - 1` (or as far as peers
 * have), trying `peers` first, then every other validator. Returns the last committed height.
 */
export async function syncBlocks(d: SyncDeps, toHeight: number, peers: readonly number[], self: number): Promise<number> {
  // peers are indices in the set this node knows; the set may change while syncing, requests still go by index
  const order = [...new Set([...peers, ...d.validators.map((_, i) => i)])].filter((i) => i !== self);
  let progress = true;
  while (progress && d.app.info().height + 1 < toHeight) {
    progress = false;
    for (const peer of order) {
      const from = d.app.info().height + 1;
      let resp: Uint8Array;
      try {
        resp = await d.request(peer, encodeSyncRequest(from, SYNC_MAX_BLOCKS));
      } catch (e) {
        d.log?.warn('sync request failed', { peer, err: errorMessage(e) });
        continue;
      }
      let pairs: [Uint8Array, Uint8Array][];
      try {
        pairs = decode(syncResponseCodec, resp, 'sync response', SYNC_MAX_RESPONSE_BYTES + 1024 * 1024);
      } catch (e) {
        d.penalize?.(peer, `bad sync response: ${errorMessage(e)}`);
        continue;
      }
      let committed = 0;
      for (const [rawBlock, rawCert] of pairs) {
        const expected = d.app.info().height + 1;
        let ok = false;
        try {
          const block = decodeBlock(rawBlock);
          // consensus committed this height while the request was out: skip it, the peer did nothing wrong
          if (block.header.height < expected) continue;
          const cert = decode(commitCertificateCodec, rawCert, 'certificate');
          if (block.header.height !== expected) throw new Error(`block ${block.header.height}, expected ${expected}`);
          // the certificate must come from the set in force at this height (validator-set changes)
          const v = verifyCommit(d.app.info().validators, block.header, cert);
          if (!v.ok) throw new Error(`certificate: ${v.reason}`);
          const r = await d.app.processProposal(block, { checkClock: false });
          if (!r.accept) throw new Error(`certified block does not re-execute: ${r.reason}`);
          const committedBlock = await d.app.commit(block, cert, rawBlock); // decodeBlock checked it is the canonical encoding
          ok = true;
          d.onCommit?.(committedBlock);
          committed++;
        } catch (e) {
          if (d.app.info().height >= expected) continue; // committed meanwhile by consensus
          d.penalize?.(peer, `sync: ${errorMessage(e)}`);
        }
        if (!ok) break;
      }
      if (committed > 0) {
        progress = true;
        break;
      }
    }
  }
  return d.app.info().height;
}
