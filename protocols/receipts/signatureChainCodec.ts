// Chain-of-signatures wire formats (paper §4.2.1, Fig. 5): the signed records of each flow and the
// envelopes that carry them with their countersignatures. Each is one lib/encoding.ts codec, giving
// both its canonical msgpack tuple (what is signed, hashed and stored) and its JSON form (export,
// humans). Field order is permanent: it is part of what is signed (README.md "Chain of signatures").
//
// JSON here is stricter than lib/encoding's defaults, because exported rows come from outside:
// objects must carry exactly their fields (a missing optional field is an error, not null),
// integers must be JSON numbers, and a mixed-case address must be a valid EIP-55 checksum. Bytes
// and addresses are written as lower-case 0x-hex.
import { bytes, bytes20, decode, encode, list, optional, struct, u53, type Codec } from '../../lib/encoding.js';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { parseAddress } from '../../crypto/keys.js';

/** Largest reading, aggregate, command or feedback payload. */
export const MAX_DATA_BYTES = 16 * 1024;
/** Most gateways (relays) in one chain. */
export const MAX_GATEWAYS = 8;
/** Most member readings in one aggregate. */
export const MAX_MEMBERS = 256;
/** Largest encoded envelope accepted by `decodeEnvelope`. */
export const MAX_ENVELOPE_BYTES = 8 * 1024 * 1024;

