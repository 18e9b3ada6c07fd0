// Where a gateway or service keeps its IoT tables (paper Fig. 5e/5f): the interface the ingest
// command, the anchoring daemon and the export share, and the choice of backend from a STORE string:
// a directory → the embedded LevelDB store (default), a postgres:// URL → the PostgreSQL adapter.
// Off-chain: the state machine never imports this file.
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { decodeEnvelope, encodeEnvelope, type EnvelopeKind } from './signatureChain.js';
import { ROW_KIND_TAGS, TABLE_NAME_RE, type Row, type RowRecord } from './rows.js';

/** A row before the store gives it an id. */
export type NewRow = { groupId: number | undefined } & RowRecord;

export interface DataStore {
  /** 'leveldb' or 'postgres'. */
  readonly kind: string;
  /** Where it is, for messages (a URL without its password). */
  readonly location: string;
  /** Appends rows to `table` atomically, giving them increasing ids; returns them as stored. */
  append(table: string, rows: readonly NewRow[]): Promise<Row[]>;
  /**
   * The committed horizon: the largest id H such that no row with id ≤ H can still appear (0 if
   * none). The daemon reads only up to it, because ids can become visible out of order.
   */
  horizon(table: string): Promise<number>;
  /** Rows with afterId < id ≤ upTo, in id order, at most `limit`. */
  read(table: string, afterId: number, upTo: number, limit: number): Promise<Row[]>;
  /** Number of rows in `table`. */
  count(table: string): Promise<number>;
  /** Every row of `table`, in id order. */
  scan(table: string): AsyncIterable<Row>;
  /** Lets other processes open an embedded store until the next call (a polling daemon calls it between polls). */
  release(): Promise<void>;
  close(): Promise<void>;
}

export const POSTGRES_URL_RE = /^postgres(ql)?:\/\//;

export function checkTableName(table: string): string {
  if (typeof table !== 'string' || !TABLE_NAME_RE.test(table)) {
    throw new InvalidMessageError(ERR.ENCODING, `table name ${JSON.stringify(table)} must match ${TABLE_NAME_RE} (letters, digits, _ . -)`);
  }
  return table;
}

const KIND_BY_TAG = new Map<number, EnvelopeKind>(Object.entries(ROW_KIND_TAGS).map(([k, v]) => [v, k as EnvelopeKind]));

/** Canonical envelope bytes and kind tag of a record (what the PostgreSQL adapter stores). */
export function recordToColumns(r: RowRecord): { kindTag: number; envelope: Uint8Array } {
  return { kindTag: ROW_KIND_TAGS[r.kind], envelope: encodeRecordEnvelope(r) };
}

function encodeRecordEnvelope<K extends EnvelopeKind>(r: { kind: K; envelope: Parameters<typeof encodeEnvelope<K>>[1] }): Uint8Array {
  return encodeEnvelope(r.kind, r.envelope);
}

/** Inverse of recordToColumns; throws InvalidMessageError on an unknown kind or non-canonical bytes. */
export function recordFromColumns(kindTag: number, envelope: Uint8Array, where: string): RowRecord {
  const kind = KIND_BY_TAG.get(kindTag);
  if (kind === undefined) throw new InvalidMessageError(ERR.ENCODING, `${where}: unknown row kind ${kindTag}`);
  return { kind, envelope: decodeEnvelope(kind, envelope) } as RowRecord;
}

export interface OpenStoreOptions {
  /** LevelDB: how long to wait for another process to release the directory (default 10 s). */
  lockTimeoutMs?: number;
}

/** Opens the store a STORE string names: a postgres:// URL, or else a LevelDB directory. */
export async function openDataStore(spec: string, opts: OpenStoreOptions = {}): Promise<DataStore> {
  if (POSTGRES_URL_RE.test(spec)) {
    const { PgDataStore } = await import('./pgDataStore.js');
    return PgDataStore.open(spec);
  }
  const { LevelDataStore } = await import('./levelDataStore.js');
  return new LevelDataStore(spec, opts);
}
