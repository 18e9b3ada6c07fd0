// Chains of signatures (paper §4.2.1, Fig. 5a–5d; SPEC §5.4). Off-chain library: the state machine
// never imports it. Every party that receives IoT data or a command signs what it received before
// relaying it, so the final record names who produced, relayed and accepted it.
//
// Each signature is ECDSA (low-s, crypto/sign.ts) over SHA-256(tag ‖ canonical tuple): the tag is
// distinct per flow and per role, so a signature made for one flow or role never verifies as
// another, and the tuple is a lib/encoding.ts msgpack tuple, never JSON or a bare concatenation.
// Countersignatures follow the paper's concatenations (what came before ‖ the earlier signatures):
// hop k signs (its own address, the flow's subject, [origin entry, hop 1, …, hop k-1]), which binds
// the order of the chain and each signer's position in it. README.md "Chain of signatures" lists
// the exact bytes.
//
// Verification takes a resolver from a signer's address to its key (plain key files now, the
// identity module's online keys later) and reports the FIRST signer, in chain order, whose
// signature does not verify, or what else is wrong (a dropped or added aggregate member, a replay,
// an incomplete or malformed chain).
import { bytes20, encode, list, optional, struct, tuple, u53, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError } from '../../lib/errors.js';
import { bytesEqual, concatBytes, readUintBE, toHex, utf8 } from '../../lib/hex.js';
import { sha256 } from '../../crypto/hash.js';
import { addressOf, curveOf, type KeyPair, type KeyType } from '../../crypto/keys.js';
import { merkleRoot } from '../../crypto/merkle.js';
import { isLowS, sign, verify } from '../../crypto/sign.js';
import {
  MAX_GATEWAYS,
  aggregateBodyCodec,
  chainEntryCodec,
  commandBodyCodec,
  decodeEnvelope,
  encodeEnvelope,
  feedbackBodyCodec,
  feedbackSignedTupleCodec,
  readingBodyCodec,
  signedCommandCodec,
  signedReadingCodec,
  type AggregateBody,
  type AggregateEnvelope,
  type ChainEntry,
  type CommandBody,
  type EnvelopeKind,
  type Envelopes,
  type FeedbackBody,
  type FeedbackEnvelope,
  type Hops,
  type ReadingBody,
  type ReadingEnvelope,
  type SignedCommand,
  type SignedReading,
} from './signatureChainCodec.js';
import { ReplayGuard, type SeqClaim } from './signatureChainReplay.js';

export * from './signatureChainCodec.js';
export { ReplayGuard, type SeqClaim } from './signatureChainReplay.js';

/** Domain tags, one per flow and role. Permanent: changing one invalidates every stored chain. */
export const SIGCHAIN_TAGS = {
  readingDevice: utf8('iotchain/sigchain/reading/device/v1\0'),
  readingGateway: utf8('iotchain/sigchain/reading/gateway/v1\0'),
  readingService: utf8('iotchain/sigchain/reading/service/v1\0'),
  aggregateAggregator: utf8('iotchain/sigchain/aggregate/aggregator/v1\0'),
  aggregateGateway: utf8('iotchain/sigchain/aggregate/gateway/v1\0'),
  aggregateService: utf8('iotchain/sigchain/aggregate/service/v1\0'),
  commandService: utf8('iotchain/sigchain/command/service/v1\0'),
  feedbackDevice: utf8('iotchain/sigchain/feedback/device/v1\0'),
  feedbackGateway: utf8('iotchain/sigchain/feedback/gateway/v1\0'),
  feedbackService: utf8('iotchain/sigchain/feedback/service/v1\0'),
} as const;

// ---------------------------------------------------------------------------------------------
// Signers, keys, results

/**
 * Who signs: the address the chain names (the entity's id) and the key that signs for it. `sign`, when
 * given, replaces crypto/sign.ts for this signer (e.g. a secure element, or OpenSSL for P-256); it must
 * return a 64-byte low-s r‖s ECDSA signature over SHA-256(message) by `key`.
 */
export type ChainSigner = { address: Uint8Array; key: Pick<KeyPair, 'type' | 'privateKey'>; sign?: (message: Uint8Array) => Uint8Array };

function signAs(signer: ChainSigner, message: Uint8Array): Uint8Array {
  return signer.sign ? signer.sign(message) : sign(signer.key, message);
}

