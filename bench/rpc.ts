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
import { rpcClient, rpcTarget } from './rpc-client.ts';
import { encodeRpcRequest, submitRound } from './rpc-submit.ts';
import { builtMain, ProcessWatch, topSelf } from './sync-profile.ts';

/** Keep-alive clients each waiting for its answer before the next (CAIRN_BENCH_RPC_CLIENTS, default 4, issue 12's). */
const CLIENTS = Math.max(1, Number(process.env.CAIRN_BENCH_RPC_CLIENTS ?? 4));
/** Transfers sent in the timed round (CAIRN_BENCH_RPC_TXS; a multiple of 50). */
const TXS = Math.max(50, Math.round(Number(process.env.CAIRN_BENCH_RPC_TXS ?? 2000) / 50) * 50);
/** verify.workers of the node taking the transactions: cairnd's default (cores − 1) unless set. */
const WORKERS = Number(process.env.CAIRN_VERIFY_WORKERS ?? -1);
const PEER = process.env.CAIRN_BENCH_RPC_PEER !== '0';

export async function benchRpc(): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-rpc-');
  const nodes: NodeProcess[] = [];
  try {
    // no per-IP limit: the benchmark is one client IP on purpose
    const a = await makeNode({
      name: 'a',
      root: root.path,
      rpcMaxPerSecond: 0,
      main: builtMain(),
      verifyWorkers: WORKERS,
    });
    // CAIRN_PROFILE_DIR: a CPU profile of the node taking the transactions (written at its stop)
    const profileDir = process.env.CAIRN_PROFILE_DIR;
    if (profileDir !== undefined) a.nodeArgs = ['--cpu-prof', '--cpu-prof-dir', profileDir];
    // CAIRN_NODE_ARGS: more node/V8 flags for it (e.g. bin/cairnd's --max-semi-space-size=2)
    a.nodeArgs = [...a.nodeArgs, ...(process.env.CAIRN_NODE_ARGS ?? '').split(' ').filter((x) => x !== '')];
    await a.start();
    nodes.push(a);
    // the peer the transactions are relayed to (CAIRN_BENCH_RPC_PEER=0: none, as vs-bcoin's rounds)
    const b =
      PEER &&
      (await makeNode({
        name: 'b',
        root: root.path,
        connect: [{ address: a.address, key: a.key }],
      }));
    if (b) {
      await b.start();
      nodes.push(b);
    }
    const client = rpcClient(a, CLIENTS);
    const call = client.call;

    // getblockcount, 4 concurrent keep-alive clients, 3 s (not when profiling: the profile is of
    // the sendrawtransaction round)
    let count = 0;
    const end = Date.now() + (profileDir === undefined ? 3000 : 0);
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

    // funding: TXS / 50 mature coinbases split into 50 outputs each (untimed)
    const key = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
    const funding = TXS / 50;
    const hashes = (await call('generatetoaddress', [funding + LOCAL.coinbaseMaturity, addr])) as string[];
    const splits: DecodedTx[] = [];
    for (const h of hashes.slice(0, funding)) {
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
    // CLIENTS senders taking the next tx as soon as their previous one is answered, the requests
    // encoded beforehand (bench/rpc-submit.ts); CPU per tx of the node, its peer and the clients
    const target = rpcTarget(a);
    const requests = txs.map((t) => encodeRpcRequest(target, 'sendrawtransaction', [toHex(t.raw)]));
    const peer = b ? new ProcessWatch(b.proc!.pid!, 3_600_000) : undefined;
    const peer0 = peer?.cpuSeconds() ?? 0;
    const round = await submitRound({
      target,
      requests,
      lanes: CLIENTS,
      pid: a.proc!.pid!,
      settled: async () => {},
    });
    const peerCpuUs = peer === undefined ? 0 : ((peer.cpuSeconds() - peer0) / txs.length) * 1e6;
    peer?.stop();
    const txRate = round.rate;
    console.error(
      `node CPU per tx by thread, µs: ${[...round.threads]
        .sort((x, y) => y[1] - x[1])
        .filter(([, us]) => us >= 1)
        .map(([name, us]) => `${name} ${us.toFixed(0)}`)
        .join(', ')}`,
    );
    // how the signatures were checked: batches at the workers, or small ones on the main thread
    const pool = (await call('getmempoolinfo')) as {
      verifybatches: number;
      verifybatchedtxs: number;
      verifyinlinetxs: number;
    };
    console.error(
      `signatures: ${pool.verifybatches} batches (${pool.verifybatchedtxs} txs) at the verify workers, ${pool.verifyinlinetxs} txs on the main thread`,
    );
    if (profileDir !== undefined) {
      const roundEnd = performance.now();
      await a.stop();
      // the round and the stop after it: the setup's mining left out
      const lastSeconds = round.seconds + (performance.now() - roundEnd) / 1000;
      for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) {
        console.error(`\n${f}, its last ${lastSeconds.toFixed(1)} s`);
        for (const r of topSelf(join(profileDir, f), 40, lastSeconds))
          console.error(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.where}`);
      }
    }
    const cores = availableParallelism();
    return [
      {
        name: 'rpc/getblockcount',
        ops: reqRate,
        unit: 'req/s',
        note: `${CLIENTS} keep-alive clients, ${cores} cores`,
      },
      {
        name: 'rpc/sendrawtransaction',
        ops: txRate,
        unit: 'tx/s',
        note: `${txs.length} transfers from ${CLIENTS} keep-alive clients, ${b ? 'relayed to one peer' : 'no peer'}, ${cores} cores, verify.workers ${WORKERS}`,
      },
      {
        name: 'rpc/sendrawtransaction-cpu',
        ops: round.nodeCpuUs,
        unit: 'µs/tx',
        note: `node's CPU per accepted tx (main thread ${round.nodeMainCpuUs.toFixed(0)}); the peer ${peerCpuUs.toFixed(0)}, the clients ${round.clientCpuUs.toFixed(0)}`,
      },
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.kill()));
    root.remove();
  }
}

await runAsMain(import.meta.url, benchRpc);
