/**
 * Import from an archive vs sync from a peer, on the same chain in the same run (issue 15: import
 * must be at least as fast): p2p.ts's chain (blocks of transfers after the funding blocks) is
 * connected into a source data directory and exported; then a fresh cairnd syncs it from the
 * source over CURVE on loopback, and `cairnd import-blocks` loads the file into another fresh data
 * directory. Both are timed from process start to the last block, with the same verify.workers
 * (CAIRN_VERIFY_WORKERS, default 0 as the test cluster). Also the export rate and file size.
 * Usage: npx tsx bench/archive.ts [BLOCKS] [TXS_PER_BLOCK]   (npm run bench -- archive)
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportBlocks } from '../services/node/archive/export.ts';
import { ChainState } from '../services/node/chain-state.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { silentLogger } from '../shared/log.ts';
import { eventually, makeNode, type NodeProcess } from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { buildChain } from './p2p.ts';
import { type BenchResult, runAsMain } from './result.ts';
import { rpcClient } from './rpc-client.ts';

const MAIN = fileURLToPath(new URL('../services/node/main.ts', import.meta.url));

/** Runs `cairnd import-blocks`; resolves with the seconds from spawn to exit. */
function importFile(file: string, config: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'import-blocks', file, '--config', config],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve((performance.now() - t0) / 1000)
        : reject(new Error(`import exit ${code}: ${err}`)),
    );
  });
}

export async function benchArchive(blocks: number, per: number): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-archive-');
  const nodes: NodeProcess[] = [];
  const workers = Number(process.env.CAIRN_VERIFY_WORKERS ?? 0);
  try {
    const chain = buildChain(blocks, per);
    const height = chain.raw.length;
    const source = await makeNode({ name: 'source', root: root.path });
    const file = join(root.path, 'chain.cba');
    const state = await ChainState.open({ dataDir: source.dir, params: LOCAL }, { logger: silentLogger() });
    for (const raw of chain.raw) state.chain.processBlock(raw);
    const e0 = performance.now();
    const exported = await exportBlocks(state.chain, file);
    const exportSeconds = (performance.now() - e0) / 1000;
    await state.close();
    const mb = statSync(file).size / 1e6;

    // sync from a peer: as bench/p2p.ts, from the fresh node's start to its last block
    await source.start();
    nodes.push(source);
    const fresh = await makeNode({
      name: 'fresh',
      root: root.path,
      verifyWorkers: workers,
      connect: [{ address: source.address, key: source.key }],
    });
    const s0 = performance.now();
    await fresh.start();
    nodes.push(fresh);
    // the height over JSON-RPC: a P2P probe may time out while the node connects a batch
    const rpc = rpcClient(fresh, 1);
    const count = () => rpc.call<number>('getblockcount').catch(() => -1);
    await eventually('synced', async () => (await count()) === height, 600_000);
    const syncSeconds = (performance.now() - s0) / 1000;
    rpc.close();
    await Promise.all(nodes.splice(0).map((n) => n.kill()));

    // import from the file into another fresh data directory (the source no longer runs)
    const target = await makeNode({ name: 'imported', root: root.path, verifyWorkers: workers });
    const importSeconds = await importFile(file, target.configPath);

    const syncRate = chain.txs / syncSeconds;
    const importRate = chain.txs / importSeconds;
    const what = `${height} blocks, ${chain.txs} txs, verify.workers ${workers}`;
    return [
      {
        name: 'archive/export',
        ops: mb / exportSeconds,
        unit: 'MB/s',
        note: `${exported.count} blocks, ${mb.toFixed(1)} MB in ${exportSeconds.toFixed(2)} s`,
      },
      {
        name: 'archive/sync-one-peer',
        ops: syncRate,
        unit: 'tx/s',
        note: `${what}: fresh cairnd from one peer, ${syncSeconds.toFixed(1)} s incl. start-up`,
      },
      {
        name: 'archive/import-blocks',
        ops: importRate,
        unit: 'tx/s',
        note: `${what}: cairnd import-blocks, ${importSeconds.toFixed(1)} s incl. start-up and the file check`,
      },
      {
        name: 'archive/import-vs-sync',
        ops: importRate / syncRate,
        unit: 'x',
        note: 'import ÷ sync, same chain, same run (target ≥ 1)',
      },
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
    root.remove();
  }
}

await runAsMain(import.meta.url, () =>
  benchArchive(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 50)),
);
