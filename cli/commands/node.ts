// iotchain init | start | devnet: names, flags and help. What they do is in cli/actions/node.ts,
// imported only when one of them runs (it loads the whole node, libp2p and LevelDB included).
import type { Command } from 'commander';
import type { DevnetFlags, InitFlags, StartFlags } from '../actions/node.js';

const actions = () => import('../actions/node.js');

export function registerNodeCommands(program: Command): void {
  program
    .command('init')
    .description('create a validator home directory (config, consensus key, single-validator genesis)')
    .requiredOption('--home <dir>', 'home directory')
    .option('--chain-id <id>', 'chain id', 'iotchain-local')
    .option('--moniker <name>', 'node name')
    .option('--rpc-port <port>', 'JSON-RPC port', (v) => Number(v))
    .option('--fund <address=amount...>', 'accounts funded at genesis')
    .option('--min-fee <n>', 'minimum fee per transaction', '0')
    .option('--passphrase-file <file>', 'encrypt the consensus key with this passphrase')
    .option('--insecure', 'store the consensus key unencrypted')
    .option('--json', 'JSON output')
    .action(async (o: InitFlags) => (await actions()).initCmd(o));

  program
    .command('start')
    .description('run a node from its home directory (Ctrl-C stops it cleanly)')
    .requiredOption('--home <dir>', 'home directory')
    .option('--passphrase-file <file>', 'passphrase of the consensus key file')
    .option('--rpc-port <port>', 'override the JSON-RPC port', (v) => Number(v))
    .action(async (o: StartFlags) => (await actions()).startCmd(o));

  program
    .command('devnet')
    .description('create (if absent) and run a local network of validator processes on loopback')
    .option('--validators <n>', 'number of validators', (v) => Number(v), 4)
    .option('--dir <dir>', 'devnet directory', 'devnet')
    .option('--chain-id <id>', 'chain id', 'iotchain-devnet')
    .option('--rpc-port <port>', 'first RPC port (node i uses port + i)', (v) => Number(v), 26657)
    .option('--p2p-port <port>', 'first p2p port (node i uses port + i)', (v) => Number(v), 26757)
    .option('--metrics-port <port>', 'first Prometheus port (node i uses port + i; default rpc-port + 200)', (v) => Number(v))
    .option('--faucet-amount <n>', 'faucet balance at genesis', '1000000000000000000000000')
    .action(async (o: DevnetFlags) => (await actions()).devnetCmd(o));
}
