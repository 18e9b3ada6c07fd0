// `iotchain identity register | update | close | incentive | vouch | show` (SPEC §5.1): names, flags
// and help, and the flag helpers that `iotchain name …` (name.ts) shares. What they do is in
// cli/actions/identity.ts, imported only when one runs.
import type { Command } from 'commander';
import type { ModuleIndex } from '../../protocols/registry.js';
import type { TxOutcome } from '../../protocols/txBuilder.js';
import { processIo, runAction, type CliIo, type Output } from '../output.js';
import type { AmountFlags, SendFlags, ShowFlags, UpdateFlags, VouchFlags } from '../actions/identity.js';
import { DEFAULT_RPC_URL, DEFAULT_WAIT_TIMEOUT_MS, lazyModules } from './client.js';

export interface IdentityCommandOptions {
  io?: CliIo;
  /** Modules transactions are built and proofs checked with (default: defaultModules()). */
  modules?: ModuleIndex;
  /** scrypt cost of new encrypted key files (tests pass a low one). */
  scryptN?: number;
  /** Polling interval while waiting for a block time (tests pass a short one). */
  pollMs?: number;
}

const actions = () => import('../actions/identity.js');

export function txFields(tx: TxOutcome): { method: string; hash: string; status: string; height: number | null } {
  return { method: tx.method, hash: tx.hash, status: tx.status, height: tx.height };
}

/**
 * runAction for commands that send transactions: a failed transaction is one `error: …` line (its
 * code and message) and exit 1; with --json one object {error: {code, message}, method, hash, status, height}.
 */
export function runTxAction(io: CliIo, cmd: Command, body: (out: Output) => Promise<void>): Promise<void> {
  return runAction(io, cmd, async (out) => {
    try {
      await body(out);
    } catch (e) {
      const { TxFailedError } = await import('../../protocols/txBuilder.js');
      if (!(e instanceof TxFailedError) || !out.json) throw e;
      out.result({ error: { code: e.code, message: e.message }, ...txFields(e.outcome) }, [], 1);
    }
  });
}

export function rpcOptions(cmd: Command): Command {
  return cmd.option('--rpc <url>', 'JSON-RPC endpoint', DEFAULT_RPC_URL).option('--json', 'print one JSON object');
}

export function keyDirOptions(cmd: Command): Command {
  return cmd
    .option('--keys <dir>', 'KEYDIR written by `iotchain keys new` (online.json, offline.json) (required)')
    .option('--passphrase-file <file>', 'passphrase of the encrypted key files')
    .option('--insecure', 'the key files are unencrypted (no passphrase)');
}

export function sendOptions(cmd: Command): Command {
  return keyDirOptions(rpcOptions(cmd))
    .option('--fee <n>', 'fee per transaction in base units', '0')
    .option('--wait', 'wait until the transaction is committed or failed')
    .option('--timeout-ms <ms>', 'how long to wait for a transaction (and, for a name, past its minimum commitment age)', String(DEFAULT_WAIT_TIMEOUT_MS));
}

export function proveOptions(cmd: Command, what: string): Command {
  return cmd.option('--genesis <file>', `genesis.json whose validators to trust when checking ${what} (default: the validators the RPC node reports)`);
}

export function registerIdentityCommands(program: Command, opts: IdentityCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const modules = lazyModules(opts.modules);
  const o = async (): Promise<IdentityCommandOptions> => ({ ...opts, modules: await modules() });
  const identity = program.command('identity').description('decentralized identity: online keys bound to an offline identity, vouches, incentives (SPEC §5.1)');

  sendOptions(identity.command('register').description("bind KEYDIR's online key to its offline identity (submitPublicKey with proof of possession, signed by the offline key)")).action(
    (flags: SendFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).registerCmd(out, flags, await o())),
  );

  sendOptions(identity.command('update').description('rotate the online key (updatePublicKey): the old key is revoked as of the update height and kept in the history'))
    .option('--new-online <file>', 'the new online key file: used if it exists, else a new key is written there (required)')
    .option('--curve <curve>', 'curve of a new key: secp256k1 or p256 (default: that of the current online key)')
    .option('--no-install', 'leave KEYDIR/online.json as it is (by default it becomes the new key once the update is committed)')
    .action((flags: UpdateFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).updateCmd(out, flags, await o())));

  sendOptions(identity.command('close').description('close the identity for good (closePublicKey): its key, names and certificates become unusable')).action(
    (flags: SendFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).closeCmd(out, flags, await o())),
  );

  sendOptions(identity.command('incentive').description("escrow a reward for this identity's vouchers (addIncentive)"))
    .option('--amount <n>', 'reward in base units (required)')
    .action((flags: AmountFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).incentiveCmd(out, flags, await o())));

  sendOptions(
    identity
      .command('vouch')
      .description("stake on another identity's current online key (vouchKey); returned after unvouch and the unbonding delay")
      .argument('<addr>', "the target's online key, or its offline address (its current online key is used)"),
  )
    .option('--bet <n>', 'stake in base units (required)')
    .action((target: string, flags: VouchFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).vouchCmd(out, target, flags, await o())));

  proveOptions(
    rpcOptions(
      identity
        .command('show')
        .description('an identity: current online key, key history (revocation heights), vouches (getKey, keyHistory, getTrust)')
        .argument('<addr>', 'offline address, or any of its online keys'),
    ),
    'the answers',
  )
    .option('--prove', 'verify the answers against a certified header')
    .action((target: string, flags: ShowFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).showCmd(out, target, flags, await o())));
}
