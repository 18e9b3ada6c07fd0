// `iotchain channel serve` (a gateway serving a small payload) and `iotchain channel connect`
// (a service that verifies the gateway through the chain, gets the session evidence and may vote):
// names, flags and help. What they do is in cli/actions/channel.ts, imported only when one runs.
import type { Command } from 'commander';
import { processIo, runAction, type CliIo } from '../output.js';
import type { ConnectFlags, ServeFlags } from '../actions/channel.js';
import { DEFAULT_RPC_URL } from './client.js';

export interface ChannelCommandOptions {
  io?: CliIo;
  /** Stops `channel serve` (tests); by default it runs until SIGINT or SIGTERM. */
  stop?: AbortSignal;
  /** Called once `channel serve` listens (tests). */
  onServing?: (port: number) => void;
}

const actions = () => import('../actions/channel.js');

export function registerChannelCommands(program: Command, opts: ChannelCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const channel = program.command('channel').description('the secure channel: a TLS 1.3 gateway verified through the chain');

  channel
    .command('serve')
    .description('serve NAME over TLS 1.3 with its certificate; sign session evidence with the online key; serve a small payload')
    .option('--name <name>', 'the name the certificate is for (required)')
    .option('--cert <file>', 'certificate PEM (required)')
    .option('--key <file>', "the certificate's key PEM (required)")
    .option('--keys <dir>', "the gateway's KEYDIR (its online key signs the evidence) (required)")
    .option('--port <p>', 'TCP port (0 = any free port) (required)')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--payload-file <file>', 'what to serve (default: a small JSON reading)')
    .option('--content-type <type>', 'content type of --payload-file', 'application/octet-stream')
    .option('--passphrase-file <file>', 'passphrase of the KEYDIR and of an encrypted key PEM')
    .option('--insecure', 'the KEYDIR and key PEM are unencrypted')
    .option('--json', 'print one JSON object when serving')
    .action((flags: ServeFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).serveCmd(out, flags, opts)));

  channel
    .command('connect')
    .description('check reputation, resolve NAME on chain, connect, verify the certificate and the session evidence through proven queries; optionally vote')
    .argument('<name>', 'the gateway name')
    .option('--rpc <url>', 'JSON-RPC endpoint (untrusted: every answer is proven)', DEFAULT_RPC_URL)
    .option('--keys <dir>', "the service's KEYDIR (offline address = voter; online key signs the vote) (required)")
    .option('--port <p>', 'port to use when the registered address has none')
    .option('--vote', 'after the session, submit voteDomain with the evidence as proof')
    .option('--score <n>', 'the vote (positive needs the proof; negative escrows a deposit)', '1')
    .option('--fee <n>', 'transaction fee of the vote', '0')
    .option('--genesis <file>', 'genesis.json whose validators to trust (default: the validators the RPC node reports)')
    .option('--min-score <points>', 'refuse gateways whose reputation score is below this', '0')
    .option('--min-trust <n>', 'least web-of-trust level for a self-signed certificate', '0')
    .option('--timeout-ms <ms>', 'per step', '10000')
    .option('--passphrase-file <file>', 'passphrase of an encrypted KEYDIR')
    .option('--insecure', 'the KEYDIR is unencrypted')
    .option('--json', 'print one JSON object')
    .action((name: string, flags: ConnectFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).connectCmd(out, name, flags)));
}
