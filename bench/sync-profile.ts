/**
 * Where a syncing node spends its time (issue 12): builds the p2p bench's chain, starts a source
 * cairnd with it and a fresh cairnd under `--cpu-prof`, waits for the sync, stops the fresh node
 * cleanly (the profile is written at exit) and prints the top self-time functions, with the
 * share of idle time (the main thread waiting) and of GC.
 * Usage: npx tsx bench/sync-profile.ts [BLOCKS] [TXS_PER_BLOCK] [OUT_DIR]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainState } from '../services/node/chain-state.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { silentLogger } from '../shared/log.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
} from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { buildChain } from './p2p.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function (name + file:line), as a share of all samples. */
export function topSelf(profilePath: string, n = 25): { share: number; where: string }[] {
  const prof = JSON.parse(readFileSync(profilePath, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const hits = new Map<number, number>();
  for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const byFn = new Map<string, number>();
  for (const node of prof.nodes) {
    const h = hits.get(node.id) ?? 0;
    if (h === 0) continue;
    const f = node.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/|services\/|shared\/)/, '$1');
    const key = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + h);
  }
  const total = prof.samples.length;
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([where, h]) => ({ share: h / total, where }));
}

/** utime + stime of a process (all threads) and of its main thread, in seconds. */
export function cpuSeconds(pid: number): { all: number; main: number } {
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  };
  const hz = 100; // USER_HZ on Linux
  return {
    all: ticks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / hz,
    main: ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')) / hz,
  };
}

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 1000);
  const per = Number(process.argv[3] ?? 50);
  const out = process.argv[4] ?? tempDir('cairn-prof-out-').path;
  const root = tempDir('cairn-prof-');
  const nodes: NodeProcess[] = [];
  try {
    const chain = buildChain(blocks, per);
    const source = await makeNode({ name: 'source', root: root.path });
    const state = await ChainState.open({ dataDir: source.dir, params: LOCAL }, { logger: silentLogger() });
    for (const raw of chain.raw) state.chain.processBlock(raw);
    await state.close();
    await source.start();
    nodes.push(source);
    // CAIRN_VERIFY_WORKERS: verify.workers of the syncing node (default 0, the test cluster's)
    const verifyWorkers = Number(process.env.CAIRN_VERIFY_WORKERS ?? 0);
    const fresh = await makeNode({
      verifyWorkers,
      name: 'fresh',
      root: root.path,
      connect: [{ address: source.address, key: source.key }],
    });
    if (process.env.CAIRN_PROFILE !== '0') fresh.nodeArgs = ['--cpu-prof', '--cpu-prof-dir', out];
    // CAIRN_SNAPSHOT=1: a heap snapshot of the fresh node when it has synced (into OUT_DIR)
    const snapshot = process.env.CAIRN_SNAPSHOT === '1';
    if (snapshot) fresh.nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${out}`);
    const id = makeProbeIdentity(root.path);
    const t0 = performance.now();
    await fresh.start();
    nodes.push(fresh);
    // RSS splits into anonymous memory (heap, buffers) and file pages (LMDB's map, read in place)
    let peak = { rss: 0, anon: 0, file: 0 };
    const rss = setInterval(() => {
      try {
        const st = readFileSync(`/proc/${fresh.proc?.pid}/status`, 'utf8');
        const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0);
        if (kb('VmRSS') > peak.rss) peak = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
      } catch {
        /* exited */
      }
    }, 100);
    await eventually('synced', async () => (await heightOf(fresh, id)) === chain.raw.length, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(rss);
    // CPU time, unlike wall time, holds on a loaded machine: per transaction, the main thread's
    // and the whole process's (main + verify workers + libuv/lmdb threads)
    const cpu = cpuSeconds(fresh.proc!.pid!);
    const us = (s: number) => ((s / chain.txs) * 1e6).toFixed(1);
    console.log(
      `CPU per tx: main thread ${us(cpu.main)} µs, whole process ${us(cpu.all)} µs; ${(cpu.all / seconds).toFixed(2)} cores used on average`,
    );
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    console.log(`fresh node peak RSS ${mb(peak.rss)} MB (anonymous ${mb(peak.anon)}, file ${mb(peak.file)})`);
    // the JS side at the end of the sync: live heap vs what V8 holds, and Buffers outside the heap
    const text = await (await fetch(`http://127.0.0.1:${fresh.metricsPort}/metrics`)).text();
    const metric = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    const m = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `at the end: heap used ${m(metric('nodejs_heap_size_used_bytes'))} MB of ${m(metric('nodejs_heap_size_total_bytes'))} MB, external ${m(metric('nodejs_external_memory_bytes'))} MB`,
    );
    if (snapshot) {
      fresh.proc?.kill('SIGUSR2');
      await eventually(
        'heap snapshot written',
        () => readdirSync(out).some((f) => f.endsWith('.heapsnapshot')),
        120_000,
      );
      await new Promise((r) => setTimeout(r, 5000)); // the file is complete when the node answers again
      await heightOf(fresh, id);
      console.log(`heap snapshot in ${out}`);
    }
    await fresh.stop();
    console.log(`${chain.txs} txs in ${seconds.toFixed(1)} s = ${Math.round(chain.txs / seconds)} tx/s`);
    // one profile per thread (main, verify workers, tsx's loader): each with its busy share
    for (const f of readdirSync(out).filter((x) => x.endsWith('.cpuprofile'))) {
      const top = topSelf(join(out, f), 30);
      const idle = top.find((r) => r.where === '(idle)')?.share ?? 0;
      if (idle > 0.95) continue;
      console.log(`\n${f}: busy ${((1 - idle) * 100).toFixed(1)}% of the run`);
      for (const r of top) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.where}`);
    }
  } finally {
    for (const n of nodes) await n.kill();
    root.remove();
  }
}

if (process.argv[1]?.endsWith('sync-profile.ts')) await main();
