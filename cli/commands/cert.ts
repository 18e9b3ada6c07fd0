// `iotchain cert self-sign | request | issue | verify`: iotchain X.509 certificates (SPEC §5.1):
// names, flags and help. What they do is in cli/actions/cert.ts, imported only when one runs.
import type { Command } from 'commander';
import { processIo, runAction, type CliIo } from '../output.js';
import type { IssueFlags, MakeFlags, VerifyFlags } from '../actions/cert.js';
import { DEFAULT_RPC_URL } from './client.js';

export interface CertCommandOptions {
  io?: CliIo;
}

/**
 * Default validity of a new certificate, in days: DEFAULT_CERT_DAYS of protocols/identity/certificate.ts,
 * written out here because importing that file loads @peculiar/x509, which `--help` should not.
 */
const DEFAULT_CERT_DAYS = 90;

const actions = () => import('../actions/cert.js');

function chainIdOptions(cmd: Command): Command {
  return cmd
    .option('--chain-id <id>', 'chain id (default: from --genesis, else from the --rpc node)')
    .option('--genesis <file>', 'genesis.json to read the chain id from')
    .option('--rpc <url>', 'JSON-RPC endpoint asked for the chain id when neither --chain-id nor --genesis is given', DEFAULT_RPC_URL);
}

function keyOptions(cmd: Command): Command {
  return cmd
    .option('--passphrase-file <file>', 'passphrase of an encrypted KEYDIR (key.pem is encrypted with it too)')
    .option('--insecure', 'the KEYDIR is unencrypted (key.pem is written unencrypted)')
    .option('--force', 'overwrite existing output files')
    .option('--json', 'print one JSON object');
}

export function registerCertCommands(program: Command, opts: CertCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const cert = program.command('cert').description('iotchain X.509 certificates: self-signed (decentralized) or CA-issued (quasi-centralized)');

  keyOptions(
    chainIdOptions(
      cert
        .command('self-sign')
        .description('self-signed certificate for NAME (SCPKI); writes DIR/cert.pem and DIR/key.pem')
        .option('--name <name>', 'the domain name (required)')
        .option('--keys <dir>', "the entity's KEYDIR (its online key is certified) (required)")
        .option('--out <dir>', 'output directory (required)')
        .option('--days <n>', 'validity in days', String(DEFAULT_CERT_DAYS))
        .option('--separate-tls-key', 'certify a new P-256 TLS key even when the online key is P-256'),
    ),
  ).action((flags: MakeFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).selfSignCmd(out, flags)));

  keyOptions(
    chainIdOptions(
      cert
        .command('request')
        .description('certificate request for a CA (PKCS#10 with the iotchain extensions); writes DIR/request.pem and DIR/key.pem')
        .option('--name <name>', 'the domain name (required)')
        .option('--keys <dir>', "the entity's KEYDIR (required)")
        .option('--out <dir>', 'output directory (required)')
        .option('--separate-tls-key', 'certify a new P-256 TLS key even when the online key is P-256'),
    ),
  ).action((flags: MakeFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).requestCmd(out, flags)));

  keyOptions(
    chainIdOptions(
      cert
        .command('issue')
        .description("CA: check a request and issue the certificate, signed with the CA's P-256 online key; writes DIR/cert.pem")
        .option('--request <file>', 'request.pem from `iotchain cert request` (required)')
        .option('--keys <dir>', "the CA's KEYDIR: offline address = the CA on chain, online key (P-256) signs (required)")
        .option('--out <dir>', 'output directory (required)')
        .option('--days <n>', 'validity in days', String(DEFAULT_CERT_DAYS)),
    ),
  ).action((flags: IssueFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).issueCmd(out, flags)));

  cert
    .command('verify')
    .description('verify a certificate: X.509 checks plus the chain facts (proven queries), listing every reason it fails')
    .option('--cert <file>', 'certificate PEM (required)')
    .option('--name <name>', 'the name it must be for (default: its CN)')
    .option('--rpc <url>', 'JSON-RPC endpoint', DEFAULT_RPC_URL)
    .option('--genesis <file>', 'genesis.json whose validators to trust (default: the validators the RPC node reports)')
    .option('--chain-id <id>', 'expected chain id')
    .option('--offline', 'X.509 checks only, no chain (the CA signature is then not checked)')
    .option('--min-trust <n>', 'least web-of-trust level for a self-signed certificate', '0')
    .option('--json', 'print one JSON object')
    .action((flags: VerifyFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).verifyCmd(out, flags)));
}
