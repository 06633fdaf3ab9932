/**
 * `npm run cluster:keys`: identities and per-host environment files for a cluster of separate
 * hosts — discovery, N nodes, M recorders — as docker-compose.yml runs it (one container each)
 * and the network-namespace test runs it (one namespace each). Made once; run again, it keeps
 * what exists and fills in what is missing.
 *
 *   keys/cluster/discovery/discovery.key[_secret]
 *   keys/cluster/node-K/peer.key[_secret], proof.key[_secret]
 *   keys/cluster/recorder-J/recorder.key[_secret]
 *   keys/cluster/recorders/recorder-J.key      public keys the nodes allow (proof.recorders_dir)
 *   keys/cluster/wallet.json, wallet.pass      where the recorders are paid
 *   keys/cluster/env/<host>.env                CAIRN_* settings of each host (docker env_file format)
 *
 * Hosts are named discovery, node-K and recorder-J: the container names of docker-compose.yml;
 * the namespace test maps the same names to addresses in 198.51.100.0/24 (its hosts files).
 * Recorder J mines for node ((J − 1) mod N) + 1.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { NETWORKS } from '../shared/core/params/networks.ts';
import type { NetworkName } from '../shared/core/params/types.ts';
import { generateIdentity, identityPaths, loadPublicKey } from '../shared/identity/certificate.ts';
import { ensureWallet } from './devnet/identities.ts';

export interface ClusterKeys {
  readonly dir: string;
  readonly discovery: string;
  readonly nodes: readonly { peer: string; proof: string }[];
  readonly recorders: readonly string[];
  readonly payout: string;
}

function ensure(dir: string, name: string): string {
  const { publicPath } = identityPaths(dir, name);
  try {
    return loadPublicKey(publicPath);
  } catch {
    return generateIdentity(dir, name, { metadata: { role: name } }).publicKey;
  }
}

/** Each host's environment: only what differs between hosts (the configs in deploy/ hold the rest). */
export function clusterEnv(k: ClusterKeys, network: NetworkName): Map<string, Record<string, string>> {
  const ports = NETWORKS[network].ports;
  const env = new Map<string, Record<string, string>>();
  env.set('discovery', { CAIRN_NETWORK: network });
  k.nodes.forEach((_, i) => {
    env.set(`node-${i + 1}`, {
      CAIRN_NETWORK: network,
      CAIRN_PEERING_ANNOUNCE: `node-${i + 1}:${ports.peer}`,
      CAIRN_DISCOVERY_SERVERS: `${k.discovery}@discovery:${ports.discovery}`,
    });
  });
  k.recorders.forEach((_, j) => {
    const n = j % k.nodes.length;
    const host = `node-${n + 1}`;
    env.set(`recorder-${j + 1}`, {
      CAIRN_PAYOUT: k.payout,
      CAIRN_NODES: `${k.nodes[n]!.proof}@${host}:${ports.proofJobs}@${host}:${ports.proofSubmit}@${network}`,
    });
  });
  return env;
}

export function makeClusterKeys(
  dir: string,
  nodes: number,
  recorders: number,
  network: NetworkName,
): ClusterKeys {
  const discovery = ensure(join(dir, 'discovery'), 'discovery');
  const nodeKeys = Array.from({ length: nodes }, (_, i) => {
    const d = join(dir, `node-${i + 1}`);
    return { peer: ensure(d, 'peer'), proof: ensure(d, 'proof') };
  });
  mkdirSync(join(dir, 'recorders'), { recursive: true });
  const recorderKeys = Array.from({ length: recorders }, (_, j) => {
    const d = join(dir, `recorder-${j + 1}`);
    const key = ensure(d, 'recorder');
    copyFileSync(identityPaths(d, 'recorder').publicPath, join(dir, 'recorders', `recorder-${j + 1}.key`));
    return key;
  });
  const wallet = ensureWallet(dir, network);
  const k: ClusterKeys = { dir, discovery, nodes: nodeKeys, recorders: recorderKeys, payout: wallet.payout };
  mkdirSync(join(dir, 'env'), { recursive: true });
  for (const [host, vars] of clusterEnv(k, network)) {
    // KEY=value lines, no quotes: docker-compose's env_file passes the value as it is
    const text = Object.entries(vars)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n');
    writeFileSync(join(dir, 'env', `${host}.env`), `${text}\n`, { mode: 0o644 });
  }
  return k;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const a = yargs(hideBin(process.argv))
    .scriptName('npm run cluster:keys --')
    .option('dir', { type: 'string', default: join(repo, 'keys', 'cluster') })
    .option('nodes', { type: 'number', default: 3 })
    .option('recorders', { type: 'number', default: 1 })
    .option('network', { choices: ['main', 'test', 'local'] as const, default: 'local' as const })
    .strict()
    .parseSync();
  const k = makeClusterKeys(resolve(a.dir), a.nodes, a.recorders, a.network);
  console.log(`cluster identities in ${a.dir}: discovery ${k.discovery}`);
  for (const [i, n] of k.nodes.entries()) console.log(`  node-${i + 1}: peer ${n.peer}  proof ${n.proof}`);
  for (const [j, r] of k.recorders.entries()) console.log(`  recorder-${j + 1}: ${r}`);
  console.log(`  recorders pay ${k.payout} (wallet ${join(a.dir, 'wallet.json')})`);
}
