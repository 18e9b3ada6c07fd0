// PostgreSQL adapter (production). One table holds every IoT table's rows:
//   iotchain_rows(tbl text, id bigint DEFAULT nextval('iotchain_rows_id_seq'), group_id bigint,
//                 kind smallint, envelope bytea, inserted_at timestamptz, PRIMARY KEY (tbl, id))
// `envelope` is the canonical envelope (signatureChain.ts); a row's canonical bytes are rebuilt from
// (id, tbl, group_id, kind, envelope). Ids come from one sequence, so a table's ids have gaps.
//
// Committed horizon: sequence values are handed out in order but their transactions commit in any
// order, so "the largest visible id" can jump over an id that commits later. The daemon therefore
// takes LOCK TABLE … IN SHARE MODE, which waits for every transaction that holds ROW EXCLUSIVE on the
// table (any INSERT takes it before it evaluates nextval) and blocks new ones for the moment it
// takes to read max(id): every id at or below that maximum is then final. Writers that call nextval
// in a separate statement must first lock the table in ROW EXCLUSIVE mode (append() inserts with
// DEFAULT ids, so it needs nothing more).
import pg from 'pg';
import { ERR, InternalError, InvalidMessageError } from '../../lib/errors.js';
import { checkTableName, recordFromColumns, recordToColumns, type DataStore, type NewRow } from './dataStore.js';
import type { Row } from './rows.js';

const INSERT_CHUNK = 1000;
const PAGE = 5000;

const SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS iotchain_rows_id_seq;
CREATE TABLE IF NOT EXISTS iotchain_rows (
  tbl text NOT NULL,
  id bigint NOT NULL DEFAULT nextval('iotchain_rows_id_seq'),
  group_id bigint,
  kind smallint NOT NULL,
  envelope bytea NOT NULL,
  inserted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tbl, id)
);`;

function safeInt(v: unknown, what: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InternalError(ERR.DB_CORRUPT, `${what}: ${String(v)} is not an id`);
  return n;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

interface RowColumns {
  id: string;
  tbl: string;
  group_id: string | null;
  kind: number;
  envelope: Buffer;
}

export class PgDataStore implements DataStore {
  readonly kind = 'postgres';
  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  static async open(url: string): Promise<PgDataStore> {
    let pool: pg.Pool;
    try {
      pool = new pg.Pool({ connectionString: url, max: 2 });
    } catch (e) {
      throw new InvalidMessageError(ERR.CONFIG, `bad PostgreSQL URL ${redact(url)}: ${(e as Error).message}`);
    }
    pool.on('error', () => {}); // an idle client lost its connection: the next query reports it
    const store = new PgDataStore(pool, redact(url));
    try {
      await store.transaction(async (c) => {
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('iotchain_rows schema'))`); // concurrent first opens
        await c.query(SCHEMA);
      });
    } catch (e) {
      await pool.end().catch(() => {});
      throw new InternalError(ERR.DB_CORRUPT, `cannot open PostgreSQL store ${store.location}: ${(e as Error).message}`);
    }
    return store;
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async append(table: string, rows: readonly NewRow[]): Promise<Row[]> {
    checkTableName(table);
    return this.transaction(async (c) => {
      const out: Row[] = [];
      for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
        const chunk = rows.slice(at, at + INSERT_CHUNK);
        const params: unknown[] = [];
        const values = chunk.map((r, i) => {
          const { kindTag, envelope } = recordToColumns(r);
          params.push(table, r.groupId ?? null, kindTag, Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength));
          return `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`;
        });
        const res = await c.query<{ id: string }>(`INSERT INTO iotchain_rows (tbl, group_id, kind, envelope) VALUES ${values.join(', ')} RETURNING id`, params);
        res.rows.forEach((r, i) => out.push({ ...chunk[i]!, id: safeInt(r.id, 'inserted id'), table } as Row));
      }
      return out;
    });
  }

  async horizon(table: string): Promise<number> {
    checkTableName(table);
    return this.transaction(async (c) => {
      await c.query(`SET LOCAL lock_timeout = '10s'`);
      await c.query('LOCK TABLE iotchain_rows IN SHARE MODE');
      const res = await c.query<{ h: string | null }>('SELECT max(id) AS h FROM iotchain_rows WHERE tbl = $1', [table]);
      return res.rows[0]?.h == null ? 0 : safeInt(res.rows[0].h, 'horizon');
    });
  }

  async count(table: string): Promise<number> {
    const res = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM iotchain_rows WHERE tbl = $1', [checkTableName(table)]);
    return safeInt(res.rows[0]?.n ?? '0', 'count');
  }

  async read(table: string, afterId: number, upTo: number, limit: number): Promise<Row[]> {
    if (upTo <= afterId || limit <= 0) return [];
    const res = await this.pool.query<RowColumns>(
      'SELECT id, tbl, group_id, kind, envelope FROM iotchain_rows WHERE tbl = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4',
      [checkTableName(table), afterId, upTo, limit],
    );
    return res.rows.map((r) => this.toRow(r));
  }

  private toRow(r: RowColumns): Row {
    const id = safeInt(r.id, 'id');
    const where = `${this.location} ${r.tbl}/${id}`;
    const envelope = new Uint8Array(r.envelope.buffer, r.envelope.byteOffset, r.envelope.byteLength);
    return { id, table: r.tbl, groupId: r.group_id === null ? undefined : safeInt(r.group_id, `${where} group_id`), ...recordFromColumns(r.kind, envelope, where) };
  }

  async *scan(table: string): AsyncIterable<Row> {
    let after = 0;
    for (;;) {
      const page = await this.read(table, after, Number.MAX_SAFE_INTEGER, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  async release(): Promise<void> {}

  async close(): Promise<void> {
    await this.pool.end();
  }
}
