// Exported tables as JSONL (one row a line, rows.ts JSON form): writing from a store, reading for the
// auditor. Off-chain: the state machine never imports this file.
import { createReadStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { rowFromJsonLine, rowToJsonLine, type Row } from './rows.js';
import type { DataStore } from './dataStore.js';

/** Writes every row of `table` to `file` (atomically: a temporary file renamed at the end). */
export async function exportTable(store: DataStore, table: string, file: string): Promise<{ rows: number; firstId: number | undefined; lastId: number | undefined }> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  let rows = 0;
  let firstId: number | undefined;
  let lastId: number | undefined;
  try {
    let buf: string[] = [];
    for await (const row of store.scan(table)) {
      buf.push(rowToJsonLine(row));
      firstId ??= row.id;
      lastId = row.id;
      rows++;
      if (buf.length >= 1000) {
        await fh.write(buf.join('\n') + '\n');
        buf = [];
      }
    }
    if (buf.length > 0) await fh.write(buf.join('\n') + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return { rows, firstId, lastId };
}

/** Reads a JSONL export; a line that is not a valid row is reported (1-based line number), not fatal. */
export async function readRowsFile(file: string): Promise<{ rows: Row[]; malformed: { line: number; detail: string }[] }> {
  const rows: Row[] = [];
  const malformed: { line: number; detail: string }[] = [];
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    try {
      rows.push(rowFromJsonLine(line));
    } catch (e) {
      malformed.push({ line: n, detail: e instanceof Error ? e.message : String(e) });
    }
  }
  return { rows, malformed };
}

/** Groups rows by table, keeping file order inside each table. */
export function groupByTable(rows: readonly Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const list = out.get(r.table) ?? [];
    list.push(r);
    out.set(r.table, list);
  }
  return out;
}
