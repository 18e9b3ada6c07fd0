// Rows of the data-at-rest tables (paper §4.2, Fig. 5e/5f; SPEC §5.4): what a gateway's or a
// service's table stores, what the anchoring daemon hashes and what `iotchain data export` writes.
// A row is one record of Fig. 5 with its chain of signatures: a reading (5a/5b), an aggregate (5c),
// a command or a feedback (5d), plus the table's own columns: a monotone id, the table name and the
// optional groupId pointer that links a gateway's rows to the service's.
//
// Canonical bytes (hashed into sub-tables, never JSON):
//   row   = u32 big-endian length of `tuple` ‖ tuple
//   tuple = msgpack [version = 1, id, table, groupId | nil, kind tag, envelope tuple]
// so a sub-table's bytes are its rows' bytes concatenated, and splitting them back is unambiguous.
// The JSON form (one row per JSONL line in exports) is for people and tools; it is never hashed.
import { decode, encode, optional, str, u8, type Codec } from '../../lib/encoding.js';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { concatBytes } from '../../lib/hex.js';
import { TABLE_NAME_RE } from './types.js';
import {
  ENVELOPE_CODECS,
  MAX_ENVELOPE_BYTES,
  expectObject,
  isEnvelopeKind,
  jsonU53,
  verifyEnvelope,
  type EnvelopeKind,
  type Envelopes,
  type KeyResolver,
  type VerifyOptions,
  type VerifyResult,
} from './signatureChain.js';

export const ROW_FORMAT_VERSION = 1;
/** Permanent numeric tags of the row kinds in the canonical encoding. */
export const ROW_KIND_TAGS: { readonly [K in EnvelopeKind]: number } = { reading: 1, aggregate: 2, command: 3, feedback: 4 };
/** Table names (shared with the on-chain module, which anchors batches by table name). */
export { TABLE_NAME_RE };
/** Largest canonical row (without its 4-byte length prefix). */
export const MAX_ROW_BYTES = MAX_ENVELOPE_BYTES + 1024;
const PREFIX_BYTES = 4;

/** The record a row holds, by kind. */
export type RowRecord = { [K in EnvelopeKind]: { kind: K; envelope: Envelopes[K] } }[EnvelopeKind];

export type Row = {
  /** Monotone per table (the daemon batches rows by id). */
  id: number;
  table: string;
  /** The gateway's pointer linking its rows to the service's (Fig. 5c/5d); undefined when none. */
  groupId: number | undefined;
} & RowRecord;

const tableCodec = str(64, TABLE_NAME_RE);
const groupIdCodec = optional(jsonU53);
const KIND_BY_TAG = new Map<number, EnvelopeKind>(Object.entries(ROW_KIND_TAGS).map(([k, v]) => [v, k as EnvelopeKind]));
const ROW_JSON_KEYS = ['id', 'table', 'groupId', 'kind', 'envelope'] as const;

function bad(path: string, what: string): never {
  throw new InvalidMessageError(ERR.ENCODING, `${path}: ${what}`);
}

// Helpers generic in the kind, so each (kind, envelope) pair goes through its own kind's codec.
function envelopeCodec<K extends EnvelopeKind>(r: { kind: K }): Codec<Envelopes[K]> {
  return ENVELOPE_CODECS[r.kind];
}

function kindFromJson(j: unknown, path: string): EnvelopeKind {
  if (!isEnvelopeKind(j)) bad(path, `expected one of ${Object.keys(ROW_KIND_TAGS).join(', ')}`);
  return j;
}

/** The one place a (kind, envelope) pair, decoded by its kind's codec, becomes a RowRecord. */
function makeRecord<K extends EnvelopeKind>(kind: K, envelope: Envelopes[K]): RowRecord {
  return { kind, envelope } as RowRecord;
}

function recordFrom(kind: EnvelopeKind, decodeWith: <K extends EnvelopeKind>(codec: Codec<Envelopes[K]>) => Envelopes[K]): RowRecord {
  return makeRecord(kind, decodeWith(ENVELOPE_CODECS[kind]));
}

/**
 * The row tuple (without the length prefix) and its JSON form
 * {id, table, groupId (null when none), kind, envelope}.
 */
