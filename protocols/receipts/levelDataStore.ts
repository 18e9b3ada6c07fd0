// The embedded default store: one LevelDB directory, any number of tables. Keys:
//   'r' ‖ u8 len ‖ table ‖ u64be(id) → canonical row bytes (rows.ts encodeRow)
//   'n' ‖ u8 len ‖ table              → u64be next id (ids start at 1)
// An append writes its rows and the new counter in one synced batch, and appends are serialized in
// this process, so every id below the counter is committed: the horizon is the counter minus one.
// LevelDB admits one process at a time; a polling daemon releases the directory between polls, and
// open() waits up to lockTimeoutMs for another process to release it.
import { Level } from 'level';
import { ERR, InternalError } from '../../lib/errors.js';
import { concatBytes, plainView as view, readUintBE, uintBE, utf8 } from '../../lib/hex.js';
import { checkTableName, type DataStore, type NewRow, type OpenStoreOptions } from './dataStore.js';
import { decodeRow, encodeRow, type Row } from './rows.js';

const ROW = 0x72;
const NEXT = 0x6e;

function tablePart(table: string): Uint8Array {
  const b = utf8(checkTableName(table));
  return concatBytes(new Uint8Array([b.length]), b);
}
const rowKey = (table: string, id: number) => concatBytes(new Uint8Array([ROW]), tablePart(table), uintBE(id, 8));
const nextKey = (table: string) => concatBytes(new Uint8Array([NEXT]), tablePart(table));

function isLocked(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    if ((c as { code?: unknown }).code === 'LEVEL_LOCKED' || /lock/i.test(c.message)) return true;
  }
  return false;
}

export class LevelDataStore implements DataStore {
  readonly kind = 'leveldb';
  readonly location: string;
  private db: Level<Uint8Array, Uint8Array> | undefined;
  private opening: Promise<Level<Uint8Array, Uint8Array>> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lockTimeoutMs: number;

  constructor(dir: string, opts: OpenStoreOptions = {}) {
    this.location = dir;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
  }

  private async handle(): Promise<Level<Uint8Array, Uint8Array>> {
    if (this.db) return this.db;
    this.opening ??= (async () => {
      const deadline = Date.now() + this.lockTimeoutMs;
      for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
        const db = new Level<Uint8Array, Uint8Array>(this.location, { keyEncoding: 'view', valueEncoding: 'view' });
        try {
          await db.open();
          this.db = db;
          return db;
        } catch (e) {
          if (!isLocked(e) || Date.now() + wait > deadline) {
            const cause = (e as { cause?: { message?: string } }).cause?.message ?? '';
            throw new InternalError(ERR.DB_CORRUPT, `cannot open the LevelDB store at ${this.location}: ${(e as Error).message} ${cause}`.trim());
          }
          await new Promise((r) => setTimeout(r, wait)); // another process holds the directory: back off
        }
      }
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Runs `fn` after every earlier write of this store (appends are serialized). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async nextId(db: Level<Uint8Array, Uint8Array>, table: string): Promise<number> {
    const raw = await db.get(nextKey(table));
    return raw === undefined ? 1 : Number(readUintBE(view(raw)));
  }

  async append(table: string, rows: readonly NewRow[]): Promise<Row[]> {
    checkTableName(table);
    return this.serial(async () => {
      const db = await this.handle();
      let id = await this.nextId(db, table);
      const out: Row[] = [];
      const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
      for (const r of rows) {
        const row = { ...r, id, table } as Row;
        ops.push({ type: 'put', key: rowKey(table, id), value: encodeRow(row) });
        out.push(row);
        id++;
      }
      ops.push({ type: 'put', key: nextKey(table), value: uintBE(id, 8) });
      await (db.batch as (ops: unknown, opts: unknown) => Promise<void>).call(db, ops, { sync: true });
      return out;
    });
  }

  async horizon(table: string): Promise<number> {
    checkTableName(table);
    return this.serial(async () => (await this.nextId(await this.handle(), table)) - 1);
  }

  async count(table: string): Promise<number> {
    return this.horizon(table); // ids are dense from 1
  }

  async read(table: string, afterId: number, upTo: number, limit: number): Promise<Row[]> {
    const db = await this.handle();
    const out: Row[] = [];
    if (upTo <= afterId || limit <= 0) return out;
    for await (const [k, v] of db.iterator({ gt: rowKey(table, afterId), lte: rowKey(table, upTo), limit })) {
      out.push(this.decode(table, view(k), view(v)));
    }
    return out;
  }

  private decode(table: string, key: Uint8Array, value: Uint8Array): Row {
    const id = Number(readUintBE(key.subarray(key.length - 8)));
    const row = decodeRow(value);
    if (row.id !== id || row.table !== table) throw new InternalError(ERR.DB_CORRUPT, `${this.location}: the row stored under ${table}/${id} is ${row.table}/${row.id}`);
    return row;
  }

  async *scan(table: string): AsyncIterable<Row> {
    const db = await this.handle();
    for await (const [k, v] of db.iterator({ gt: rowKey(table, 0), lte: rowKey(table, Number.MAX_SAFE_INTEGER) })) yield this.decode(table, view(k), view(v));
    // (id 0 is never assigned: ids start at 1)
  }

  async release(): Promise<void> {
    await this.serial(async () => {
      const db = this.db;
      this.db = undefined;
      if (db) await db.close();
    });
  }

  close(): Promise<void> {
    return this.release();
  }
}
