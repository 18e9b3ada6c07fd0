// Running a block's transactions through the modules (the application half of execution).
// Each transaction: stateless checks (decode, chain id, signature — cached), nonce and fee against
// the overlay, fee charged and nonce consumed, then the handler in a checkpoint. A handler's
// ProtocolError reverts its writes and is recorded in the tx result; the fee stays paid and the
// nonce used. Anything else thrown is a bug or a broken invariant: it propagates and the block fails.
import { decode, truncateUtf8 } from '../lib/encoding.js';
import { IotchainError, InvalidMessageError, ProtocolError, ERR } from '../lib/errors.js';
import { checkTxStateless, type DecodedTx } from '../state/tx.js';
import type { TxEvent, TxResult } from '../state/block.js';
import { MAX_EVENTS_PER_TX } from '../state/block.js';
import type { Overlay } from '../state/overlay.js';
import type { ChainParams } from '../state/genesis.js';
import { scopedStore, eventOf, type BlockInfo, type EventValue, type Method, type NativeModule, type SignerRole, type StoreAccess } from './module.js';
import { methodById, type ModuleIndex } from './registry.js';
import { chargeFeeAndNonce } from './bank/index.js';

export interface ExecEnv {
  chainId: string;
  params: ChainParams;
  modules: ModuleIndex;
}

export interface ExecutedTxs {
  txs: Uint8Array[];
  ids: Uint8Array[];
  results: TxResult[];
  dropped: { raw: Uint8Array; reason: string }[];
}

/** Why a tx cannot be part of a block at all (it could not pay or its nonce is wrong). */
export class TxNotIncludable extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`tx ${index}: ${reason}`);
  }
}

export function storeAccess(overlay: Overlay): StoreAccess {
  return { storeOf: (id) => scopedStore(overlay, id) };
}

/**
 * Resolves the sender's identity for a role. A module may provide `resolveSigner` (the identity
 * module maps online keys to offline identities); without one, every address is its own identity.
 */
export type SignerResolver = (access: StoreAccess, sender: Uint8Array, role: SignerRole) => Uint8Array;

export function signerResolverOf(modules: ModuleIndex): SignerResolver {
  for (const m of modules.list) {
    const r = (m as NativeModule & { resolveSigner?: SignerResolver }).resolveSigner;
    if (r) return r;
  }
  return (_access, sender) => sender;
}

/** Stateless + stateful admission checks of one tx against `overlay` (nonce, fee, module/method). */
export function checkIncludable(
  env: ExecEnv,
  raw: Uint8Array,
  nonceOf: (sender: Uint8Array) => { nonce: number; balance: bigint },
  mode: 'block' | 'admission' = 'block',
): DecodedTx {
  const tx = checkTxStateless(raw, env.chainId);
  if (tx.body.fee < env.params.minFee) throw new InvalidMessageError(ERR.FEE_TOO_LOW, `fee ${tx.body.fee} is below the minimum ${env.params.minFee}`);
  const acct = nonceOf(tx.sender);
  if (tx.body.nonce < acct.nonce) throw new InvalidMessageError(ERR.BAD_NONCE, `nonce ${tx.body.nonce} was already used (next is ${acct.nonce})`);
  if (mode === 'block' && tx.body.nonce !== acct.nonce) throw new InvalidMessageError(ERR.BAD_NONCE, `nonce ${tx.body.nonce}, expected ${acct.nonce}`);
  if (acct.balance < tx.body.fee) throw new InvalidMessageError(ERR.INSUFFICIENT_FEE_BALANCE, `balance ${acct.balance} cannot pay fee ${tx.body.fee}`);
  return tx;
}

