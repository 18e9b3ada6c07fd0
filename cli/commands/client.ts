// Client commands over JSON-RPC: status, block, account, tx, transfer, query (with proof checking):
// names, flags and help. What they do is in cli/actions/client.ts, imported only when one runs.
import type { Command } from 'commander';
import type { ModuleIndex } from '../../protocols/registry.js';
import { processIo, runAction, type CliIo } from '../output.js';
import type { QueryFlags, RpcFlags, TransferFlags, TxFlags } from '../actions/client.js';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:26657';
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

export interface ClientCommandOptions {
  io?: CliIo;
  /** Modules the client builds transactions and checks queries with (default: defaultModules()). */
  modules?: ModuleIndex;
}

const actions = () => import('../actions/client.js');

/** `modules`, else the default module set, built on first use (the modules are imported only then). */
export function lazyModules(modules: ModuleIndex | undefined): () => Promise<ModuleIndex> {
  let index = modules;
  return async () => {
    if (index === undefined) {
      const { defaultModules, indexModules } = await import('../../protocols/registry.js');
      index = indexModules(defaultModules());
    }
    return index;
  };
}

function rpcOptions(cmd: Command): Command {
  return cmd.option('--rpc <url>', 'JSON-RPC endpoint', DEFAULT_RPC_URL).option('--json', 'print one JSON object');
}

function sendOptions(cmd: Command): Command {
  return rpcOptions(cmd)
    .option('--key <file>', 'signing key file (required)')
    .option('--passphrase-file <file>', 'passphrase of an encrypted key file')
    .option('--insecure', 'the key file is unencrypted (no passphrase)')
    .option('--fee <n>', 'fee in base units', '0')
    .option('--nonce <n>', "nonce (default: the sender's next nonce from account_get)")
    .option('--wait', 'wait until the transaction is committed or failed')
    .option('--timeout-ms <ms>', 'how long --wait waits', String(DEFAULT_WAIT_TIMEOUT_MS));
}

export function registerClientCommands(program: Command, opts: ClientCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const modules = lazyModules(opts.modules);

  rpcOptions(program.command('status').description('chain id, height, head block and validators'))
    .action((flags: RpcFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).statusCmd(out, flags)));

  rpcOptions(program.command('block').description('a block header, hash and transaction hashes').argument('<height>', 'block height, or "latest"'))
    .action((height: string, flags: RpcFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).blockCmd(out, height, flags)));

  rpcOptions(program.command('account').description('balance and next nonce of an address').argument('<address>', '0x address'))
    .action((address: string, flags: RpcFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).accountCmd(out, address, flags)));

  sendOptions(
    program
      .command('tx')
      .description('sign and send a module transaction; prints {hash, status, height, error}')
      .argument('<module>', 'module name, e.g. bank')
      .argument('<method>', 'method name, e.g. transfer'),
  )
    .option('--args <json>', 'method arguments as a JSON object (bytes as 0x-hex, amounts as decimal strings)')
    .action((module: string, method: string, flags: TxFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).txCmd(out, await modules(), module, method, flags)));

  sendOptions(program.command('transfer').description('send tokens (bank/transfer)'))
    .option('--to <address>', 'recipient address (required)')
    .option('--amount <n>', 'amount in base units, decimal (required)')
    .action((flags: TransferFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).transferCmd(out, await modules(), flags)));

  rpcOptions(
    program
      .command('query')
      .description('run a module query; with --prove, verify the answer against a certified header')
      .argument('<module>', 'module name, e.g. bank')
      .argument('<method>', 'query name, e.g. balance'),
  )
    .option('--args <json>', 'query arguments as a JSON object', '{}')
    .option('--prove', 'fetch a proof and verify it against the validator set')
    .option('--genesis <file>', 'genesis.json whose validators to trust (default: the validators chain_status reports)')
    .action((module: string, method: string, flags: QueryFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).queryCmd(out, await modules(), module, method, flags)));
}