/** A signer whose id is its own key's address (plain key files); pass `address` to sign for another id. */
export function chainSigner(key: KeyPair, address: Uint8Array = addressOf(key.type, key.publicKey)): ChainSigner {
  return { address, key };
}

export type ResolvedKey = { type: KeyType; publicKey: Uint8Array };
/** Address → the key that signs for it, or undefined when unknown. */
export type KeyResolver = (address: Uint8Array) => ResolvedKey | undefined;

/** A resolver over fixed keys: a KeyPair answers for its own address; `{address, type, publicKey}` for `address`. */
export function staticResolver(keys: Iterable<KeyPair | (ResolvedKey & { address: Uint8Array })>): KeyResolver {
  const map = new Map<string, ResolvedKey>();
  for (const k of keys) {
    const address = 'address' in k ? k.address : addressOf(k.type, k.publicKey);
    map.set(toHex(address), { type: k.type, publicKey: k.publicKey });
  }
  return (address) => map.get(toHex(address));
}

export type SignerRole = 'device' | 'gateway' | 'service';
export type HopRole = 'gateway' | 'service';

/** A signer in a chain: its role, address (lower-case 0x-hex) and position in chain order (0-based). */
export type SignerRef = { role: SignerRole; address: string; index: number };

/** Failures that name a signer. */
export type SignerFailureReason = 'bad-signature' | 'high-s' | 'unknown-key' | 'replay';
/** Failures of the chain as a whole. */
export type ChainFailureReason = 'member-dropped' | 'member-added' | 'member-mismatch' | 'incomplete' | 'malformed';
export type FailureReason = SignerFailureReason | ChainFailureReason;

export type VerifyFailure =
  | { ok: false; reason: SignerFailureReason; failedSigner: SignerRef; detail: string }
  | { ok: false; reason: ChainFailureReason; failedSigner?: undefined; detail: string };
export type VerifyResult = { ok: true } | VerifyFailure;

export interface VerifyOptions {
  /** Fewest gateway countersignatures accepted (default: reading 1, aggregate 0, feedback 1). */
  minGateways?: number;
  /** Whether the service's closing countersignature is required (default: reading and aggregate yes, feedback no). */
  requireService?: boolean;
  /** When given, sequence numbers are checked against it and recorded if everything else verified. */
  replayGuard?: ReplayGuard;
}

export type ChainKind = Exclude<EnvelopeKind, 'command'>;

/** Defaults follow Fig. 5: readings and aggregates end at the service, feedback at the gateway. */
export const DEFAULT_CHAIN_SHAPE: { [K in ChainKind]: { minGateways: number; requireService: boolean } } = {
  reading: { minGateways: 1, requireService: true },
  aggregate: { minGateways: 0, requireService: true },
  feedback: { minGateways: 1, requireService: false },
};

const OK: VerifyResult = { ok: true };

// ---------------------------------------------------------------------------------------------
// Signed bytes

/** Fig. 5a: what the device signs for a reading. */
export function readingSignBytes(body: ReadingBody): Uint8Array {
  return concatBytes(SIGCHAIN_TAGS.readingDevice, encode(readingBodyCodec, body));
}

/** Fig. 5c: what the aggregating gateway signs (its members enter through memberCount and membersRoot). */
export function aggregateSignBytes(body: AggregateBody): Uint8Array {
  return concatBytes(SIGCHAIN_TAGS.aggregateAggregator, encode(aggregateBodyCodec, body));
}

/** Fig. 5d: what the service signs for a command. */
export function commandSignBytes(body: CommandBody): Uint8Array {
  return concatBytes(SIGCHAIN_TAGS.commandService, encode(commandBodyCodec, body));
}

/** The hash that binds feedback to its command: SHA-256 of the signed command's canonical bytes. */
export function commandHash(command: SignedCommand): Uint8Array {
  return sha256(encode(signedCommandCodec, command));
}

/** Fig. 5d: what the device signs for feedback: its body and the hash of the signed command. */
export function feedbackSignBytes(body: FeedbackBody, cmdHash: Uint8Array): Uint8Array {
  return concatBytes(SIGCHAIN_TAGS.feedbackDevice, encode(feedbackSignedTupleCodec, { ...body, commandHash: cmdHash }));
}

/** Canonical bytes of one aggregate member: the Merkle leaf data behind `membersRoot`. */
export function aggregateMemberLeaf(member: SignedReading): Uint8Array {
  return encode(signedReadingCodec, member);
}

