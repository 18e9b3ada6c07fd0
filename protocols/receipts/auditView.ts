// What the auditor learns from the chain, always verified: every answer is a proven query checked with
// protocols/verify.ts against a header whose commit certificate verifies under a trusted validator
// set (from a genesis file, or as the RPC node reports it — reported as weaker trust). Two sources:
// a live node (RPC), and a proof bundle recorded from one earlier, for auditing offline. The same
// sources answer the identity module's `identity/keyHistory` for the auditor's key histories
// (keyHistory.ts ChainKeyHistory), so those are proven, and bundled, like the anchors.
// Off-chain: the state machine never imports this file.
import { readFile } from 'node:fs/promises';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { fromHex, toHex } from '../../lib/hex.js';
import type { Validator } from '../../state/block.js';
import { verifyQueryAnswer } from '../verify.js';
import type { QueryAnswer } from '../query.js';
import { defaultModules, indexModules } from '../registry.js';
import type { RpcClient } from '../../rpc/client.js';
import type { AnchorJson, TableHeadJson } from './types.js';
import { writeFileAtomic } from './receiptDir.js';

/** Every module's queries, so that answers of the receipts module and of the identity module (key histories) can be recomputed. */
const MODULES = indexModules(defaultModules());

export interface Trust {
  chainId: string;
  validators: Validator[];
  /** How the validator set was obtained, for the report: 'genesis-file' or 'rpc-validators'. */
  source: string;
}

/** A proven query: returns the verified value, or throws PROOF_INVALID. */
export interface ProofSource {
  readonly trust: Trust;
  query(path: string, args: Record<string, unknown>): Promise<{ value: unknown; height: number }>;
}

interface BlockProof {
  headerHex: string;
  certificateHex: string;
}

interface RecordedAnswer {
  path: string;
  args: Record<string, unknown>;
  answer: QueryAnswer;
}

/** Lookup key of a query: args are built by this code with a fixed key order. */
const keyOf = (path: string, args: Record<string, unknown>) => `${path} ${JSON.stringify(args)}`;

async function check(trust: Trust, path: string, args: Record<string, unknown>, answer: QueryAnswer, block: BlockProof): Promise<void> {
  await verifyQueryAnswer({ modules: MODULES, validators: trust.validators, chainId: trust.chainId, headerHex: block.headerHex, certificateHex: block.certificateHex, path, args, answer });
}

/** Proven queries against a live node; every verified answer is recorded for a bundle. */
export class RpcProofSource implements ProofSource {
  private readonly blocks = new Map<number, BlockProof>();
  private readonly answers = new Map<string, RecordedAnswer>();
  constructor(
    private readonly client: RpcClient,
    readonly trust: Trust,
  ) {}

  /** Trust the validator set the node reports (weaker than a genesis file: say so in reports). */
  static async fromNode(client: RpcClient): Promise<RpcProofSource> {
    const s = await client.status();
    const validators = s.validators.map((v, i) => ({ name: v.name, consensusKey: fromHex(v.consensusKey, `validators[${i}].consensusKey`, 33), peerId: v.peerId, power: v.power }));
    return new RpcProofSource(client, { chainId: s.chainId, validators, source: 'rpc-validators' });
  }

  async query(path: string, args: Record<string, unknown>): Promise<{ value: unknown; height: number }> {
    const key = keyOf(path, args);
    const known = this.answers.get(key);
    if (known) return { value: known.answer.value, height: known.answer.height };
    const answer = (await this.client.query(path, args, { prove: true })) as QueryAnswer;
    if (answer.height < 1) throw new InvalidMessageError(ERR.PROOF_INVALID, 'the chain has no certified block yet');
    let block = this.blocks.get(answer.height);
    if (!block) {
      const b = await this.client.getBlock(answer.height);
      block = { headerHex: b.headerHex, certificateHex: b.certificateHex };
    }
    await check(this.trust, path, args, answer, block);
    this.blocks.set(answer.height, block);
    this.answers.set(key, { path, args, answer });
    return { value: answer.value, height: answer.height };
  }

