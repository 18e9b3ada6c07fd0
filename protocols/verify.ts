// Client-side verification of a proven query answer: with only the genesis validator set, a header,
// its commit certificate and the answer, check (1) the certificate finalizes the header, (2) each raw
// record is proven against the header's state root, and (3) re-running the query over exactly those
// records gives the answered value. Nothing the node decoded is trusted.
import { decode } from '../lib/encoding.js';
import { fromHex, toHex } from '../lib/hex.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { verifyProof, stateProofCodec } from '../state/authTree.js';
import { headerCodec, commitCertificateCodec, verifyCommit, MAX_BLOCK_BYTES, type Validator, type BlockHeader } from '../state/block.js';
import type { StateReader } from '../state/overlay.js';
import { runQueryOn, type QueryAnswer } from './query.js';
import type { ModuleIndex } from './registry.js';

export interface VerifyQueryInput {
  modules: ModuleIndex;
  validators: Validator[];
  chainId: string;
  /** Canonical header bytes and certificate bytes, as served by chain_getBlock (headerHex, certificateHex). */
  headerHex: string;
  certificateHex: string;
  path: string;
  args: unknown;
  answer: QueryAnswer;
}

function fail(msg: string): never {
  throw new InvalidMessageError(ERR.PROOF_INVALID, msg);
}

/** Throws PROOF_INVALID naming what failed; returns the verified header on success. */
export async function verifyQueryAnswer(input: VerifyQueryInput): Promise<BlockHeader> {
  const header = decode(headerCodec, fromHex(input.headerHex, 'headerHex'), 'header', MAX_BLOCK_BYTES);
  const cert = decode(commitCertificateCodec, fromHex(input.certificateHex, 'certificateHex'), 'certificate');
  if (header.chainId !== input.chainId) fail(`header is for chain ${header.chainId}`);
  if (header.height !== input.answer.height) fail(`answer is for height ${input.answer.height}, header is ${header.height}`);
  const c = verifyCommit(input.validators, header, cert);
  if (!c.ok) fail(`commit certificate: ${c.reason}`);
  const records = input.answer.proof?.records;
  if (!Array.isArray(records)) fail('answer carries no proof');
  const proven = new Map<string, Uint8Array | undefined>();
  for (const r of records) {
    const key = fromHex(r.key, 'record key');
    const value = r.value === null ? undefined : fromHex(r.value, 'record value');
    const proof = decode(stateProofCodec, fromHex(r.proof, 'record proof'), 'state proof');
    if (!verifyProof(header.stateRoot, key, value, proof)) fail(`state proof for key ${r.key} does not verify against the certified state root`);
    proven.set(toHex(key), value);
  }
  const reader: StateReader = {
    get(key) {
      const k = toHex(key);
      if (!proven.has(k)) fail(`the query reads key ${k}, which the answer did not prove`);
      return proven.get(k);
    },
    // eslint-disable-next-line require-yield
    async *range() {
      fail('range reads cannot be proven');
    },
  };
  const recomputed = await runQueryOn(input.modules, reader, input.path, input.args, header.height, header.time, input.chainId);
  if (JSON.stringify(recomputed) !== JSON.stringify(input.answer.value)) fail('the answered value differs from the value recomputed from the proven records');
  return header;
}