/** RFC 6962 root over the members' canonical bytes, in order. */
export function membersRoot(members: readonly SignedReading[]): Uint8Array {
  return merkleRoot(members.map(aggregateMemberLeaf));
}

/** A flow's countersignature rules: tags per hop role, the subject every hop signs, and the origin entry. */
interface Flow<E extends Hops> {
  hopBytes(env: E, role: HopRole, signer: Uint8Array, prior: ChainEntry[]): Uint8Array;
  origin(env: E): ChainEntry;
}

function makeFlow<E extends Hops, S>(
  tags: Record<HopRole, Uint8Array>,
  subjectCodec: Codec<S>,
  subject: (env: E) => S,
  origin: (env: E) => ChainEntry,
): Flow<E> {
  const hop = tuple<[Uint8Array, S, ChainEntry[]]>(bytes20, subjectCodec, list(chainEntryCodec, MAX_GATEWAYS + 1));
  return {
    hopBytes: (env, role, signer, prior) => concatBytes(tags[role], encode(hop, [signer, subject(env), prior])),
    origin,
  };
}

/** What gateways and the service sign in Fig. 5d besides the chain: group id, signed command, feedback. */
type FeedbackSubject = { groupId: number | undefined; command: SignedCommand; feedback: FeedbackBody };
const feedbackSubjectCodec = struct<FeedbackSubject>(
  { groupId: optional(u53), command: signedCommandCodec, feedback: feedbackBodyCodec },
  ['groupId', 'command', 'feedback'],
);

const FLOWS: { [K in ChainKind]: Flow<Envelopes[K]> } = {
  reading: makeFlow<ReadingEnvelope, ReadingBody>(
    { gateway: SIGCHAIN_TAGS.readingGateway, service: SIGCHAIN_TAGS.readingService },
    readingBodyCodec,
    (e) => e.reading,
    (e) => ({ address: e.reading.deviceId, signature: e.reading.signature }),
  ),
  aggregate: makeFlow<AggregateEnvelope, AggregateBody>(
    { gateway: SIGCHAIN_TAGS.aggregateGateway, service: SIGCHAIN_TAGS.aggregateService },
    aggregateBodyCodec,
    (e) => e.aggregate,
    (e) => ({ address: e.aggregate.gatewayId, signature: e.aggregate.signature }),
  ),
  feedback: makeFlow<FeedbackEnvelope, FeedbackSubject>(
    { gateway: SIGCHAIN_TAGS.feedbackGateway, service: SIGCHAIN_TAGS.feedbackService },
    feedbackSubjectCodec,
    (e) => ({ groupId: e.groupId, command: e.command, feedback: e.feedback }),
    (e) => ({ address: e.feedback.deviceId, signature: e.feedback.signature }),
  ),
};

/**
 * Bytes signed by a countersignature: the gateway that follows `gatewaysBefore` gateways, or the
 * service (then `gatewaysBefore` = all the envelope's gateways).
 */
export function hopSignBytes<K extends ChainKind>(kind: K, env: Envelopes[K], role: HopRole, signer: Uint8Array, gatewaysBefore: number): Uint8Array {
  const flow = FLOWS[kind] as Flow<Envelopes[K]>;
  return flow.hopBytes(env, role, signer, [flow.origin(env), ...env.gateways.slice(0, gatewaysBefore)]);
}

// ---------------------------------------------------------------------------------------------
// Signing

/** Fig. 5a: a device signs a reading; deviceId is the signer's address. */
export function signReading(device: ChainSigner, fields: Omit<ReadingBody, 'deviceId'>): ReadingEnvelope {
  const body: ReadingBody = { deviceId: device.address, seq: fields.seq, timestamp: fields.timestamp, data: fields.data };
  return { reading: { ...body, signature: signAs(device, readingSignBytes(body)) }, gateways: [], service: undefined };
}

/** Fig. 5c: a gateway aggregates device-signed readings under `groupId`, committing to them in order. */
export function signAggregate(
  gateway: ChainSigner,
  fields: Pick<AggregateBody, 'groupId' | 'timestamp' | 'aggr'>,
  members: readonly SignedReading[],
): AggregateEnvelope {
  const body: AggregateBody = {
    gatewayId: gateway.address,
    groupId: fields.groupId,
    timestamp: fields.timestamp,
    aggr: fields.aggr,
    memberCount: members.length,
    membersRoot: membersRoot(members),
  };
  return { aggregate: { ...body, signature: signAs(gateway, aggregateSignBytes(body)) }, members: [...members], gateways: [], service: undefined };
}

