/**
 * The bcoin side's measurements: a fresh bcoin node syncing from a serving one over loopback P2P,
 * and mempool acceptance by RPC (sendrawtransaction from concurrent keep-alive clients).
 */
import { join } from 'node:path';
import { memOf, ProcessWatch, type SyncRun, syncClock } from '../sync-profile.ts';
import { type BcoinChain, FEE } from './chain.ts';
import type { BcoinInstall } from './install.ts';
import { BcoinNode } from './node.ts';

/**
 * Starts a fresh bcoin node connected only to `source` and waits until it reports `height`
 * (getblockcount every 100 ms). CPU and peak RSS count bcoin's worker processes too (`peakTree`);
 * `peak` is the node process alone. The node is stopped before returning.
 */
export async function syncFreshBcoin(o: {
  bcoin: BcoinInstall;
  root: string;
  source: BcoinNode;
  height: number;
  name: string;
  args?: string[];
  idleMs?: number;
}): Promise<SyncRun & { peakTree: number; processes: number; commandLine: string }> {
  const fresh = await BcoinNode.make({
    bcoinDir: o.bcoin.dir,
    name: o.name,
    prefix: join(o.root, o.name),
    only: [o.source.address],
    sockets: 1,
    ...(o.args === undefined ? {} : { args: o.args }),
  });
  const t0 = performance.now();
  const started = fresh.start();
  const watch = new ProcessWatch(fresh.proc!.pid!);
  const clock = syncClock(t0, watch);
  try {
    await started;
    clock.started();
    const end = Date.now() + 900_000;
    while ((await fresh.call<number>('getblockcount')) < o.height) {
      if (Date.now() > end) throw new Error(`bcoin ${o.name}: not synced after 900 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const run: SyncRun & { peakTree: number; processes: number; commandLine: string } = {
      ...clock.synced(),
      peakTree: watch.peakTree,
      processes: watch.processes,
      commandLine: fresh.commandLine,
    };
    if (o.idleMs !== undefined) {
      await new Promise((r) => setTimeout(r, o.idleMs));
      const idle = memOf(fresh.proc!.pid!);
      if (idle !== undefined) run.idle = idle;
    }
    return run;
  } finally {
    watch.stop();
    await fresh.stop();
  }
}

/**
 * Signed raw transactions (hex) spending `count` of the chain's change outputs from `from` on:
 * one input, two outputs (a third to the next key, the rest back less the fee), as the chain's
 * transfers. Built and signed here, untimed.
 */
export function bcoinSpends(bcoin: BcoinInstall, chain: BcoinChain, from: number, count: number): string[] {
  const b = bcoin.lib;
  const per = chain.rings.length;
  const out: string[] = [];
  for (const s of chain.spendable.slice(from, from + count)) {
    const ring = chain.rings[s.key];
    const mtx = new b.MTX();
    const coin = new b.Coin({
      version: 1,
      height: s.height,
      value: s.value,
      script: b.Script.fromPubkeyhash(ring.getKeyHash()),
      hash: s.hash,
      index: s.index,
    });
    mtx.addCoin(coin);
    const third = Math.floor(s.value / 3);
    mtx.addOutput(chain.rings[(s.key + 1) % per].getAddress(), third);
    mtx.addOutput(ring.getAddress(), s.value - third - FEE);
    if (mtx.sign(ring) !== 1) throw new Error('bcoin bench: could not sign a spend');
    out.push(mtx.toRaw().toString('hex'));
  }
  return out;
}

/**
 * Resolves once getmempoolinfo counts `expected` transactions (polled every 20 ms): bcoin's
 * sendrawtransaction answers before its mempool has checked the transaction (FullNode.relay is not
 * awaited, and a rejection is only logged), so the answers alone would time parsing.
 */
export async function mempoolSettled(
  call: (method: string, params: unknown[]) => Promise<unknown>,
  expected: number,
): Promise<void> {
  const end = Date.now() + 120_000;
  for (;;) {
    const { size } = (await call('getmempoolinfo', [])) as { size: number };
    if (size >= expected) return;
    if (Date.now() > end)
      throw new Error(
        `the mempool holds ${size} transactions, not ${expected}, 120 s after the last was sent`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}
