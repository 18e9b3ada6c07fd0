// Cross-checking a gateway's table against the service's table through groupId (paper Fig. 5e/5f,
// SPEC §5.4). Off-chain: the state machine never imports this file. The gateway keeps, under a
// groupId of its own, what it aggregated or relayed; the service keeps the result under the same
// groupId:
//
//   aggregate (5c)  gateway: the member readings (device-signed)   service: the aggregate, whose
//                   aggregating-gateway signature commits to the members (memberCount, membersRoot)
//   command (5d)    gateway: the command and the device's feedback service: the feedback, which
//                   carries the command and the gateway's countersignature over groupId
//
// Per groupId the two sides either AGREE, or DIFFER for one of these reasons:
//   missing-in-gateway / missing-in-service  the group (or one of its rows) is on one side only
//   members-differ   the gateway's member rows are not the members the aggregate commits to:
//                    dropped, added, replaced or reordered (checkAggregateMembers' verdict)
//   altered          the same records (same device and sequence number) with different contents
//   unexpected-rows  rows that no Fig. 5 flow puts under a groupId, or a groupId used twice
// and, where it can be told, which side is at fault (`side`): first the side whose rows are already
// known to be untrustworthy (a failed signature, a tampered sub-table: `suspect`), else what the
// records themselves show (the aggregate's commitment is the gateway's own signed statement of its
// members; two copies of one command in the gateway's table that disagree). A gateway table that holds
// a command with no feedback yet, and nothing on the service's side, is PENDING (not a failure).
import { encode } from '../../lib/encoding.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import {
  checkAggregateMembers,
  signedCommandCodec,
  signedFeedbackCodec,
  signedReadingCodec,
  type AggregateEnvelope,
  type FeedbackEnvelope,
  type SignedCommand,
  type SignedReading,
} from './signatureChain.js';
import type { Row } from './rows.js';

export type CrossSide = 'gateway' | 'service';
export type GroupStatus = 'AGREE' | 'DIFFER' | 'PENDING';
export type GroupReason = 'missing-in-gateway' | 'missing-in-service' | 'members-differ' | 'altered' | 'unexpected-rows';

export interface GroupRowRef {
  side: CrossSide;
  table: string;
  id: number;
}

export interface GroupReport {
  groupId: number;
  /** Which Fig. 5 flow the group is (from the service's row, else from the gateway's). */
  flow: 'aggregate' | 'command' | 'unknown';
  status: GroupStatus;
  serviceRows: GroupRowRef[];
  gatewayRows: GroupRowRef[];
  reason?: GroupReason;
  /** members-differ: checkAggregateMembers' verdict on the gateway's rows. */
  members?: 'member-dropped' | 'member-added' | 'member-mismatch';
  /** The side at fault (missing rows, altered rows), when it can be told. */
  side?: CrossSide;
  /** The rows involved in the difference. */
  rows?: GroupRowRef[];
  detail?: string;
}

export interface CrossCheckOptions {
  /** Only the service's groups of this gateway (aggregates it made, feedback it relayed first). */
  gateway?: Uint8Array;
  /** Rows already found untrustworthy: a failed chain of signatures, or inside a TAMPERED sub-table. */
  suspect?: (ref: GroupRowRef) => boolean;
}

export interface CrossCheckSummary {
  groups: number;
  agree: number;
  differ: number;
  pending: number;
}

type RowOf<K extends Row['kind']> = Extract<Row, { kind: K }>;

const ref = (side: CrossSide, r: Row): GroupRowRef => ({ side, table: r.table, id: r.id });
const name = (x: GroupRowRef): string => `${x.side} ${x.table}/${x.id}`;
const memberKey = (m: { deviceId: Uint8Array; seq: number }): string => `${toHex(m.deviceId)}#${m.seq}`;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => bytesEqual(a, b);
const readingBytes = (m: SignedReading) => encode(signedReadingCodec, m);
const commandBytes = (c: SignedCommand) => encode(signedCommandCodec, c);

