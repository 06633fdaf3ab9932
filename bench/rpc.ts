import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '../shared/core/address.ts';
import { hashFromHex, toHex } from '../shared/core/bytes.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import type { DecodedTx } from '../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../test/helpers/chain.ts';
import { makeNode, type NodeProcess } from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { type BenchResult, runAsMain } from './result.ts';
import { rpcClient } from './rpc-client.ts';
import { builtMain, topSelf } from './sync-profile.ts';

const CLIENTS = 4;

export async function benchRpc(): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-rpc-');
  const nodes: NodeProcess[] = [];
  try {
    // no per-IP limit: the benchmark is one client IP on purpose
    const a = await makeNode({ name: 'a', root: root.path, rpcMaxPerSecond: 0, main: builtMain() });
    // CAIRN_PROFILE_DIR: a CPU profile of the node taking the transactions (written at its stop)
    const profileDir = process.env.CAIRN_PROFILE_DIR;
    if (profileDir !== undefined) a.nodeArgs = ['--cpu-prof', '--cpu-prof-dir', profileDir];
    await a.start();
    nodes.push(a);
    const b = await makeNode({
      name: 'b',
      root: root.path,
      connect: [{ address: a.address, key: a.key }],
    });
    await b.start();
    nodes.push(b);
    const client = rpcClient(a, CLIENTS);
    const call = client.call;

    // getblockcount, 4 concurrent keep-alive clients, 3 s
    let count = 0;
    const end = Date.now() + 3000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < end) {
          await call('getblockcount');
          count++;
        }
      }),
    );
    const reqRate = count / ((performance.now() - t0) / 1000);

    // funding: 40 mature coinbases split into 50 outputs each = 2,000 coins (untimed)
    const key = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
    const hashes = (await call('generatetoaddress', [50, addr])) as string[];
    const splits: DecodedTx[] = [];
    for (const h of hashes.slice(0, 40)) {
      const blk = (await call('getblock', [h, 2])) as { tx: { txid: string; vout: { value: number }[] }[] };
      const cb = blk.tx[0]!;
      const each = Math.floor((cb.vout[0]!.value - 10_000) / 50);
      const s = signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(key, hashFromHex(cb.txid)!, 0)],
        outputs: Array.from({ length: 50 }, () => out(key.owner, each)),
      });
      await call('sendrawtransaction', [toHex(s.raw)]);
      splits.push(s);
    }
    await call('generatetoaddress', [1, addr]);
    const txs = splits.flatMap((s) =>
      s.tx.outputs.map((o, v) =>
        signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(key, s.txid, v)],
          outputs: [out(key.owner, o.amount - 1000)],
        }),
      ),
    );
    // CLIENTS senders taking the next tx as soon as their previous one is answered
    const hexes = txs.map((t) => toHex(t.raw));
    let next = 0;
    const s0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < hexes.length; i = next++) await call('sendrawtransaction', [hexes[i]]);
      }),
    );
    const txRate = txs.length / ((performance.now() - s0) / 1000);
    if (profileDir !== undefined) {
      await a.stop();
      for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) {
        console.error(`\n${f}`);
        for (const r of topSelf(join(profileDir, f), 25))
          console.error(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.where}`);
      }
    }
    const cores = availableParallelism();
    return [
      {
        name: 'rpc/getblockcount',
        ops: reqRate,
        unit: 'req/s',
        note: `4 keep-alive clients, ${cores} cores`,
      },
      {
        name: 'rpc/sendrawtransaction',
        ops: txRate,
        unit: 'tx/s',
        note: `${txs.length} transfers from 4 keep-alive clients, relayed to one peer, ${cores} cores`,
      },
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
    root.remove();
  }
}

await runAsMain(import.meta.url, benchRpc);
