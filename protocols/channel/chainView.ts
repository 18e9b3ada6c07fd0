// The client's view of the chain through an untrusted RPC node: every answer is a proven query
// checked against a header certified by the trusted validator set (protocols/verify.ts), and must
// be recent (a node replaying an old, once-true answer, e.g. from before a key was revoked, is
// refused). A lying RPC node can withhold answers, never forge an IP, a key or a reputation.
import { fromHex, toHex } from '../../lib/hex.js';
import { errorMessage } from '../../lib/errors.js';
import type { Validator, BlockHeader } from '../../state/block.js';
import type { Genesis } from '../../state/genesis.js';
import type { RpcClient } from '../../rpc/client.js';
import type { StatusJson } from '../../rpc/backend.js';
import type { QueryAnswer } from '../query.js';
import { verifyQueryAnswer } from '../verify.js';
import { defaultModules, indexModules, type ModuleIndex } from '../registry.js';
import { certificateFactsFromJson, type CertificateFactsSource } from '../identity/certificate.js';
import { CHANNEL_ERR, ChannelError } from './errors.js';

/** Whom the client trusts: the chain id and the validator set that certifies headers. */
export interface TrustAnchor {
  chainId: string;
  validators: Validator[];
  /** Where the validator set came from: a genesis file (trusted) or the RPC node itself (trust on first use). */
  source: 'genesis-file' | 'rpc-validators';
}

export function anchorFromGenesis(g: Pick<Genesis, 'chainId' | 'validators'>): TrustAnchor {
  return { chainId: g.chainId, validators: g.validators, source: 'genesis-file' };
}

/** Trusts the validator set the RPC node reports (only as good as that node). */
export function anchorFromStatus(s: StatusJson): TrustAnchor {
  return {
    chainId: s.chainId,
    validators: s.validators.map((v, i) => ({ name: v.name, consensusKey: fromHex(v.consensusKey, `validators[${i}].consensusKey`, 33), peerId: v.peerId, power: v.power })),
    source: 'rpc-validators',
  };
}

export interface ProvenAnswer {
  value: unknown;
  height: number;
  /** Block time of the certified header (ms). */
  time: number;
}

export interface ProvenChainOptions {
  modules?: ModuleIndex;
  /** Refuse answers whose certified header is older than this (ms, by the client's clock). Default 120 s. */
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_ANSWER_AGE_MS = 120_000;

let defaultIndex: ModuleIndex | undefined;

export class ProvenChain {
  readonly modules: ModuleIndex;
  readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    readonly rpc: RpcClient,
    readonly anchor: TrustAnchor,
    opts: ProvenChainOptions = {},
  ) {
    this.modules = opts.modules ?? (defaultIndex ??= indexModules(defaultModules()));
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_ANSWER_AGE_MS;
    this.now = opts.now ?? Date.now;
  }

  get chainId(): string {
    return this.anchor.chainId;
  }

  /**
   * Runs `path` with `args` as a proven query and verifies it: the commit certificate against the
   * anchor's validators, each record against the certified state root, the value by re-running
   * the query on the proven records. Throws ChannelError CHAIN_ANSWER_INVALID or CHAIN_ANSWER_STALE.
   */
  async query(path: string, args: Record<string, unknown>): Promise<ProvenAnswer> {
    let answer: QueryAnswer;
    let header: BlockHeader;
    try {
      answer = (await this.rpc.query(path, args, { prove: true })) as QueryAnswer;
      if (!Number.isSafeInteger(answer.height) || answer.height < 1) throw new Error(`answer at height ${String(answer.height)}: no certified block to check it against`);
      const block = await this.rpc.getBlock(answer.height);
      header = await verifyQueryAnswer({
        modules: this.modules,
        validators: this.anchor.validators,
        chainId: this.anchor.chainId,
        headerHex: block.headerHex,
        certificateHex: block.certificateHex,
        path,
        args,
        answer,
      });
    } catch (e) {
      throw new ChannelError(CHANNEL_ERR.CHAIN_ANSWER_INVALID, `the RPC node's answer to ${path} does not verify: ${errorMessage(e)}`, { path });
    }
    const age = this.now() - header.time;
    if (age > this.maxAgeMs) {
      throw new ChannelError(CHANNEL_ERR.CHAIN_ANSWER_STALE, `the RPC node's answer to ${path} is certified at height ${header.height}, ${age} ms ago (limit ${this.maxAgeMs} ms)`, { path });
    }
    return { value: answer.value, height: header.height, time: header.time };
  }

  /** The identity module's certificateFacts, proven. */
  readonly certificateFacts: CertificateFactsSource = async (q) => {
    const a = await this.query('identity/certificateFacts', { name: q.name, online: toHex(q.online), ...(q.ca ? { ca: toHex(q.ca) } : {}) });
    return certificateFactsFromJson(a.value);
  };
}