function bad(path: string, what: string): never {
  throw new InvalidMessageError(ERR.ENCODING, `${path}: ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Strict JSON variants of the lib codecs (same bytes)

/** u53 whose JSON form must be a number (lib's u53 also takes decimal strings, for CLI args). */
export const jsonU53: Codec<number> = {
  ...u53,
  fromJson(j, path) {
    if (typeof j !== 'number') bad(path, 'expected a non-negative integer (JSON number)');
    return u53.fromJson(j, path);
  },
};

/** 20-byte address; JSON input must be 0x + 40 hex digits, EIP-55 checked when mixed-case. */
export const address: Codec<Uint8Array> = {
  ...bytes20,
  fromJson(j, path) {
    if (typeof j !== 'string') bad(path, 'expected a 0x-hex address');
    return parseAddress(j, path);
  },
};

/** Rejects anything but a JSON object with exactly the keys `keys`. */
export function expectObject(j: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) bad(path, 'expected a JSON object');
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(j, k)) bad(`${path}.${k}`, 'missing field');
  for (const k of Object.keys(j)) if (!keys.includes(k)) bad(path, `unknown field "${k}" (expected ${keys.join(', ')})`);
  return j as Record<string, unknown>;
}

/** `struct` whose JSON form must carry exactly its fields. */
export function record<T extends object>(fields: { [K in keyof T]: Codec<T[K]> }, order: readonly (keyof T & string)[]): Codec<T> {
  const inner = struct<T>(fields, order);
  return {
    ...inner,
    fromJson(j, path) {
      return inner.fromJson(expectObject(j, path, order), path);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Types

/** One countersignature: who signed (20-byte address) and the 64-byte low-s ECDSA signature. */
export type ChainEntry = { address: Uint8Array; signature: Uint8Array };

/** Countersignatures added after the origin signature, in path order: gateways, then the service. */
export type Hops = { gateways: ChainEntry[]; service: ChainEntry | undefined };

/** A device reading (Fig. 5a–c). `deviceId` is the device's address; `timestamp` is ms since the UNIX epoch. */
export type ReadingBody = { deviceId: Uint8Array; seq: number; timestamp: number; data: Uint8Array };
export type SignedReading = ReadingBody & { signature: Uint8Array };
/** Fig. 5a/5b: device → gateway(s) → service. */
export type ReadingEnvelope = { reading: SignedReading } & Hops;

/** Fig. 5c: a gateway's aggregate of member readings, committing to them by count and Merkle root. */
export type AggregateBody = {
  gatewayId: Uint8Array;
  groupId: number;
  timestamp: number;
  aggr: Uint8Array;
  memberCount: number;
  /** RFC 6962 Merkle root over the canonical encodings of the member SignedReadings, in order. */
  membersRoot: Uint8Array;
};
export type SignedAggregate = AggregateBody & { signature: Uint8Array };
/** `gateways` here are relays after the aggregating gateway. */
export type AggregateEnvelope = { aggregate: SignedAggregate; members: SignedReading[] } & Hops;

/** Fig. 5d: a service's command to a device. `seq` counts this service's commands to this device. */
export type CommandBody = { serviceId: Uint8Array; deviceId: Uint8Array; seq: number; timestamp: number; command: Uint8Array };
export type SignedCommand = CommandBody & { signature: Uint8Array };

/** Fig. 5d: the device's feedback; its signature also covers the hash of the signed command. */
export type FeedbackBody = { deviceId: Uint8Array; seq: number; timestamp: number; feedback: Uint8Array };
export type SignedFeedback = FeedbackBody & { signature: Uint8Array };
/** `groupId` is assigned by the first gateway and covered by every countersignature. */
export type FeedbackEnvelope = { command: SignedCommand; feedback: SignedFeedback; groupId: number | undefined } & Hops;

// ---------------------------------------------------------------------------------------------
// Codecs. Field lists are written once; a signed record is its body followed by `signature`.

const sig = bytes(64, true);
const payload = bytes(MAX_DATA_BYTES);

export const chainEntryCodec = record<ChainEntry>({ address, signature: sig }, ['address', 'signature']);

const readingFields = { deviceId: address, seq: jsonU53, timestamp: jsonU53, data: payload };
const readingOrder = ['deviceId', 'seq', 'timestamp', 'data'] as const;
export const readingBodyCodec = record<ReadingBody>(readingFields, readingOrder);
export const signedReadingCodec = record<SignedReading>({ ...readingFields, signature: sig }, [...readingOrder, 'signature']);

const gatewaysCodec = list(chainEntryCodec, MAX_GATEWAYS);
const serviceCodec = optional(chainEntryCodec);

export const readingEnvelopeCodec = record<ReadingEnvelope>(
  { reading: signedReadingCodec, gateways: gatewaysCodec, service: serviceCodec },
  ['reading', 'gateways', 'service'],
);

const aggregateFields = { gatewayId: address, groupId: jsonU53, timestamp: jsonU53, aggr: payload, memberCount: jsonU53, membersRoot: bytes(32, true) };
const aggregateOrder = ['gatewayId', 'groupId', 'timestamp', 'aggr', 'memberCount', 'membersRoot'] as const;
export const aggregateBodyCodec = record<AggregateBody>(aggregateFields, aggregateOrder);
export const signedAggregateCodec = record<SignedAggregate>({ ...aggregateFields, signature: sig }, [...aggregateOrder, 'signature']);
export const aggregateEnvelopeCodec = record<AggregateEnvelope>(
  { aggregate: signedAggregateCodec, members: list(signedReadingCodec, MAX_MEMBERS), gateways: gatewaysCodec, service: serviceCodec },
  ['aggregate', 'members', 'gateways', 'service'],
);

const commandFields = { serviceId: address, deviceId: address, seq: jsonU53, timestamp: jsonU53, command: payload };
const commandOrder = ['serviceId', 'deviceId', 'seq', 'timestamp', 'command'] as const;
export const commandBodyCodec = record<CommandBody>(commandFields, commandOrder);
export const signedCommandCodec = record<SignedCommand>({ ...commandFields, signature: sig }, [...commandOrder, 'signature']);

const feedbackFields = { deviceId: address, seq: jsonU53, timestamp: jsonU53, feedback: payload };
const feedbackOrder = ['deviceId', 'seq', 'timestamp', 'feedback'] as const;
export const feedbackBodyCodec = record<FeedbackBody>(feedbackFields, feedbackOrder);
export const signedFeedbackCodec = record<SignedFeedback>({ ...feedbackFields, signature: sig }, [...feedbackOrder, 'signature']);
/** What the device signs for feedback: its body followed by the hash of the signed command. */
export const feedbackSignedTupleCodec = record<FeedbackBody & { commandHash: Uint8Array }>(
  { ...feedbackFields, commandHash: bytes(32, true) },
  [...feedbackOrder, 'commandHash'],
);
export const feedbackEnvelopeCodec = record<FeedbackEnvelope>(
  { command: signedCommandCodec, feedback: signedFeedbackCodec, groupId: optional(jsonU53), gateways: gatewaysCodec, service: serviceCodec },
  ['command', 'feedback', 'groupId', 'gateways', 'service'],
);

// ---------------------------------------------------------------------------------------------
// Envelopes by kind

/** The four envelope kinds, by name. A signed command travels on its own. */
export type Envelopes = {
  reading: ReadingEnvelope;
  aggregate: AggregateEnvelope;
  command: SignedCommand;
  feedback: FeedbackEnvelope;
};
export type EnvelopeKind = keyof Envelopes;
export const ENVELOPE_KINDS: readonly EnvelopeKind[] = ['reading', 'aggregate', 'command', 'feedback'];

export const ENVELOPE_CODECS: { [K in EnvelopeKind]: Codec<Envelopes[K]> } = {
  reading: readingEnvelopeCodec,
  aggregate: aggregateEnvelopeCodec,
  command: signedCommandCodec,
  feedback: feedbackEnvelopeCodec,
};

export function isEnvelopeKind(s: unknown): s is EnvelopeKind {
  return typeof s === 'string' && (ENVELOPE_KINDS as readonly string[]).includes(s);
}

/** Canonical bytes of an envelope. Throws RangeError/TypeError for a value outside its schema. */
export function encodeEnvelope<K extends EnvelopeKind>(kind: K, envelope: Envelopes[K]): Uint8Array {
  return encode(ENVELOPE_CODECS[kind], envelope);
}

/** Decodes canonical envelope bytes; throws InvalidMessageError on anything else. */
export function decodeEnvelope<K extends EnvelopeKind>(kind: K, data: Uint8Array): Envelopes[K] {
  return decode(ENVELOPE_CODECS[kind], data, `${kind} envelope`, MAX_ENVELOPE_BYTES);
}

/** JSON form (validated against the schema first: a value outside it is a bug and throws). */
export function envelopeToJson<K extends EnvelopeKind>(kind: K, envelope: Envelopes[K]): unknown {
  const codec = ENVELOPE_CODECS[kind];
  codec.toPlain(envelope);
  return codec.toJson(envelope);
}

/** Parses the JSON form (already JSON.parse'd); throws InvalidMessageError naming the bad field. */
export function envelopeFromJson<K extends EnvelopeKind>(kind: K, json: unknown): Envelopes[K] {
  return ENVELOPE_CODECS[kind].fromJson(json, kind);
}