/** Fig. 5d: a service signs a command to a device; `seq` counts its commands to that device. */
export function signCommand(service: ChainSigner, fields: Omit<CommandBody, 'serviceId'>): SignedCommand {
  const body: CommandBody = { serviceId: service.address, deviceId: fields.deviceId, seq: fields.seq, timestamp: fields.timestamp, command: fields.command };
  return { ...body, signature: signAs(service, commandSignBytes(body)) };
}

/** Fig. 5d: the commanded device signs its feedback, bound to the signed command. */
export function signFeedback(device: ChainSigner, command: SignedCommand, fields: Omit<FeedbackBody, 'deviceId'>): FeedbackEnvelope {
  if (!bytesEqual(command.deviceId, device.address)) throw new TypeError('signFeedback: the command is addressed to another device');
  const body: FeedbackBody = { deviceId: device.address, seq: fields.seq, timestamp: fields.timestamp, feedback: fields.feedback };
  const signature = signAs(device, feedbackSignBytes(body, commandHash(command)));
  return { command, feedback: { ...body, signature }, groupId: undefined, gateways: [], service: undefined };
}

function countersignWith<E extends Hops>(flow: Flow<E>, env: E, role: HopRole, signer: ChainSigner): E {
  if (env.service) throw new TypeError('countersign: the service has already closed this chain');
  if (role === 'gateway' && env.gateways.length >= MAX_GATEWAYS) throw new RangeError(`countersign: at most ${MAX_GATEWAYS} gateways`);
  const prior = [flow.origin(env), ...env.gateways];
  const entry: ChainEntry = { address: signer.address, signature: signAs(signer, flow.hopBytes(env, role, signer.address, prior)) };
  return role === 'gateway' ? { ...env, gateways: [...env.gateways, entry] } : { ...env, service: entry };
}

/** Fig. 5a/5b: a gateway relays (or the service accepts) a reading by countersigning the chain so far. */
export function countersignReading(env: ReadingEnvelope, role: HopRole, signer: ChainSigner): ReadingEnvelope {
  return countersignWith(FLOWS.reading, env, role, signer);
}

/** Fig. 5c: a relaying gateway or the service countersigns an aggregate. */
export function countersignAggregate(env: AggregateEnvelope, role: HopRole, signer: ChainSigner): AggregateEnvelope {
  return countersignWith(FLOWS.aggregate, env, role, signer);
}

/**
 * Fig. 5d: the gateway countersigns feedback (the first gateway sets `groupId`, its pointer linking
 * the command and feedback rows of its table to the service's), optionally the service after it.
 */
export function countersignFeedback(env: FeedbackEnvelope, role: HopRole, signer: ChainSigner, groupId?: number): FeedbackEnvelope {
  let e = env;
  if (groupId !== undefined && groupId !== env.groupId) {
    if (env.gateways.length > 0 || env.service) throw new TypeError('countersignFeedback: groupId is set by the first gateway only');
    e = { ...env, groupId };
  }
  return countersignWith(FLOWS.feedback, e, role, signer);
}

// ---------------------------------------------------------------------------------------------
// Verification

type Who = { role: SignerRole; address: Uint8Array; index: number };

function ref(who: Who): SignerRef {
  return { role: who.role, address: toHex(who.address), index: who.index };
}

function describe(who: Who): string {
  return `${who.role} ${toHex(who.address)} (chain position ${who.index})`;
}

function signerFailure(reason: SignerFailureReason, who: Who, what: string): VerifyFailure {
  return { ok: false, reason, failedSigner: ref(who), detail: `${describe(who)}: ${what}` };
}

function failureOf(r: VerifyResult): VerifyFailure | undefined {
  return r.ok ? undefined : r;
}

function chainFailure(reason: ChainFailureReason, detail: string): VerifyFailure {
  return { ok: false, reason, detail };
}

/** r in [1, n-1] and n/2 < s < n: a valid-looking signature in the malleable high-s form. */
function isHighS(type: KeyType, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const n = curveOf(type).Point.CURVE().n;
  const r = readUintBE(signature.subarray(0, 32));
  const s = readUintBE(signature.subarray(32));
  return r >= 1n && r < n && s > n >> 1n && s < n;
}