/** The gateway that links a service row to its groupId (aggregates: the aggregator; feedback: the first gateway). */
function linkingGateway(r: Row): Uint8Array | undefined {
  if (r.kind === 'aggregate') return r.envelope.aggregate.gatewayId;
  if (r.kind === 'feedback') return r.envelope.gateways[0]?.address;
  return undefined;
}

function byGroup(rows: readonly Row[]): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  for (const r of rows) {
    if (r.groupId === undefined) continue;
    const list = out.get(r.groupId) ?? [];
    list.push(r);
    out.set(r.groupId, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.id - b.id || a.table.localeCompare(b.table));
  return out;
}

/** The side at fault from what is already known about the rows: exactly one side holds suspect rows. */
function suspectSide(o: CrossCheckOptions, service: readonly GroupRowRef[], gateway: readonly GroupRowRef[]): CrossSide | undefined {
  if (!o.suspect) return undefined;
  const s = service.some(o.suspect);
  const g = gateway.some(o.suspect);
  if (s && !g) return 'service';
  if (g && !s) return 'gateway';
  return undefined;
}

const UNTOLD = 'which side was changed cannot be told from the records alone (check the chains of signatures: --key-directory or --chain-keys)';

function differ(base: Omit<GroupReport, 'status'>, reason: GroupReason, detail: string, extra: Partial<GroupReport> = {}): GroupReport {
  return { ...base, status: 'DIFFER', reason, ...extra, detail };
}

function checkAggregate(base: Omit<GroupReport, 'status'>, svc: RowOf<'aggregate'>, gw: readonly Row[], o: CrossCheckOptions): GroupReport {
  const env: AggregateEnvelope = svc.envelope;
  const body = env.aggregate;
  const svcRef = ref('service', svc);
  const others = gw.filter((r) => r.kind !== 'reading');
  const readings = gw.filter((r): r is RowOf<'reading'> => r.kind === 'reading');
  if (others.length > 0) {
    return differ(base, 'unexpected-rows', `the gateway's rows ${others.map((r) => `${r.table}/${r.id} (${r.kind})`).join(', ')} are not readings, but the service's row ${svc.table}/${svc.id} is an aggregate`, {
      side: 'gateway',
      rows: others.map((r) => ref('gateway', r)),
    });
  }
  const members = readings.map((r) => r.envelope.reading);
  const selfConsistent = checkAggregateMembers(body, env.members).ok;
  const verdict = checkAggregateMembers(body, members);
  if (verdict.ok) {
    if (selfConsistent) return { ...base, status: 'AGREE' };
    return differ(base, 'altered', `the service's aggregate ${svc.table}/${svc.id} carries members that differ from the ones its gateway signed for; the gateway's rows match them`, {
      side: 'service',
      rows: [svcRef],
    });
  }
  // Pair the records by (device, seq): the service's copy inside the aggregate against the gateway's rows.
  const theirs = new Map(env.members.map((m) => [memberKey(m), m]));
  const mine = new Map(readings.map((r) => [memberKey(r.envelope.reading), r]));
  const altered = readings.filter((r) => {
    const m = theirs.get(memberKey(r.envelope.reading));
    return m !== undefined && !sameBytes(readingBytes(m), readingBytes(r.envelope.reading));
  });
  const added = readings.filter((r) => !theirs.has(memberKey(r.envelope.reading)));
  const dropped = env.members.filter((m) => !mine.has(memberKey(m)));
  const gwRefs = (rs: readonly Row[]) => rs.map((r) => ref('gateway', r));
  // The side: known-bad rows first; else the commitment (the gateway's signed statement of its
  // members, carried intact by the service when its members still match it) speaks against the gateway.
  const involved = altered.length > 0 ? gwRefs(altered) : gwRefs(readings);
  const side = suspectSide(o, [svcRef], involved) ?? (selfConsistent ? 'gateway' : undefined);
  const sideText = side === undefined ? `; ${UNTOLD}` : side === 'gateway' ? "; the gateway's table is the one that differs" : "; the service's row is the one that differs";
  if (altered.length > 0) {
    return differ(
      base,
      'altered',
      `group ${base.groupId}: ${altered.map((r) => `gateway row ${r.table}/${r.id} (device ${toHex(r.envelope.reading.deviceId)} seq ${r.envelope.reading.seq})`).join(', ')} differ${altered.length === 1 ? 's' : ''} from the service's copy in aggregate ${svc.table}/${svc.id}${sideText}`,
      { members: verdict.reason as GroupReport['members'], ...(side ? { side } : {}), rows: [...gwRefs(altered), svcRef] },
    );
  }
  const parts: string[] = [];
  if (dropped.length > 0) parts.push(`missing from the gateway's table: ${dropped.map((m) => `device ${toHex(m.deviceId)} seq ${m.seq}`).join(', ')}`);
  if (added.length > 0) parts.push(`not in the aggregate: gateway row(s) ${added.map((r) => `${r.table}/${r.id}`).join(', ')}`);
  if (parts.length === 0) parts.push('the same readings in another order');
  return differ(base, 'members-differ', `group ${base.groupId}: aggregate ${svc.table}/${svc.id} commits to ${body.memberCount} member(s), the gateway's table has ${members.length} (${verdict.reason}); ${parts.join('; ')}${sideText}`, {
    members: verdict.reason as GroupReport['members'],
    ...(side ? { side } : {}),
    rows: [...(added.length > 0 ? gwRefs(added) : gwRefs(readings)), svcRef],
  });
}

