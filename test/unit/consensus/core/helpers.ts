// Builders for the core's table tests: messages with readable block hashes (32 copies of one
// byte), "signed" with a non-empty placeholder (the core never checks signatures), and a runner
// that feeds inputs and collects outputs, feeding own Broadcasts back the way the driver does.
import {
  createState,
  defaultParams,
  step,
  type Commit,
  type ConsensusMessage,
  type Input,
  type NewView,
  type Output,
  type PbftParams,
  type PbftState,
  type PreparedCertificate,
  type Prepare,
  type PrePrepare,
  type ViewChange,
  type WalRecord,
} from '../../../../consensus/core/index.js';

export const SIG = new Uint8Array([0xaa]);

/** Block hash made of 32 copies of `b`. */
export function H(b: number): Uint8Array {
  return new Uint8Array(32).fill(b);
}

/** Block payload for hash H(b). */
export function P(b: number): Uint8Array {
  return new Uint8Array([0xb0, b]);
}

export function pp(from: number, height: number, view: number, b: number): PrePrepare {
  return { type: 'PrePrepare', from, height, view, blockHash: H(b), payload: P(b), signature: SIG };
}

export function prepare(from: number, height: number, view: number, b: number): Prepare {
  return { type: 'Prepare', from, height, view, blockHash: H(b), signature: SIG };
}

export function commit(from: number, height: number, view: number, b: number): Commit {
  return { type: 'Commit', from, height, view, blockHash: H(b), signature: SIG };
}

/** A prepared certificate for block b at (height, view) with the given backups' Prepares. */
export function cert(n: number, height: number, view: number, b: number, backups: number[]): PreparedCertificate {
  const primary = (height + view) % n;
  return { view, blockHash: H(b), prePrepare: pp(primary, height, view, b), prepares: backups.map((i) => prepare(i, height, view, b)) };
}

export function vc(from: number, height: number, newView: number, prepared?: PreparedCertificate): ViewChange {
  return { type: 'ViewChange', from, height, newView, prepared, signature: SIG };
}

export function nv(from: number, height: number, view: number, vcs: ViewChange[], b: number): NewView {
  return { type: 'NewView', from, height, view, viewChanges: vcs, prePrepare: pp(from, height, view, b), signature: SIG };
}

/** Signs like a driver would: a Broadcast comes back with non-empty signatures. */
export function signed(m: ConsensusMessage): ConsensusMessage {
  if (m.type === 'NewView') return { ...m, prePrepare: { ...m.prePrepare, signature: SIG }, signature: SIG };
  return { ...m, signature: SIG };
}

export interface Run {
  state: PbftState;
  out: Output[];
}

/** Feeds inputs one by one; with `echo`, own Broadcasts are signed and fed back (as the driver does). */
export function feed(state: PbftState, inputs: Input[], opts: { echo?: boolean } = {}): Run {
  const echo = opts.echo ?? true;
  const out: Output[] = [];
  const queue = inputs.slice();
  let s = state;
  while (queue.length > 0) {
    const input = queue.shift() as Input;
    const r = step(s, input);
    s = r.state;
    out.push(...r.out);
    // the driver feeds its own signed messages back before the next external input
    if (echo) queue.unshift(...r.out.flatMap((o) => (o.type === 'Broadcast' ? [signed(o.msg)] : [])));
  }
  return { state: s, out };
}

export function params(n: number, self: number, over: Partial<PbftParams> = {}): PbftParams {
  return defaultParams(n, self, { timeoutBaseMs: 100, timeoutMaxExponent: 3, timeoutMaxMs: 500, ...over });
}

/** A started core for validator `self` of `n` at `height`. */
export function started(n: number, self: number, height = 1, over: Partial<PbftParams> = {}, wal?: WalRecord[]): Run {
  const r = step(createState(params(n, self, over), height), wal ? { type: 'Start', wal } : { type: 'Start' });
  return { state: r.state, out: r.out };
}

/** Output types, in order. */
export function kinds(out: Output[]): string[] {
  return out.map((o) => o.type);
}

/** A compact description of outputs for table expectations, e.g. "Broadcast:Prepare(h1 v0 #2)". */
export function summary(out: Output[]): string[] {
  return out.map((o) => {
    switch (o.type) {
      case 'Broadcast':
      case 'Rebroadcast':
        return `${o.type}:${describe(o.msg)}`;
      case 'PersistWal':
        return o.record.kind === 'prepared' ? `PersistWal:prepared(v${o.record.cert.view} #${o.record.cert.blockHash[0]})` : `PersistWal:sent`;
      case 'ScheduleTimeout':
        return `ScheduleTimeout(h${o.height} v${o.view} ${o.durationMs}ms)`;
      case 'Propose':
        return `Propose(h${o.height} v${o.view})`;
      case 'ExecuteBlock':
        return `ExecuteBlock(h${o.height} v${o.view} #${o.blockHash[0]})`;
      case 'Decide':
        return `Decide(h${o.height} v${o.view} #${o.blockHash[0]} by ${o.certificate.map((c) => c.from).join(',')})`;
      case 'Evidence':
        return `Evidence(${describe(o.a)} / ${describe(o.b)})`;
      case 'RequestSync':
        return `RequestSync(${o.fromHeight}..${o.height})`;
      case 'Reject':
        return `Reject(${o.reason} from ${String(o.from)})`;
    }
  });
}

export function describe(m: ConsensusMessage): string {
  switch (m.type) {
    case 'ViewChange':
      return `ViewChange(from ${m.from} h${m.height} →v${m.newView}${m.prepared ? ` cert v${m.prepared.view} #${m.prepared.blockHash[0]}` : ''})`;
    case 'NewView':
      return `NewView(from ${m.from} h${m.height} v${m.view} #${m.prePrepare.blockHash[0]} vcs ${m.viewChanges.map((v) => v.from).join(',')})`;
    default:
      return `${m.type}(from ${m.from} h${m.height} v${m.view} #${m.blockHash[0]})`;
  }
}