function checkSignature(resolver: KeyResolver, who: Who, message: () => Uint8Array, signature: Uint8Array): VerifyFailure | undefined {
  const key = resolver(who.address);
  if (!key) return signerFailure('unknown-key', who, 'no key known for this address');
  if (!isLowS(key.type, signature)) {
    return isHighS(key.type, signature)
      ? signerFailure('high-s', who, 'high-s signature (only low-s signatures are accepted)')
      : signerFailure('bad-signature', who, 'signature is not a valid r‖s pair');
  }
  if (!verify(key.type, key.publicKey, message(), signature)) return signerFailure('bad-signature', who, 'signature does not verify');
  return undefined;
}

function verifyHops<K extends ChainKind>(kind: K, env: Envelopes[K], resolver: KeyResolver, firstIndex: number): VerifyFailure | undefined {
  const gateways = env.gateways;
  for (let i = 0; i < gateways.length; i++) {
    const g = gateways[i]!;
    const who: Who = { role: 'gateway', address: g.address, index: firstIndex + i };
    const f = checkSignature(resolver, who, () => hopSignBytes(kind, env, 'gateway', g.address, i), g.signature);
    if (f) return f;
  }
  const s = env.service;
  if (!s) return undefined;
  const who: Who = { role: 'service', address: s.address, index: firstIndex + gateways.length };
  return checkSignature(resolver, who, () => hopSignBytes(kind, env, 'service', s.address, gateways.length), s.signature);
}

function checkShape(kind: ChainKind, env: Hops, opts: VerifyOptions): VerifyFailure | undefined {
  const minGateways = opts.minGateways ?? DEFAULT_CHAIN_SHAPE[kind].minGateways;
  const requireService = opts.requireService ?? DEFAULT_CHAIN_SHAPE[kind].requireService;
  if (env.gateways.length < minGateways) return chainFailure('incomplete', `${kind}: ${env.gateways.length} gateway signature(s), at least ${minGateways} required`);
  if (requireService && !env.service) return chainFailure('incomplete', `${kind}: the service signature is missing`);
  return undefined;
}

function checkReplay(guard: ReplayGuard | undefined, claims: (SeqClaim & { who: Who })[]): VerifyFailure | undefined {
  if (!guard) return undefined;
  const stale = guard.acceptAll(claims);
  if (stale < 0) return undefined;
  const c = claims[stale]!;
  return signerFailure('replay', c.who, `sequence number ${c.seq} is not above the last accepted (${guard.last(c.stream) ?? 'an earlier one in this envelope'})`);
}

