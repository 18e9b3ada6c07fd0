// Write-ahead log of this validator's own consensus votes and prepared certificates (SPEC §2).
// The driver appends (and fsyncs) a record BEFORE sending the message it describes, so after a crash
// the restarted core refuses to sign anything conflicting and can still prove what it prepared.
// File format: a sequence of frames [u32 BE length][record bytes][first 4 bytes of SHA-256(record)].
// A torn or corrupt tail (a crash mid-write) is cut off at the last good frame on open; anything
// corrupt before the tail is an error (the operator must look, not the node guess).
import { openSync, writeSync, fsyncSync, closeSync, readFileSync, existsSync, ftruncateSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { tuple, list, u8, bytes, encode, decode } from '../lib/encoding.js';
import { sha256 } from '../crypto/hash.js';
import { bytesEqual } from '../lib/hex.js';
import { InternalError, ERR } from '../lib/errors.js';
import { encodeMessage, decodeMessage, MAX_CONSENSUS_MSG_BYTES } from './messages.js';
import type { WalRecord, PreparedCertificate, PrePrepare, Prepare } from './core/index.js';

const recordT = tuple<[number, Uint8Array]>(u8, bytes(MAX_CONSENSUS_MSG_BYTES * 2));
const listOfBytes = list(bytes(MAX_CONSENSUS_MSG_BYTES), 1024);

function encodeRecord(r: WalRecord): Uint8Array {
  if (r.kind === 'sent') return encode(recordT, [1, encodeMessage(r.msg)]);
  // a prepared certificate is stored as a ViewChange-free list: [prePrepare, ...prepares]
  const parts = [r.cert.prePrepare, ...r.cert.prepares].map(encodeMessage);
  return encode(recordT, [2, encode(tuple<[Uint8Array[]]>(listOfBytes), [parts])]);
}


function decodeRecord(b: Uint8Array): WalRecord {
  const [kind, payload] = decode(recordT, b, 'wal record');
  if (kind === 1) return { kind: 'sent', msg: decodeMessage(payload) };
  if (kind === 2) {
    const [parts] = decode(tuple<[Uint8Array[]]>(listOfBytes), payload, 'wal certificate');
    const msgs = parts.map(decodeMessage);
    const pp = msgs[0];
    if (!pp || pp.type !== 'PrePrepare' || msgs.slice(1).some((m) => m.type !== 'Prepare')) throw new Error('malformed prepared certificate');
    const cert: PreparedCertificate = { view: pp.view, blockHash: pp.blockHash, prePrepare: pp as PrePrepare, prepares: msgs.slice(1) as Prepare[] };
    return { kind: 'prepared', cert };
  }
  throw new Error(`unknown wal record kind ${kind}`);
}

export class Wal {
  private fd: number;
  private unsynced = false;

  private constructor(
    private readonly path: string,
    readonly records: WalRecord[],
  ) {
    this.fd = openSync(path, 'a');
  }

  /** Opens (creating) the WAL and reads every intact record; cuts a torn tail. */
  static open(path: string): Wal {
    mkdirSync(dirname(path), { recursive: true });
    const records: WalRecord[] = [];
    if (existsSync(path)) {
      const buf = new Uint8Array(readFileSync(path));
      let off = 0;
      let good = 0;
      while (off + 4 <= buf.length) {
        const len = new DataView(buf.buffer, buf.byteOffset + off).getUint32(0);
        const end = off + 4 + len + 4;
        if (end > buf.length) break; // torn tail
        const body = buf.subarray(off + 4, off + 4 + len);
        if (!bytesEqual(sha256(body).subarray(0, 4), buf.subarray(off + 4 + len, end))) {
          if (end === buf.length) break; // last frame half-written
          throw new InternalError(ERR.DB_CORRUPT, `WAL ${path}: checksum mismatch at byte ${off} (not at the tail)`);
        }
        try {
          records.push(decodeRecord(body));
        } catch (e) {
          throw new InternalError(ERR.DB_CORRUPT, `WAL ${path}: undecodable record at byte ${off}: ${(e as Error).message}`);
        }
        off = end;
        good = end;
      }
      if (good < buf.length) {
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, good);
        fsyncSync(fd);
        closeSync(fd);
      }
    }
    return new Wal(path, records);
  }

  /**
   * Appends one record and fsyncs it (it is durable when this returns). With `{ sync: false }` the
   * fsync is left to the next `sync()` or synced append, so records written together (a prepared
   * certificate and the Commit that follows it) cost one fsync: the caller must sync before it sends
   * anything that depends on them.
   */
  append(r: WalRecord, opts: { sync?: boolean } = {}): void {
    const body = encodeRecord(r);
    const frame = new Uint8Array(4 + body.length + 4);
    new DataView(frame.buffer).setUint32(0, body.length);
    frame.set(body, 4);
    frame.set(sha256(body).subarray(0, 4), 4 + body.length);
    writeSync(this.fd, frame);
    this.unsynced = true;
    this.records.push(r);
    if (opts.sync !== false) this.sync();
  }

  /** Makes every record appended so far durable (no-op when nothing is pending). */
  sync(): void {
    if (!this.unsynced) return;
    fsyncSync(this.fd);
    this.unsynced = false;
  }

  /** Records appended without a sync since the last one (tests). */
  get pendingSync(): boolean {
    return this.unsynced;
  }

  /** Drops every record (after the height they belong to is committed). */
  reset(): void {
    ftruncateSync(this.fd, 0);
    fsyncSync(this.fd);
    this.unsynced = false;
    this.records.length = 0;
  }

  close(): void {
    closeSync(this.fd);
  }

  get file(): string {
    return this.path;
  }
}