  /** Everything verified so far, as a bundle for offline audits. */
  bundle(): AuditBundle {
    const heights = [...this.blocks.keys()].sort((a, b) => a - b);
    return {
      format: BUNDLE_FORMAT,
      chainId: this.trust.chainId,
      blocks: heights.map((h) => ({ height: h, ...this.blocks.get(h)! })),
      answers: [...this.answers.values()],
    };
  }
}

export const BUNDLE_FORMAT = 'iotchain-audit-bundle/v1';

/** Proven answers with the certified headers they are proven against. Verified on load, never trusted. */
export interface AuditBundle {
  format: string;
  chainId: string;
  blocks: ({ height: number } & BlockProof)[];
  answers: RecordedAnswer[];
}

export async function saveBundle(file: string, b: AuditBundle): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(b) + '\n');
}

function bad(what: string): never {
  throw new InvalidMessageError(ERR.ENCODING, `audit bundle: ${what}`);
}

export async function loadBundle(file: string): Promise<AuditBundle> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InvalidMessageError(ERR.CONFIG, `cannot read audit bundle ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof json !== 'object' || json === null) bad('expected a JSON object');
  const o = json as Partial<AuditBundle>;
  if (o.format !== BUNDLE_FORMAT) bad(`format must be ${BUNDLE_FORMAT}`);
  if (typeof o.chainId !== 'string' || !Array.isArray(o.blocks) || !Array.isArray(o.answers)) bad('expected {chainId, blocks, answers}');
  for (const b of o.blocks) if (typeof b?.height !== 'number' || typeof b.headerHex !== 'string' || typeof b.certificateHex !== 'string') bad('bad block entry');
  for (const a of o.answers) {
    if (typeof a?.path !== 'string' || typeof a.args !== 'object' || a.args === null || typeof a.answer !== 'object' || a.answer === null || typeof a.answer.height !== 'number') bad('bad answer entry');
  }
  return o as AuditBundle;
}

/** Proven queries answered from a bundle; each answer is verified against the trusted validators. */
export class BundleProofSource implements ProofSource {
  private readonly blocks = new Map<number, BlockProof>();
  private readonly answers = new Map<string, RecordedAnswer>();
  constructor(
    bundle: AuditBundle,
    readonly trust: Trust,
  ) {
    if (bundle.chainId !== trust.chainId) throw new InvalidMessageError(ERR.PROOF_INVALID, `the bundle is for chain ${bundle.chainId}, the trusted genesis for ${trust.chainId}`);
    for (const b of bundle.blocks) this.blocks.set(b.height, b);
    for (const a of bundle.answers) this.answers.set(keyOf(a.path, a.args), a);
  }

  async query(path: string, args: Record<string, unknown>): Promise<{ value: unknown; height: number }> {
    const a = this.answers.get(keyOf(path, args));
    if (!a) {
      const hint = path === 'identity/keyHistory' ? 'make it with audit bundle --rows/--gateway-rows of the same exports' : 'make it from the same receipts';
      throw new InvalidMessageError(ERR.NOT_FOUND, `the bundle has no answer to ${path} ${JSON.stringify(args)} (${hint})`);
    }
    const block = this.blocks.get(a.answer.height);
    if (!block) throw new InvalidMessageError(ERR.PROOF_INVALID, `the bundle lacks the header of height ${a.answer.height}`);
    await check(this.trust, path, args, a.answer, block);
    return { value: a.answer.value, height: a.answer.height };
  }
}

/** The three receipts-module lookups the auditor makes, over any ProofSource. */
export class AnchorView {
  constructor(readonly source: ProofSource) {}

  get chainId(): string {
    return this.source.trust.chainId;
  }

  async head(submitter: Uint8Array, table: string): Promise<TableHeadJson> {
    return (await this.source.query('receipts/anchorHead', { submitter: toHex(submitter), table })).value as TableHeadJson;
  }

  async at(submitter: Uint8Array, table: string, index: number): Promise<AnchorJson | { found: false; index: number }> {
    return (await this.source.query('receipts/anchorAt', { submitter: toHex(submitter), table, index })).value as AnchorJson | { found: false; index: number };
  }

  async root(submitter: Uint8Array, root: Uint8Array): Promise<AnchorJson> {
    return (await this.source.query('receipts/verifyRootHash', { hash: toHex(root), submitter: toHex(submitter) })).value as AnchorJson;
  }
}