export const rowCodec: Codec<Row> = {
  toPlain(row) {
    return [
      u8.toPlain(ROW_FORMAT_VERSION),
      jsonU53.toPlain(row.id),
      tableCodec.toPlain(row.table),
      groupIdCodec.toPlain(row.groupId),
      u8.toPlain(ROW_KIND_TAGS[row.kind]),
      envelopeCodec(row).toPlain(row.envelope),
    ];
  },
  fromPlain(p, path) {
    if (!Array.isArray(p)) bad(path, 'expected a tuple (array)');
    if (p.length !== 6) bad(path, `expected 6 fields, got ${p.length}`);
    const version = u8.fromPlain(p[0], `${path}.version`);
    if (version !== ROW_FORMAT_VERSION) bad(`${path}.version`, `unsupported row format ${version}`);
    const id = jsonU53.fromPlain(p[1], `${path}.id`);
    const table = tableCodec.fromPlain(p[2], `${path}.table`);
    const groupId = groupIdCodec.fromPlain(p[3], `${path}.groupId`);
    const tag = u8.fromPlain(p[4], `${path}.kind`);
    const kind = KIND_BY_TAG.get(tag);
    if (kind === undefined) bad(`${path}.kind`, `unknown row kind ${tag}`);
    return { id, table, groupId, ...recordFrom(kind, (c) => c.fromPlain(p[5], `${path}.envelope`)) };
  },
  toJson(row) {
    return { id: row.id, table: row.table, groupId: row.groupId ?? null, kind: row.kind, envelope: envelopeCodec(row).toJson(row.envelope) };
  },
  fromJson(j, path) {
    const o = expectObject(j, path, ROW_JSON_KEYS);
    const id = jsonU53.fromJson(o.id, `${path}.id`);
    const table = tableCodec.fromJson(o.table, `${path}.table`);
    const groupId = groupIdCodec.fromJson(o.groupId, `${path}.groupId`);
    const kind = kindFromJson(o.kind, `${path}.kind`);
    return { id, table, groupId, ...recordFrom(kind, (c) => c.fromJson(o.envelope, `${path}.envelope`)) };
  },
};

/** Canonical length-prefixed bytes of a row. Throws RangeError/TypeError for a row outside its schema. */
export function encodeRow(row: Row): Uint8Array {
  const body = encode(rowCodec, row);
  if (body.length > MAX_ROW_BYTES) throw new RangeError(`row of ${body.length} bytes exceeds ${MAX_ROW_BYTES}`);
  const out = new Uint8Array(PREFIX_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, PREFIX_BYTES);
  return out;
}

/** Decodes exactly one canonical row; rejects a wrong length prefix, trailing bytes and any non-canonical form. */
export function decodeRow(data: Uint8Array): Row {
  if (!(data instanceof Uint8Array)) bad('row', 'expected bytes');
  if (data.length < PREFIX_BYTES) bad('row', `shorter than its ${PREFIX_BYTES}-byte length prefix`);
  const len = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  if (len !== data.length - PREFIX_BYTES) bad('row', `length prefix ${len} does not match the ${data.length - PREFIX_BYTES} bytes that follow`);
  return decode(rowCodec, data.subarray(PREFIX_BYTES), 'row', MAX_ROW_BYTES);
}

/** Concatenated canonical rows: the bytes of a sub-table as the anchoring daemon hashes them. */
export function encodeRows(rows: readonly Row[]): Uint8Array {
  return concatBytes(...rows.map(encodeRow));
}

/** Splits and decodes concatenated rows; rejects truncation and any bad row (naming its offset). */
export function decodeRows(data: Uint8Array): Row[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const rows: Row[] = [];
  let off = 0;
  while (off < data.length) {
    if (data.length - off < PREFIX_BYTES) bad(`rows @${off}`, 'truncated length prefix');
    const end = off + PREFIX_BYTES + view.getUint32(off);
    if (end > data.length) bad(`rows @${off}`, 'truncated row');
    try {
      rows.push(decodeRow(data.subarray(off, end)));
    } catch (err) {
      if (err instanceof InvalidMessageError) bad(`rows @${off}`, err.message);
      throw err;
    }
    off = end;
  }
  return rows;
}

/** JSON form: {id, table, groupId (null when none), kind, envelope}; bytes 0x-hex, integers numbers. */
export function rowToJson(row: Row): unknown {
  rowCodec.toPlain(row);
  return rowCodec.toJson(row);
}

/** Parses a row's JSON form strictly (exact fields, valid hex, integers as numbers); errors name the field. */
export function rowFromJson(json: unknown): Row {
  return rowCodec.fromJson(json, 'row');
}

/** One JSONL line (no trailing newline). */
export function rowToJsonLine(row: Row): string {
  return JSON.stringify(rowToJson(row));
}

export function rowFromJsonLine(line: string): Row {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    bad('row', `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return rowFromJson(json);
}

function signedGroupId(r: RowRecord): number | undefined {
  if (r.kind === 'aggregate') return r.envelope.aggregate.groupId;
  if (r.kind === 'feedback') return r.envelope.groupId;
  return undefined;
}

/**
 * Verifies the chain of signatures a row carries (see verifyEnvelope; `opts` sets the expected
 * chain shape, e.g. a gateway's table holds readings and feedback before its own signature). When
 * the envelope signs a groupId (aggregates; feedback once a gateway countersigned it), the row's
 * groupId must be that one; otherwise the row's groupId is the table's own unsigned pointer.
 */
export function verifyRow(row: Row, resolver: KeyResolver, opts: VerifyOptions = {}): VerifyResult {
  const signed = signedGroupId(row);
  if (signed !== undefined && row.groupId !== signed) {
    return { ok: false, reason: 'malformed', detail: `row ${row.id}: groupId ${row.groupId ?? 'null'} differs from the signed groupId ${signed}` };
  }
  return verifyRecord(row, resolver, opts);
}

function verifyRecord<K extends EnvelopeKind>(r: { kind: K; envelope: Envelopes[K] }, resolver: KeyResolver, opts: VerifyOptions): VerifyResult {
  return verifyEnvelope(r.kind, r.envelope, resolver, opts);
}