export async function executeTxs(
  env: ExecEnv,
  overlay: Overlay,
  block: BlockInfo,
  candidates: Uint8Array[],
  mode: 'propose' | 'verify',
  readAccount: (sender: Uint8Array) => { nonce: number; balance: bigint },
): Promise<ExecutedTxs> {
  const out: ExecutedTxs = { txs: [], ids: [], results: [], dropped: [] };
  const access = storeAccess(overlay);
  const resolveSigner = signerResolverOf(env.modules);
  let bytes = 0;
  const seen = new Set<string>();
  for (const [i, raw] of candidates.entries()) {
    let tx: DecodedTx;
    try {
      if (out.txs.length >= env.params.maxBlockTxs) throw new InvalidMessageError(ERR.TOO_LARGE, 'block is full (tx count)');
      if (bytes + raw.length > env.params.maxBlockBytes) throw new InvalidMessageError(ERR.TOO_LARGE, 'block is full (bytes)');
      tx = checkIncludable(env, raw, readAccount);
      if (seen.has(tx.idHex)) throw new InvalidMessageError(ERR.DUPLICATE, 'duplicate transaction in block');
    } catch (e) {
      const reason = e instanceof IotchainError ? `${e.code}: ${e.message}` : String(e);
      if (mode === 'verify') throw new TxNotIncludable(i, reason);
      out.dropped.push({ raw, reason });
      continue;
    }
    seen.add(tx.idHex);
    bytes += raw.length;
    chargeFeeAndNonce(access, tx.sender, tx.body.nonce, tx.body.fee);
    out.txs.push(raw);
    out.ids.push(tx.id);
    out.results.push(await runTx(env, overlay, access, block, tx, resolveSigner));
  }
  return out;
}

async function runTx(env: ExecEnv, overlay: Overlay, access: StoreAccess, block: BlockInfo, tx: DecodedTx, resolveSigner: SignerResolver): Promise<TxResult> {
  const events: TxEvent[] = [];
  overlay.checkpoint();
  try {
    const found = methodById(env.modules, tx.body.moduleId, tx.body.methodId);
    if (!found) {
      const m = env.modules.byId.get(tx.body.moduleId);
      throw m
        ? new ProtocolError(ERR.UNKNOWN_METHOD, `module ${m.name} has no method ${tx.body.methodId}`)
        : new ProtocolError(ERR.UNKNOWN_MODULE, `unknown module ${tx.body.moduleId}`);
    }
    const def = found.def as Method<unknown>;
    let args: unknown;
    try {
      args = decode(def.args, tx.body.args, `${found.module.name}.${found.name} args`);
      def.validateBasic?.(args);
    } catch (e) {
      throw new ProtocolError(ERR.BAD_ARGS, e instanceof Error ? e.message : String(e));
    }
    const identity = resolveSigner(access, tx.sender, def.signer);
    const handler = (found.module.handlers as Record<string, (ctx: unknown, args: unknown) => void | Promise<void>>)[found.name]!;
    await handler(
      {
        state: scopedStore(overlay, found.module.id),
        block,
        chainId: env.chainId,
        sender: tx.sender,
        identity,
        txId: tx.id,
        access,
        emit(type: string, attrs: Record<string, EventValue>) {
          if (events.length >= MAX_EVENTS_PER_TX) throw new ProtocolError('TX_TOO_MANY_EVENTS', `more than ${MAX_EVENTS_PER_TX} events`);
          events.push(eventOf(found.module.name, type, attrs));
        },
      },
      args,
    );
    overlay.commitCheckpoint();
    return { code: '', message: '', events };
  } catch (e) {
    overlay.revert();
    if (e instanceof ProtocolError) return { code: truncateUtf8(e.code, 64), message: truncateUtf8(e.message, 512), events: [] };
    throw e;
  }
}

/** Runs every module's end-of-block hook in registry order. */
export async function endBlock(env: ExecEnv, overlay: Overlay, block: BlockInfo): Promise<TxEvent[]> {
  const access = storeAccess(overlay);
  const events: TxEvent[] = [];
  for (const m of env.modules.list) {
    if (!m.endBlock) continue;
    await m.endBlock({
      state: scopedStore(overlay, m.id),
      block,
      chainId: env.chainId,
      access,
      emit: (type, attrs) => void events.push(eventOf(m.name, type, attrs)),
    });
  }
  return events;
}
