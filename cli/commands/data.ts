// Data at rest (SPEC §5.4): `iotchain data ingest|export`, `iotchain anchor run`, `iotchain audit` and
// `iotchain audit bundle`: names, flags and help. What they do is in cli/actions/data.ts, imported
// only when one runs.
import type { Command } from 'commander';
import { processIo, runAction, type CliIo } from '../output.js';
import type { AnchorFlags, AuditFlags, BundleFlags, ExportFlags, IngestFlags } from '../actions/data.js';
import { DEFAULT_RPC_URL } from './client.js';

export interface DataCommandOptions {
  io?: CliIo;
}

const actions = () => import('../actions/data.js');

export function registerDataCommands(program: Command, opts: DataCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const data = program.command('data').description('IoT data tables (LevelDB directory or postgres:// URL): ingest signed readings, export');

  data
    .command('ingest')
    .description('append N signed synthetic readings (device → gateway → service) to table T')
    .option('--store <store>', 'a LevelDB directory or a postgres:// URL (required)')
    .option('--table <name>', 'table name (required)')
    .option('--count <n>', 'how many readings (required)')
    .option('--keys <dir>', "the service's KEYDIR (its online key countersigns every reading) (required)")
    .option('--passphrase-file <file>', 'passphrase of an encrypted KEYDIR')
    .option('--devices <n>', 'synthetic devices', '8')
    .option('--key-directory <file>', 'where to record the signers\' public keys (default KEYDIR/directory.json)')
    .option('--gateway-table <name>', "also write gateway 0's table (Fig. 5f) under this name; T then holds the service's mix of readings, aggregates and feedback (Fig. 5e), linked by groupId")
    .option('--gateway-store <store>', 'where the gateway table lives (default: --store)')
    .option('--json', 'print one JSON object')
    .action((f: IngestFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).ingestCmd(out, f)));

  data
    .command('export')
    .description('write every row of table T to FILE.jsonl (one row a line)')
    .option('--store <store>', 'a LevelDB directory or a postgres:// URL (required)')
    .option('--table <name>', 'table name (required)')
    .option('--out <file>', 'output file (required)')
    .option('--json', 'print one JSON object')
    .action((f: ExportFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).exportCmd(out, f)));

  const anchor = program.command('anchor').description('anchor Merkle roots of IoT tables on chain (receipts module)');
  anchor
    .command('run')
    .description('every M new rows of T: split into N sub-tables, anchor the root, write one receipt per sub-table')
    .option('--store <store>', 'a LevelDB directory or a postgres:// URL (required)')
    .option('--table <name>', 'table name (required)')
    .option('--m <rows>', 'rows per batch (required)')
    .option('--n <subtables>', 'sub-tables (Merkle leaves) per batch; n > m gives one row per sub-table (required)')
    .option('--keys <dir>', 'KEYDIR whose online key signs storeRootHash (required)')
    .option('--passphrase-file <file>', 'passphrase of an encrypted KEYDIR')
    .option('--rpc <url>', 'JSON-RPC endpoint', DEFAULT_RPC_URL)
    .option('--receipts <dir>', 'receipts directory, kept apart from the data (required)')
    .option('--once', 'anchor every complete batch, then exit')
    .option('--register', "register the KEYDIR's online key for its offline identity first, if it is not yet")
    .option('--fee <n>', 'fee per anchor transaction', '0')
    .option('--poll-ms <ms>', 'how often to look for new rows (without --once)', '1000')
    .option('--json', 'print JSON')
    .action((f: AnchorFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).anchorCmd(out, f)));

  const auditCommand = program
    .command('audit')
    .description('verify an exported table against its receipts and the chain; names every tampered sub-table (exit 1)')
    .option('--rows <file>', 'exported rows, JSONL (required)')
    .option('--receipts <dir>', 'receipts directory (required)')
    .option('--rpc <url>', `online: JSON-RPC endpoint (default ${DEFAULT_RPC_URL})`)
    .option('--bundle <file>', 'offline: a proof bundle from `iotchain audit bundle` (needs --genesis)')
    .option('--genesis <file>', 'genesis.json whose validator set to trust (online default: the validators the node reports)')
    .option('--key-directory <file>', 'public keys of the signers (checks the chains of signatures)')
    .option('--submitter <address>', 'the identity whose anchors count (default: the one the receipts name)')
    .option('--gateway-table', "the rows are a gateway's table (chains end before the service)")
    .option('--gateway-rows <file>', "a gateway's exported table (JSONL) to audit too and cross-check with --rows (the service's) through groupId")
    .option('--gateway-receipts <dir>', "receipts directory of the gateway's table (default: --receipts)")
    .option('--gateway-submitter <address>', "the identity whose anchors of the gateway's table count (default: the one its receipts name)")
    .option('--gateway-address <address>', "cross-check only the service's groups of this gateway (default: every service row with a groupId)")
    .option('--chain-keys', 'take identities\' key histories from the chain (proven identity/keyHistory queries: a key revoked at H counts only for rows anchored before H); --key-directory then serves the other signers')
    .option('--json', 'print one JSON object')
    .action((f: AuditFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).auditCmd(out, f)));

  auditCommand
    .command('bundle')
    .description('record the proven chain answers an audit of these receipts needs, for auditing offline')
    .option('--receipts <dir>', 'receipts directory (required)')
    .option('--rpc <url>', `JSON-RPC endpoint (default ${DEFAULT_RPC_URL})`)
    .option('--out <file>', 'bundle file to write (required)')
    .option('--gateway-receipts <dir>', "a gateway's receipts directory (for audit --gateway-rows offline)")
    .option('--rows <file>', "an export whose signers' key histories to record too (for audit --chain-keys offline)")
    .option('--gateway-rows <file>', "the gateway's export, likewise")
    .option('--table <name...>', 'tables to cover (default: every table in the receipts directory)')
    .option('--submitter <address>', 'the identity whose anchors count')
    .option('--genesis <file>', 'genesis.json whose validator set to trust while recording')
    .option('--json', 'print one JSON object')
    .action((_f: BundleFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).bundleCmd(out, cmd.optsWithGlobals<BundleFlags>())));
}