function checkCommand(base: Omit<GroupReport, 'status'>, svc: RowOf<'feedback'>, gw: readonly Row[], o: CrossCheckOptions): GroupReport {
  const env: FeedbackEnvelope = svc.envelope;
  const svcRef = ref('service', svc);
  const commands = gw.filter((r): r is RowOf<'command'> => r.kind === 'command');
  const feedbacks = gw.filter((r): r is RowOf<'feedback'> => r.kind === 'feedback');
  const others = gw.filter((r) => r.kind !== 'command' && r.kind !== 'feedback');
  if (others.length > 0 || commands.length > 1 || feedbacks.length > 1) {
    const extra = [...others, ...commands.slice(1), ...feedbacks.slice(1)];
    return differ(base, 'unexpected-rows', `group ${base.groupId}: the gateway's table should hold one command and one feedback, it also has ${extra.map((r) => `${r.table}/${r.id} (${r.kind})`).join(', ')}`, {
      side: 'gateway',
      rows: extra.map((r) => ref('gateway', r)),
    });
  }
  const cmd = commands[0];
  const fb = feedbacks[0];
  if (!cmd || !fb) {
    const what = !cmd && !fb ? 'command and feedback' : !cmd ? 'command' : 'feedback';
    return differ(base, 'missing-in-gateway', `group ${base.groupId}: the service's feedback ${svc.table}/${svc.id} has no ${what} row in the gateway's table`, { side: 'gateway', rows: [svcRef] });
  }
  const svcCmd = commandBytes(env.command);
  const cmdRowSame = sameBytes(commandBytes(cmd.envelope), svcCmd);
  const fbCmdSame = sameBytes(commandBytes(fb.envelope.command), svcCmd);
  const fbSame = sameBytes(encode(signedFeedbackCodec, fb.envelope.feedback), encode(signedFeedbackCodec, env.feedback));
  if (cmdRowSame && fbCmdSame && fbSame) return { ...base, status: 'AGREE' };
  const diffRows = [...(cmdRowSame ? [] : [ref('gateway', cmd)]), ...(fbCmdSame && fbSame ? [] : [ref('gateway', fb)])];
  // The gateway's two copies of the command disagree with each other: its table was changed.
  const gatewayInconsistent = !sameBytes(commandBytes(cmd.envelope), commandBytes(fb.envelope.command)) && (cmdRowSame || fbCmdSame);
  const side = suspectSide(o, [svcRef], diffRows) ?? (gatewayInconsistent ? 'gateway' : undefined);
  const what = [...(cmdRowSame && fbCmdSame ? [] : ['the command']), ...(fbSame ? [] : ["the device's feedback"])].join(' and ');
  const sideText = side === undefined ? `; ${UNTOLD}` : side === 'gateway' ? "; the gateway's table is the one that differs" : "; the service's row is the one that differs";
  return differ(base, 'altered', `group ${base.groupId}: ${what} in ${diffRows.map(name).join(', ')} differ${diffRows.length === 1 ? 's' : ''} from the service's feedback ${svc.table}/${svc.id}${sideText}`, {
    ...(side ? { side } : {}),
    rows: [...diffRows, svcRef],
  });
}

