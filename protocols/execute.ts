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
import { scopedStore, eventOf, type BlockInfo, type EventValue, type Method, type NativeModule, type SignerRole, type StoreAccess, type TxContext } from './module.js';
import { methodById, type ModuleIndex } from './registry.js';
import { chargeFeeAndNonce, collectFees } from './bank/index.js';

export interface ExecEnv {
  chainId: string;
  params: ChainParams;
  modules: ModuleIndex;
}

export interface ExecutedTxs {
  txs: Uint8Array[];
  ids: Uint8Array[];
  /** The same ids as 0x-hex (computed once at decode; the node's mempool, metrics and RPC use them). */
  idsHex: string[];
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
  const out: ExecutedTxs = { txs: [], ids: [], idsHex: [], results: [], dropped: [] };
  const access = storeAccess(overlay);
  const resolveSigner = signerResolverOf(env.modules);
  let bytes = 0;
  let fees = 0n;
  const seen = new Set<string>();
  for (let i = 0; i < candidates.length; i++) {
    const raw = candidates[i]!;
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
    fees += tx.body.fee;
    out.txs.push(raw);
    out.ids.push(tx.id);
    out.idsHex.push(tx.idHex);
    // bank handlers are synchronous: awaiting their result anyway cost two promises and a microtask per tx
    const result = runTx(env, overlay, access, block, tx, resolveSigner);
    out.results.push(isThenable(result) ? await result : result);
  }
  // the fees of the block's txs, paid into the fee collector at once (bank/keeper.ts chargeFeeAndNonce)
  collectFees(access, fees);
  return out;
}

type AnyHandler = (ctx: TxContext, args: unknown) => void | PromiseLike<void>;

interface Route {
  module: NativeModule;
  name: string;
  def: Method<unknown>;
  handler: AnyHandler;
  /** Names the args in decode errors (built once, not per tx). */
  argsLabel: string;
}

// methodById walks the module's method table (Object.entries) per call; routes are looked up per tx.
// Only existing methods are kept (ids in txs are arbitrary: misses must not grow the table).
const routes = new WeakMap<ModuleIndex, Map<number, Route>>();

function routeOf(modules: ModuleIndex, moduleId: number, methodId: number): Route | undefined {
  let table = routes.get(modules);
  if (table === undefined) routes.set(modules, (table = new Map()));
  const k = moduleId * 0x10000 + methodId;
  let r = table.get(k);
  if (r === undefined) {
    const found = methodById(modules, moduleId, methodId);
    if (!found) return undefined;
    r = {
      module: found.module,
      name: found.name,
      def: found.def as Method<unknown>,
      handler: (found.module.handlers as Record<string, AnyHandler>)[found.name]!,
      argsLabel: `${found.module.name}.${found.name} args`,
    };
    table.set(k, r);
  }
  return r;
}

const isThenable = <T>(v: unknown): v is PromiseLike<T> => typeof (v as PromiseLike<T> | undefined)?.then === 'function';

/**
 * Runs one tx's handler in a checkpoint. Returns the result directly when the handler is
 * synchronous, a promise of it when the handler returned one: either way the same steps in the same
 * order, so results and state do not depend on which path ran.
 */
function runTx(env: ExecEnv, overlay: Overlay, access: StoreAccess, block: BlockInfo, tx: DecodedTx, resolveSigner: SignerResolver): TxResult | Promise<TxResult> {
  const events: TxEvent[] = [];
  overlay.checkpoint();
  let pending: void | PromiseLike<void>;
  try {
    pending = startTx(env, overlay, access, block, tx, resolveSigner, events);
  } catch (e) {
    return failed(overlay, e);
  }
  if (isThenable(pending)) {
    return Promise.resolve(pending).then(
      () => succeeded(overlay, events),
      (e: unknown) => failed(overlay, e),
    );
  }
  return succeeded(overlay, events);
}

/** Routes, decodes and checks the args, resolves the signer and calls the handler (whose result it returns). */
function startTx(env: ExecEnv, overlay: Overlay, access: StoreAccess, block: BlockInfo, tx: DecodedTx, resolveSigner: SignerResolver, events: TxEvent[]): void | PromiseLike<void> {
  const route = routeOf(env.modules, tx.body.moduleId, tx.body.methodId);
  if (!route) {
    const m = env.modules.byId.get(tx.body.moduleId);
    throw m
      ? new ProtocolError(ERR.UNKNOWN_METHOD, `module ${m.name} has no method ${tx.body.methodId}`)
      : new ProtocolError(ERR.UNKNOWN_MODULE, `unknown module ${tx.body.moduleId}`);
  }
  const { module, def } = route;
  let args: unknown;
  try {
    args = def.decodeArgs ? def.decodeArgs(tx.body.args, route.argsLabel) : decode(def.args, tx.body.args, route.argsLabel);
    def.validateBasic?.(args);
  } catch (e) {
    throw new ProtocolError(ERR.BAD_ARGS, e instanceof Error ? e.message : String(e));
  }
  const state = scopedStore(overlay, module.id);
  const { chainId } = env;
  const { sender, id: txId } = tx;
  // emit is a method, not a `const emit = …` closure: tsx (esbuild keepNames) wraps every named
  // closure in a defineProperty call, paid per tx. It does not use `this` (handlers may destructure it).
  const ctx: TxContext = skipsIdentity(def)
    ? {
        state, block, chainId, sender, txId, access,
        emit(type: string, attrs: Record<string, EventValue>): void {
          emitEvent(events, module.name, type, attrs);
        },
        get identity(): Uint8Array {
          return identityNotResolved(route);
        },
      }
    : {
        state, block, chainId, sender, txId, access,
        emit(type: string, attrs: Record<string, EventValue>): void {
          emitEvent(events, module.name, type, attrs);
        },
        identity: resolveSigner(access, sender, def.signer),
      };
  return route.handler(ctx, args);
}

function emitEvent(events: TxEvent[], moduleName: string, type: string, attrs: Record<string, EventValue>): void {
  if (events.length >= MAX_EVENTS_PER_TX) throw new ProtocolError('TX_TOO_MANY_EVENTS', `more than ${MAX_EVENTS_PER_TX} events`);
  events.push(eventOf(moduleName, type, attrs));
}

/** For signer 'any', resolveSigner never rejects: when the handler does not read the identity, resolving it changes nothing. */
const skipsIdentity = (def: Method<unknown>): boolean => def.signer === 'any' && def.readsIdentity === false;

function identityNotResolved(route: Route): never {
  throw new Error(`${route.module.name}.${route.name} declares readsIdentity: false but read ctx.identity`);
}

function succeeded(overlay: Overlay, events: TxEvent[]): TxResult {
  overlay.commitCheckpoint();
  return { code: '', message: '', events };
}

/** A ProtocolError reverts the tx and becomes its result; anything else is a bug and fails the block. */
function failed(overlay: Overlay, e: unknown): TxResult {
  overlay.revert();
  if (e instanceof ProtocolError) return { code: truncateUtf8(e.code, 64), message: truncateUtf8(e.message, 512), events: [] };
  throw e;
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
