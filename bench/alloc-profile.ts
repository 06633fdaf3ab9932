/**
 * What the main thread of a syncing node allocates per transaction, and where (issue 12: the
 * garbage collector is the largest single item of its CPU profile). Builds the p2p bench's chain,
 * opens a ChainState as cairnd does (one verify worker), and connects the transfer blocks the way
 * BlockConnector does (a worker prepares a group of 64, then processBlocks) under V8's sampling
 * heap profiler, counting objects the scavenger already collected (what a --heap-prof run drops).
 * Prints bytes per transaction by allocating function, and by the caller of Buffer helpers.
 * Usage: npx tsx bench/alloc-profile.ts [BLOCKS] [TXS_PER_BLOCK] [OUT_FILE.heapprofile] [--promoted]
 * (--promoted: only what outlived the young generation: what a scavenge copied out and a major GC
 * later collected, or still lives; run it under bin/cairnd's flags to see what the node promotes)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connectChain } from './connect-harness.ts';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Allocating helpers whose caller is the interesting site. */
const HELPERS = new Set([
  'from',
  'slice',
  'subarray',
  'FastBuffer',
  'allocUnsafe',
  'createUnsafeBuffer',
  'Uint8Array',
]);

const where = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

/** Self bytes by site: a helper's bytes are charged to its first caller outside Node and the helpers. */
function sites(root: ProfileNode): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (n: ProfileNode, stack: ProfileNode[]) => {
    if (n.selfSize > 0) {
      let key = where(n);
      if (HELPERS.has(n.callFrame.functionName) || n.callFrame.url.startsWith('node:')) {
        let i = stack.length - 1;
        while (
          i >= 0 &&
          (stack[i]!.callFrame.url === '' ||
            stack[i]!.callFrame.url.startsWith('node:') ||
            HELPERS.has(stack[i]!.callFrame.functionName))
        )
          i--;
        key = `${n.callFrame.functionName || '(native)'} ← ${i >= 0 ? where(stack[i]!) : '?'}`;
      }
      out.set(key, (out.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, [...stack, n]);
  };
  walk(root, []);
  return out;
}

async function main(): Promise<void> {
  // --promoted: only what outlived the young generation (collected by a major GC, or still alive)
  const promoted = process.argv.includes('--promoted');
  const args = process.argv.slice(2).filter((a) => a !== '--promoted');
  const blocks = Number(args[0] ?? 700);
  const perBlock = Number(args[1] ?? 100);
  const outFile = args[2];
  const session = new Session();
  session.connect();
  const post = session.post.bind(session) as (method: string, params?: object) => Promise<unknown>;
  try {
    await connectChain({ blocks, perBlock }, async (connect) => {
      await post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMinorGC: !promoted,
        includeObjectsCollectedByMajorGC: true,
      });
      const run = await connect();
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
      if (outFile !== undefined) writeFileSync(outFile, JSON.stringify(profile));
      const bySite = sites(profile.head);
      const total = [...bySite.values()].reduce((a, b) => a + b, 0);
      const { transfers } = run;
      console.log(
        `${transfers} transfers in ${blocks} blocks: connected in ${run.connectMs.toFixed(0)} ms (${((run.connectMs * 1000) / transfers).toFixed(1)} µs per tx, prepared by ${run.prepared} of ${blocks} on the worker)`,
      );
      console.log(
        `${promoted ? 'promoted out of the young generation' : 'allocated'} on this thread (sampled): ${(total / transfers).toFixed(0)} bytes per tx`,
      );
      for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30))
        console.log(
          `${(bytes / transfers).toFixed(0).padStart(6)} B/tx ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${site}`,
        );
    });
  } finally {
    session.disconnect();
  }
}

await main();