/**
 * Compares the service's rows with the gateway's rows group by group (every groupId on either side,
 * in groupId order). Rows without a groupId (plain readings) are not part of any group.
 */
export function crossCheckGroups(service: readonly Row[], gateway: readonly Row[], o: CrossCheckOptions = {}): GroupReport[] {
  const mineOnly = o.gateway ? service.filter((r) => r.groupId !== undefined && (linkingGateway(r) === undefined || bytesEqual(linkingGateway(r)!, o.gateway!))) : service;
  const s = byGroup(mineOnly);
  const g = byGroup(gateway);
  const ids = [...new Set([...s.keys(), ...g.keys()])].sort((a, b) => a - b);
  const out: GroupReport[] = [];
  for (const groupId of ids) {
    const sr = s.get(groupId) ?? [];
    const gr = g.get(groupId) ?? [];
    const first = sr[0];
    const flow: GroupReport['flow'] =
      first?.kind === 'aggregate' || (!first && gr.length > 0 && gr.every((r) => r.kind === 'reading'))
        ? 'aggregate'
        : first?.kind === 'feedback' || (!first && gr.some((r) => r.kind === 'command' || r.kind === 'feedback'))
          ? 'command'
          : 'unknown';
    const base = { groupId, flow, serviceRows: sr.map((r) => ref('service', r)), gatewayRows: gr.map((r) => ref('gateway', r)) };
    if (sr.length === 0) {
      if (gr.every((r) => r.kind === 'command')) {
        out.push({ ...base, status: 'PENDING', detail: `group ${groupId}: the gateway relayed command ${gr.map((r) => `${r.table}/${r.id}`).join(', ')}; no feedback yet` });
      } else {
        out.push(differ(base, 'missing-in-service', `group ${groupId}: the gateway's rows ${gr.map((r) => `${r.table}/${r.id}`).join(', ')} have no ${flow === 'aggregate' ? 'aggregate' : flow === 'command' ? 'feedback' : 'row'} in the service's table`, { side: 'service', rows: base.gatewayRows }));
      }
      continue;
    }
    if (gr.length === 0) {
      out.push(differ(base, 'missing-in-gateway', `group ${groupId}: the service's row(s) ${sr.map((r) => `${r.table}/${r.id}`).join(', ')} have no rows in the gateway's table`, { side: 'gateway', rows: base.serviceRows }));
      continue;
    }
    if (sr.length > 1 || (first!.kind !== 'aggregate' && first!.kind !== 'feedback')) {
      out.push(differ(base, 'unexpected-rows', `group ${groupId}: the service's table should hold one aggregate or one feedback under it, it has ${sr.map((r) => `${r.table}/${r.id} (${r.kind})`).join(', ')}`, { side: 'service', rows: base.serviceRows }));
      continue;
    }
    out.push(first!.kind === 'aggregate' ? checkAggregate(base, first!, gr, o) : checkCommand(base, first as RowOf<'feedback'>, gr, o));
  }
  return out;
}

export function summarizeGroups(groups: readonly GroupReport[]): CrossCheckSummary {
  return {
    groups: groups.length,
    agree: groups.filter((g) => g.status === 'AGREE').length,
    differ: groups.filter((g) => g.status === 'DIFFER').length,
    pending: groups.filter((g) => g.status === 'PENDING').length,
  };
}
