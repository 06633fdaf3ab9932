/**
 * Block-accepted → feed-subscriber latency against a real cairnd (network local): a ZeroMQ SUB
 * socket in this process subscribed to `hashblock`, blocks mined one at a time with
 * `generatetoaddress 1` over JSON-RPC (keep-alive HTTP), BLOCKS of them after a warm-up.
 *
 * What is measured, per block, on this process's clock:
 *   t0 = the RPC request is sent, t1 = its reply is read, tf = the `hashblock` message is received.
 * The node accepts the block between t0 and t1 (it mines it, validates and connects it, queues the
 * feed messages, then answers), so accepted → subscriber lies between `tf − t1` (a lower bound)
 * and `tf − t0` (an upper bound, which includes the HTTP request, the block template and the nonce
 * search of a `local` block).
 * Printed with the machine's core count.
 */
import { availableParallelism } from 'node:os';
import { Subscriber } from 'zeromq';
import { encodeAddress } from '../shared/core/address.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { makeKey } from '../test/helpers/chain.ts';
import { makeNode, type NodeProcess } from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { rpcResult } from '../test/helpers/rpc.ts';
import { type BenchResult, runAsMain } from './result.ts';

const BLOCKS = Number(process.env.CAIRN_BENCH_FEED_BLOCKS ?? 300);
const WARMUP = 20;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export async function benchFeed(): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-feed-');
  let node: NodeProcess | undefined;
  const sub = new Subscriber({ linger: 0 });
  try {
    node = await makeNode({ name: 'a', root: root.path });
    await node.start();
    const n = node;
    sub.connect(`tcp://127.0.0.1:${n.feedPort}`);
    sub.subscribe('hashblock');
    const arrived = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const reader = (async () => {
      for await (const [, body] of sub) {
        const hash = Buffer.from(body!).toString('hex');
        arrived.set(hash, performance.now());
        waiters.get(hash)?.();
      }
    })().catch(() => undefined);
    const addr = encodeAddress(LOCAL.addressPrefix, makeKey().owner);
    // the subscription reaches the publisher (slow joiner): mine until one block is seen
    for (let seen = false; !seen; ) {
      const [h] = await rpcResult<string[]>(n, 'generatetoaddress', [1, addr]);
      await new Promise((r) => setTimeout(r, 100));
      seen = arrived.has(h!);
    }
    const fromSend: number[] = [];
    const fromReply: number[] = [];
    const rpcRoundTrip: number[] = [];
    for (let i = 0; i < WARMUP + BLOCKS; i++) {
      const t0 = performance.now();
      const [hash] = await rpcResult<string[]>(n, 'generatetoaddress', [1, addr]);
      const t1 = performance.now();
      if (!arrived.has(hash!))
        await Promise.race([
          new Promise<void>((r) => waiters.set(hash!, r)),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no hashblock for ${hash}`)), 5000)),
        ]);
      waiters.delete(hash!);
      const tf = arrived.get(hash!)!;
      if (i < WARMUP) continue;
      fromSend.push(tf - t0);
      fromReply.push(tf - t1);
      rpcRoundTrip.push(t1 - t0);
    }
    sub.close();
    await reader;
    const cores = availableParallelism();
    const note = `${BLOCKS} blocks, ${cores} cores`;
    const ms = (x: number) => Number(x.toFixed(3));
    return [
      {
        name: 'feed/rpc-sent→hashblock median',
        ops: ms(percentile(fromSend, 50)),
        unit: 'ms',
        note: `upper bound of accepted→subscriber (includes mining the block); ${note}`,
      },
      { name: 'feed/rpc-sent→hashblock p99', ops: ms(percentile(fromSend, 99)), unit: 'ms', note },
      {
        name: 'feed/rpc-reply→hashblock median',
        ops: ms(percentile(fromReply, 50)),
        unit: 'ms',
        note: 'lower bound of accepted→subscriber (the node accepted it before replying)',
      },
      { name: 'feed/rpc-reply→hashblock p99', ops: ms(percentile(fromReply, 99)), unit: 'ms', note },
      {
        name: 'feed/generatetoaddress round trip median',
        ops: ms(percentile(rpcRoundTrip, 50)),
        unit: 'ms',
        note: 'for comparison',
      },
    ];
  } finally {
    if (!sub.closed) sub.close();
    await node?.kill();
    root.remove();
  }
}

await runAsMain(import.meta.url, benchFeed);
