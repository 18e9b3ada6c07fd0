// iotchain init | start | devnet: what they do (names and flags: cli/commands/node.ts, which imports
// this file only when one of them runs: it loads the whole node, libp2p and LevelDB included).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNode } from '../../node/node.js';
import { initHome, initNetwork, VALIDATOR_NODE_FLAGS } from '../../node/home.js';
import { writeJson } from '../../node/config.js';
import { generateKeyPair, KeyType, addressOf, toChecksumAddress } from '../../crypto/keys.js';
import { saveKeyFile, readPassphraseFile } from '../../crypto/keystore.js';
import { InvalidMessageError, ERR, IotchainError } from '../../lib/errors.js';
import { RpcClient } from '../../rpc/client.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/iotchain.js');

function fail(e: unknown, json: boolean): never {
  const err = e instanceof IotchainError ? { code: e.code, message: e.message } : { code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
  if (json) process.stdout.write(JSON.stringify({ error: err }) + '\n');
  else process.stderr.write(`error: ${err.message}\n`);
  process.exit(1);
}

export interface InitFlags {
  home: string;
  chainId: string;
  moniker?: string;
  rpcPort?: number;
  fund?: string[];
  minFee: string;
  passphraseFile?: string;
  insecure?: boolean;
  json?: boolean;
}

export interface StartFlags {
  home: string;
  passphraseFile?: string;
  rpcPort?: number;
}

export interface DevnetFlags {
  validators: number;
  dir: string;
  chainId: string;
  rpcPort: number;
  p2pPort: number;
  metricsPort?: number;
  faucetAmount: string;
}

export async function initCmd(o: InitFlags): Promise<void> {
  try {
    if (!o.passphraseFile === !o.insecure) throw new InvalidMessageError(ERR.KEY_FILE, 'give exactly one of --passphrase-file or --insecure');
    const passphrase = o.passphraseFile ? await readPassphraseFile(o.passphraseFile) : undefined;
    const r = await initHome({ home: resolve(o.home), chainId: o.chainId, moniker: o.moniker, rpcPort: o.rpcPort, fund: o.fund, minFee: o.minFee, passphrase });
    if (o.json) console.log(JSON.stringify(r));
    else console.log(`initialized ${r.home}\n  genesis: ${r.genesis}\n  validator: ${r.consensusKey}`);
  } catch (e) {
    fail(e, o.json === true);
  }
}

export async function startCmd(o: StartFlags): Promise<void> {
  try {
    const passphrase = o.passphraseFile ? await readPassphraseFile(o.passphraseFile) : undefined;
    const node = await createNode({ home: resolve(o.home), passphrase, config: o.rpcPort !== undefined ? { rpc: { host: '127.0.0.1', port: o.rpcPort } } : undefined });
    await node.start();
    const shutdown = () => {
      void node.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  } catch (e) {
    fail(e, false);
  }
}

export async function devnetCmd(o: DevnetFlags): Promise<void> {
  try {
    await runDevnet({ dir: resolve(o.dir), validators: o.validators, chainId: o.chainId, rpcPort: o.rpcPort, p2pPort: o.p2pPort, metricsPort: o.metricsPort ?? o.rpcPort + 200, faucetAmount: o.faucetAmount });
  } catch (e) {
    fail(e, false);
  }
}

interface DevnetOptions {
  dir: string;
  validators: number;
  chainId: string;
  rpcPort: number;
  p2pPort: number;
  metricsPort: number;
  faucetAmount: string;
}

interface DevnetFile {
  chainId: string;
  faucet: { keyFile: string; address: string };
  nodes: { name: string; home: string; rpc: string; metrics?: string; pid?: number }[];
}

async function runDevnet(o: DevnetOptions): Promise<void> {
  if (!Number.isInteger(o.validators) || o.validators < 1 || o.validators > 64) throw new InvalidMessageError(ERR.CONFIG, '--validators must be 1..64');
  const file = join(o.dir, 'devnet.json');
  let devnet: DevnetFile;
  if (existsSync(file)) {
    devnet = JSON.parse(await readFile(file, 'utf8')) as DevnetFile;
    console.log(`resuming devnet in ${o.dir}`);
  } else {
    await mkdir(o.dir, { recursive: true });
    const faucet = generateKeyPair(KeyType.secp256k1);
    const faucetFile = join(o.dir, 'faucet.json');
    await saveKeyFile(faucetFile, faucet, undefined);
    const faucetAddr = toChecksumAddress(addressOf(faucet.type, faucet.publicKey));
    const net = await initNetwork({ dir: o.dir, validators: o.validators, chainId: o.chainId, rpcPort: o.rpcPort, p2pPort: o.p2pPort, metricsPort: o.metricsPort, fund: [`${faucetAddr}=${o.faucetAmount}`] });
    devnet = {
      chainId: o.chainId,
      faucet: { keyFile: faucetFile, address: faucetAddr },
      nodes: net.homes.map((home, i) => ({ name: `validator-${i}`, home, rpc: `http://127.0.0.1:${o.rpcPort + i}`, metrics: `http://127.0.0.1:${o.metricsPort + i}/metrics` })),
    };
    console.log(`created devnet in ${o.dir} (chain ${o.chainId}); faucet ${faucetAddr} (insecure key file ${faucetFile})`);
  }
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            c.once('exit', () => res());
            c.kill('SIGTERM');
          }),
      ),
    );
    process.exit(code);
  };
  for (const n of devnet.nodes) {
    const child = spawn(process.execPath, [...VALIDATOR_NODE_FLAGS, BIN, 'start', '--home', n.home], { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    n.pid = child.pid;
    child.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${n.name} exited (${signal ?? code}); stopping the devnet`);
        void stopAll(1);
      }
    });
  }
  await writeJson(file, devnet);
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  console.log(`devnet starting: ${devnet.nodes.map((n) => `${n.name} pid ${n.pid}`).join('; ')}; waiting for every node's RPC`);
  // "running" means usable: every node answers chain_status (startup takes longer the more processes share the cores)
  const readyMs = 60_000 + 10_000 * devnet.nodes.length;
  const deadline = Date.now() + readyMs;
  const pending = new Set(devnet.nodes.map((n) => n.rpc));
  while (pending.size > 0 && !stopping) {
    await Promise.all(
      [...pending].map(async (url) => {
        const rpc = new RpcClient(url, { timeoutMs: 2_000 });
        try {
          await rpc.status();
          pending.delete(url);
        } catch {
          // not up yet
        } finally {
          await rpc.close();
        }
      }),
    );
    if (pending.size === 0 || stopping) break;
    if (Date.now() > deadline) {
      console.error(`devnet: ${[...pending].join(', ')} did not answer within ${readyMs / 1000} s; stopping the devnet`);
      return stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (stopping) return;
  console.log(`devnet running: ${devnet.nodes.map((n) => `${n.name} rpc ${n.rpc} pid ${n.pid}`).join('; ')}\npress Ctrl-C to stop`);
}