function checkStructure<K extends EnvelopeKind>(kind: K, env: Envelopes[K]): VerifyFailure | undefined {
  try {
    encodeEnvelope(kind, env);
    return undefined;
  } catch (err) {
    return chainFailure('malformed', `${kind}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Compares an aggregate's commitment (memberCount, membersRoot) with a list of member readings, e.g.
 * the rows of the gateway's table that carry the same groupId (Fig. 5e/5f cross-check).
 */
export function checkAggregateMembers(body: AggregateBody, members: readonly SignedReading[]): VerifyResult {
  if (members.length < body.memberCount) return chainFailure('member-dropped', `aggregate ${body.groupId} commits to ${body.memberCount} members, ${members.length} present`);
  if (members.length > body.memberCount) return chainFailure('member-added', `aggregate ${body.groupId} commits to ${body.memberCount} members, ${members.length} present`);
  if (!bytesEqual(membersRoot(members), body.membersRoot)) {
    return chainFailure('member-mismatch', `aggregate ${body.groupId}: members differ from the committed set (replaced, modified or reordered)`);
  }
  return OK;
}

/**
 * Fig. 5a/5b. Chain order: device (0), gateways (1…g), service (g+1). Checks, in order: structure,
 * each signature in chain order, the chain's length (`incomplete`), then the replay guard.
 */
export function verifyReading(env: ReadingEnvelope, resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  const r = env.reading;
  const device: Who = { role: 'device', address: r.deviceId, index: 0 };
  return (
    checkStructure('reading', env) ??
    checkSignature(resolver, device, () => readingSignBytes(r), r.signature) ??
    verifyHops('reading', env, resolver, 1) ??
    checkShape('reading', env, opts) ??
    checkReplay(opts.replayGuard, [{ stream: r.deviceId, seq: r.seq, who: device }]) ??
    OK
  );
}

/**
 * Fig. 5c. Chain order: members' devices (0…k-1, as presented), the aggregating gateway (k), relaying
 * gateways, the service. The member list is compared with the commitment after the aggregating
 * gateway's signature verifies.
 */
export function verifyAggregate(env: AggregateEnvelope, resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  const structure = checkStructure('aggregate', env);
  if (structure) return structure;
  const k = env.members.length;
  const devices: Who[] = env.members.map((m, i) => ({ role: 'device', address: m.deviceId, index: i }));
  for (let i = 0; i < k; i++) {
    const m = env.members[i]!;
    const f = checkSignature(resolver, devices[i]!, () => readingSignBytes(m), m.signature);
    if (f) return f;
  }
  const a = env.aggregate;
  return (
    checkSignature(resolver, { role: 'gateway', address: a.gatewayId, index: k }, () => aggregateSignBytes(a), a.signature) ??
    failureOf(checkAggregateMembers(a, env.members)) ??
    verifyHops('aggregate', env, resolver, k + 1) ??
    checkShape('aggregate', env, opts) ??
    checkReplay(
      opts.replayGuard,
      env.members.map((m, i) => ({ stream: m.deviceId, seq: m.seq, who: devices[i]! })),
    ) ??
    OK
  );
}

/** Fig. 5d, first half: a command as the gateway and the device check it. Replay stream: serviceId ‖ deviceId. */
export function verifyCommand(command: SignedCommand, resolver: KeyResolver, opts: Pick<VerifyOptions, 'replayGuard'> = {}): VerifyResult {
  const service: Who = { role: 'service', address: command.serviceId, index: 0 };
  return (
    checkStructure('command', command) ??
    checkSignature(resolver, service, () => commandSignBytes(command), command.signature) ??
    checkReplay(opts.replayGuard, [{ stream: concatBytes(command.serviceId, command.deviceId), seq: command.seq, who: service }]) ??
    OK
  );
}

/**
 * Fig. 5d. Chain order: the service's command signature (0), the device (1), gateways (2…), the
 * service's closing countersignature if any. Replay is checked on the device's feedback number.
 */
export function verifyFeedback(env: FeedbackEnvelope, resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  const structure = checkStructure('feedback', env);
  if (structure) return structure;
  const c = env.command;
  const fb = env.feedback;
  if (!bytesEqual(c.deviceId, fb.deviceId)) return chainFailure('malformed', 'feedback: signed by a device the command was not addressed to');
  const device: Who = { role: 'device', address: fb.deviceId, index: 1 };
  return (
    checkSignature(resolver, { role: 'service', address: c.serviceId, index: 0 }, () => commandSignBytes(c), c.signature) ??
    checkSignature(resolver, device, () => feedbackSignBytes(fb, commandHash(c)), fb.signature) ??
    verifyHops('feedback', env, resolver, 2) ??
    checkShape('feedback', env, opts) ??
    checkReplay(opts.replayGuard, [{ stream: fb.deviceId, seq: fb.seq, who: device }]) ??
    OK
  );
}

const VERIFIERS: { [K in EnvelopeKind]: (env: Envelopes[K], resolver: KeyResolver, opts: VerifyOptions) => VerifyResult } = {
  reading: verifyReading,
  aggregate: verifyAggregate,
  command: verifyCommand,
  feedback: verifyFeedback,
};

export function verifyEnvelope<K extends EnvelopeKind>(kind: K, env: Envelopes[K], resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  const verifier = VERIFIERS[kind] as (env: Envelopes[K], resolver: KeyResolver, opts: VerifyOptions) => VerifyResult;
  return verifier(env, resolver, opts);
}

/** Decodes canonical envelope bytes and verifies them; undecodable or non-canonical bytes are `malformed`. */
export function verifyEnvelopeBytes<K extends EnvelopeKind>(kind: K, data: Uint8Array, resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  let env: Envelopes[K];
  try {
    env = decodeEnvelope(kind, data);
  } catch (err) {
    if (err instanceof InvalidMessageError) return chainFailure('malformed', err.message);
    throw err;
  }
  return verifyEnvelope(kind, env, resolver, opts);
}
