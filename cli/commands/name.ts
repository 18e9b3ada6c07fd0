// `iotchain name commit | register | renew | resolve` (SPEC §5.1 names): names, flags and help. What
// they do is in cli/actions/name.ts, imported only when one runs.
import type { Command } from 'commander';
import { processIo, runAction } from '../output.js';
import type { SendFlags } from '../actions/identity.js';
import type { RegisterFlags, RenewFlags, ResolveFlags } from '../actions/name.js';
import { lazyModules } from './client.js';
import { proveOptions, rpcOptions, runTxAction, sendOptions, type IdentityCommandOptions } from './identity.js';

const actions = () => import('../actions/name.js');

export function registerNameCommands(program: Command, opts: IdentityCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const modules = lazyModules(opts.modules);
  const o = async (): Promise<IdentityCommandOptions> => ({ ...opts, modules: await modules() });
  const name = program.command('name').description('names → IP addresses on chain, registered by commit–reveal (SPEC §5.1)');

  sendOptions(
    name
      .command('commit')
      .description('commit to NAME (commitDomainName) with a fresh salt kept in KEYDIR/names/CHAIN/NAME.json; `name register` reveals it')
      .argument('<name>', 'lower-case DNS name'),
  ).action((n: string, flags: SendFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).commitCmd(out, n, flags, await o())));

  sendOptions(
    name
      .command('register')
      .description('register NAME → IP: commit (or resume a saved commitment), wait the minimum commitment age, reveal (submitDomainName)')
      .argument('<name>', 'lower-case DNS name'),
  )
    .option('--ip <ip>', 'a.b.c.d, an IPv6 address, a.b.c.d:port or [ipv6]:port (required)')
    .option('--periods <n>', 'registration periods to pay for', '1')
    .option('--backup <address>', 'offline address that may take the name over if this identity closes')
    .action((n: string, flags: RegisterFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).registerCmd(out, n, flags, await o())));

  sendOptions(name.command('renew').description('extend NAME by some periods (renewDomainName; anyone may pay)').argument('<name>', 'registered name'))
    .option('--periods <n>', 'periods to add', '1')
    .option('--signer <role>', 'which KEYDIR key pays: offline or online', 'offline')
    .action((n: string, flags: RenewFlags, cmd: Command) => runTxAction(io, cmd, async (out) => (await actions()).renewCmd(out, n, flags, await o())));

  proveOptions(
    rpcOptions(name.command('resolve').description('the IP of NAME, verified against a certified header unless --no-prove').argument('<name>', 'name to resolve')),
    'the answer',
  )
    .option('--prove', 'verify the answer against a certified header (the default)')
    .option('--no-prove', "take the RPC node's word for it")
    .action((n: string, flags: ResolveFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).resolveCmd(out, n, flags, await o())));
}
