/**
 * Where a syncing node spends its time (issue 12): builds the p2p bench's chain, starts a source
 * cairnd with it and a fresh cairnd under `--cpu-prof`, waits for the sync, stops the fresh node
 * cleanly (the profile is written at exit) and prints the top self-time functions, with the
 * share of idle time (the main thread waiting) and of GC.
 * Also the pieces bench/vs-bcoin.ts shares: startSource(), syncFreshNode(), ProcessWatch.
 * Usage: npx tsx bench/sync-profile.ts [BLOCKS] [TXS_PER_BLOCK] [OUT_DIR]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainState } from '../services/node/chain-state.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import { silentLogger } from '../shared/log.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  type NodeSpec,
} from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { rpcResult } from '../test/helpers/rpc.ts';
import { buildChain } from './p2p.ts';

/** Memory of a process in MB: resident, of which anonymous (heap, buffers) and file pages (LMDB's map, read in place). */
export interface Mem {
  rss: number;
  anon: number;
  file: number;
}

/** A process's memory now, from /proc/PID/status; undefined once it has exited. */
export function memOf(pid: number): Mem | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0) / 1024;
    return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
  } catch {
    return undefined;
  }
}

/** Resident MB of the process's brk heap (`[heap]` in smaps): the main thread's malloc arena (LMDB's page copies, C++ buffers). */
export function brkHeapOf(pid: number): number | undefined {
  try {
    const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    const at = smaps.indexOf(' [heap]\n');
    if (at < 0) return 0;
    const rss = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1];
    return rss === undefined ? undefined : Number(rss) / 1024;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
export const ticksPerSecond = (): number => {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicks;
};

/** The process's children, grandchildren, … (from /proc/PID/task/TID/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) {
          if (c.trim() === '') continue;
          out.push(Number(c));
          visit(Number(c));
        }
      } catch {
        /* thread or process gone */
      }
    }
  };
  visit(pid);
  return out;
}

/** utime + stime of a process (all its threads), in clock ticks. */
/** utime + stime of a process (all its threads), or of one thread with `tid`. */
function cpuTicks(pid: number, tid?: number): number | undefined {
  try {
    const stat = readFileSync(
      tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
      'utf8',
    );
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5)
  } catch {
    return undefined;
  }
}

/**
 * Samples a process and its descendants (bcoin's worker processes; cairnd's verify workers are
 * threads, counted in the process) every `ms`: the peak memory of the process, the peak RSS of the
 * whole tree, and CPU time (utime + stime over /proc/PID/stat; a child that has exited counts with
 * its last sample).
 */
export class ProcessWatch {
  /** peak RSS, peak RssAnon and peak RssFile (each its own maximum, not taken at one moment) */
  peak: Mem = { rss: 0, anon: 0, file: 0 };
  /** peak of the summed RSS of the process and its descendants, MB */
  peakTree = 0;
  readonly #cpu = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    ms = 100,
  ) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), ms);
  }

  sample(): void {
    const m = memOf(this.pid);
    if (m === undefined) return;
    // each its own peak: the anonymous peak comes earlier than the RSS peak when LMDB's map is trimmed
    const p = this.peak;
    this.peak = {
      rss: Math.max(p.rss, m.rss),
      anon: Math.max(p.anon, m.anon),
      file: Math.max(p.file, m.file),
    };
    let tree = m.rss;
    for (const pid of [this.pid, ...descendants(this.pid)]) {
      const t = cpuTicks(pid);
      if (t !== undefined) this.#cpu.set(pid, t);
      if (pid !== this.pid) tree += memOf(pid)?.rss ?? 0;
    }
    if (tree > this.peakTree) this.peakTree = tree;
  }

  /** CPU seconds of the tree so far. */
  cpuSeconds(): number {
    this.sample();
    let ticks = 0;
    for (const t of this.#cpu.values()) ticks += t;
    return ticks / ticksPerSecond();
  }

  /**
   * CPU seconds of the process's main thread (for a cairnd: what connects blocks; the ceiling of
   * sync). Per transaction, it holds on a loaded machine where wall time does not.
   */
  mainThreadCpuSeconds(): number {
    return (cpuTicks(this.pid, this.pid) ?? 0) / ticksPerSecond();
  }

  /** Processes seen (the main one and its descendants). */
  get processes(): number {
    return this.#cpu.size;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** A cairnd (not started beyond what `start` says) holding `raw`, connected in-process by ChainState. */
export async function startSource(
  root: string,
  raw: readonly Uint8Array[],
  spec: Partial<NodeSpec> = {},
): Promise<NodeProcess> {
  const source = await makeNode({ name: 'source', root, ...spec });
  const state = await ChainState.open({ dataDir: source.dir, params: LOCAL }, { logger: silentLogger() });
  for (const r of raw) state.chain.processBlock(r);
  await state.close();
  await source.start();
  return source;
}

let built: string | undefined;
/**
 * The syncing node runs from dist/ as users run it (bin/cairnd): through tsx it carries a
 * TypeScript loader thread and its memory, which a user's node does not. Built once per process;
 * CAIRN_BENCH_SOURCE=1 runs the sources through tsx instead.
 */
export function builtMain(): string | undefined {
  if (process.env.CAIRN_BENCH_SOURCE === '1') return undefined;
  if (built !== undefined) return built;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`building dist/ for the benchmark failed:\n${r.stdout}${r.stderr}`);
  built = join(root, 'dist/services/node/main.js');
  return built;
}

/**
 * Times one sync for SyncRun: `started()` at the end of start-up, `synced()` at the height (it
 * stops `watch`). `t0`: when the node was spawned.
 */
export function syncClock(t0: number, watch: ProcessWatch): { started(): void; synced(): SyncRun } {
  let startSeconds = 0;
  let startCpuSeconds = 0;
  return {
    started() {
      startSeconds = (performance.now() - t0) / 1000;
      startCpuSeconds = watch.cpuSeconds();
    },
    synced() {
      const run: SyncRun = {
        seconds: (performance.now() - t0) / 1000,
        startSeconds,
        cpuSeconds: watch.cpuSeconds(),
        startCpuSeconds,
        mainCpuSeconds: watch.mainThreadCpuSeconds(),
        peak: watch.peak,
      };
      watch.stop();
      return run;
    },
  };
}

/** Cores used from the end of start-up ("started") to synced: the sync alone. */
export function syncCores(run: SyncRun): number {
  return (run.cpuSeconds - run.startCpuSeconds) / (run.seconds - run.startSeconds);
}

export interface SyncRun {
  /** from spawning the fresh node to its reporting the source's height */
  seconds: number;
  /** from spawning to the node's "started" log line */
  startSeconds: number;
  /** utime + stime of the fresh node (all threads) over the same span */
  cpuSeconds: number;
  /** the same, from spawning to "started" (start-up's part of cpuSeconds) */
  startCpuSeconds: number;
  /** the same, of its main thread alone (a cairnd's) */
  mainCpuSeconds?: number;
  /** peak memory of the fresh node while syncing, MB */
  peak: Mem;
  /** memory `idleMs` after the sync, when asked */
  idle?: Mem & { brk?: number };
}

/** The V8 flags bin/cairnd starts node with (its nursery size, no allocation-site pretenuring). */
export const CAIRND_NODE_FLAGS = ['--max-semi-space-size=2', '--no-allocation-site-pretenuring'];

/**
 * Starts a fresh cairnd connected to `source` only and waits until it has the source's `height`
 * (polled every 100 ms by a probe peer). The node is left running: the caller stops it.
 */
export async function syncFreshNode(o: {
  root: string;
  source: NodeProcess;
  height: number;
  name?: string;
  /** verify.workers of the syncing node (-1: cairnd's default, cores − 1) */
  verifyWorkers: number;
  nodeArgs?: string[];
  extra?: string;
  idleMs?: number;
}): Promise<{ run: SyncRun; fresh: NodeProcess }> {
  const name = o.name ?? 'fresh';
  const fresh = await makeNode({
    name,
    root: o.root,
    main: builtMain(),
    verifyWorkers: o.verifyWorkers,
    connect: [{ address: o.source.address, key: o.source.key }],
    ...(o.extra === undefined ? {} : { extra: o.extra }),
  });
  fresh.nodeArgs = [...CAIRND_NODE_FLAGS, ...(o.nodeArgs ?? [])];
  const id = makeProbeIdentity(o.root, `probe-${name}`);
  const t0 = performance.now();
  const started = fresh.start();
  // start() spawns synchronously: the process is there to watch from the first sample
  const watch = new ProcessWatch(fresh.proc!.pid!);
  const clock = syncClock(t0, watch);
  try {
    await started;
    clock.started();
    // (a ping a busy node answers late is asked again by eventually)
    await eventually('synced', async () => (await heightOf(fresh, id)) === o.height, 900_000);
    const run = clock.synced();
    if (o.idleMs !== undefined) {
      await new Promise((r) => setTimeout(r, o.idleMs));
      const idle = memOf(fresh.proc!.pid!);
      if (idle !== undefined) run.idle = { ...idle, brk: brkHeapOf(fresh.proc!.pid!) ?? 0 };
    }
    return { run, fresh };
  } catch (err) {
    watch.stop();
    await fresh.kill();
    throw err;
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * Self time per function (name + file:line), as a share of all samples; `lastSeconds`: only the
 * samples of the profile's last that many seconds (a timed round just before the process stopped).
 */
export function topSelf(
  profilePath: string,
  n = 25,
  lastSeconds?: number,
): { share: number; where: string }[] {
  const prof = JSON.parse(readFileSync(profilePath, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    endTime: number;
    startTime: number;
  };
  let from = prof.startTime;
  if (lastSeconds !== undefined) from = prof.endTime - lastSeconds * 1e6;
  const hits = new Map<number, number>();
  let total = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < from) continue;
    const s = prof.samples[i]!;
    hits.set(s, (hits.get(s) ?? 0) + 1);
    total++;
  }
  const byFn = new Map<string, number>();
  for (const node of prof.nodes) {
    const h = hits.get(node.id) ?? 0;
    if (h === 0) continue;
    const f = node.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/|services\/|shared\/)/, '$1');
    const key = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + h);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([where, h]) => ({ share: h / total, where }));
}

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 1000);
  const per = Number(process.argv[3] ?? 50);
  const out = process.argv[4] ?? tempDir('cairn-prof-out-').path;
  const root = tempDir('cairn-prof-');
  const nodes: NodeProcess[] = [];
  try {
    const chain = buildChain(blocks, per);
    nodes.push(await startSource(root.path, chain.raw));
    // CAIRN_VERIFY_WORKERS: verify.workers of the syncing node (default 0, the test cluster's)
    const verifyWorkers = Number(process.env.CAIRN_VERIFY_WORKERS ?? 0);
    const nodeArgs = process.env.CAIRN_PROFILE !== '0' ? ['--cpu-prof', '--cpu-prof-dir', out] : [];
    // CAIRN_SNAPSHOT=1: a heap snapshot of the fresh node when it has synced (into OUT_DIR)
    const snapshot = process.env.CAIRN_SNAPSHOT === '1';
    if (snapshot) nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${out}`);
    // CAIRN_NODE_ARGS: more node/V8 flags for the syncing node (e.g. --max-semi-space-size=4)
    nodeArgs.push(...(process.env.CAIRN_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''));
    // CAIRN_EXTRA_CONFIG: TOML appended to the syncing node's config (e.g. $'[storage]\nmap_cache_mb = 0')
    const extra = process.env.CAIRN_EXTRA_CONFIG;
    // the serving node shares the machine: its CPU while the fresh node syncs
    const sourceWatch = new ProcessWatch(nodes[0]!.proc!.pid!, 3_600_000);
    const source0 = sourceWatch.cpuSeconds();
    const { run, fresh } = await syncFreshNode({
      root: root.path,
      source: nodes[0]!,
      height: chain.raw.length,
      verifyWorkers,
      nodeArgs,
      ...(extra === undefined ? {} : { extra }),
      // CAIRN_IDLE_MS: also the node's memory this long after the sync
      ...(process.env.CAIRN_IDLE_MS === undefined ? {} : { idleMs: Number(process.env.CAIRN_IDLE_MS) }),
    });
    nodes.push(fresh);
    const { peak, seconds } = run;
    const sourceCpu = sourceWatch.cpuSeconds() - source0;
    sourceWatch.stop();
    const mb = (x: number) => x.toFixed(0);
    console.log(`fresh node peak RSS ${mb(peak.rss)} MB (anonymous ${mb(peak.anon)}, file ${mb(peak.file)})`);
    const idle = run.idle;
    if (idle !== undefined)
      console.log(
        `${process.env.CAIRN_IDLE_MS} ms after the sync: RSS ${mb(idle.rss)} MB (anonymous ${mb(idle.anon)}, of which malloc's brk heap ${idle.brk === undefined ? '?' : mb(idle.brk)}; file ${mb(idle.file)})`,
      );
    // CAIRN_MALLOCINFO=FILE: the idle node's malloc arenas (getmemoryinfo "mallocinfo") into FILE
    const mallocFile = process.env.CAIRN_MALLOCINFO;
    if (mallocFile !== undefined) {
      writeFileSync(mallocFile, await rpcResult<string>(fresh, 'getmemoryinfo', ['mallocinfo']));
      console.log(`malloc_info of the idle node: ${mallocFile}`);
    }
    // the JS side at the end of the sync: live heap vs what V8 holds, and Buffers outside the heap
    const text = await (await fetch(`http://127.0.0.1:${fresh.metricsPort}/metrics`)).text();
    // a sample of the node's /metrics: the first series of `name`, or the one with `labels`; NaN when absent
    const metric = (name: string, labels?: string) =>
      Number(
        new RegExp(
          `^${name}${labels === undefined ? '(?:\\{[^}]*\\})?' : `\\{${labels}\\}`} (\\S+)`,
          'm',
        ).exec(text)?.[1] ?? Number.NaN,
      );
    const m = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `at the end: heap used ${m(metric('nodejs_heap_size_used_bytes'))} MB of ${m(metric('nodejs_heap_size_total_bytes'))} MB, external ${m(metric('nodejs_external_memory_bytes'))} MB`,
    );
    // the main thread's garbage-collection pauses by kind (prom-client's GC observer), from start-up on
    // a kind prom-client did not report is shown as '?', not as 0 ms
    const gcMs = (kind: string) => metric('nodejs_gc_duration_seconds_sum', `kind="${kind}"`) * 1000;
    const kinds = ['minor', 'major', 'incremental', 'weakcb'].map((k) => [k, gcMs(k)] as const);
    const gcTotal = kinds.reduce((a, [, v]) => (Number.isNaN(v) ? a : a + v), 0);
    console.log(
      `main thread GC pauses: ${gcTotal.toFixed(0)} ms (${kinds.map(([k, v]) => `${k} ${Number.isNaN(v) ? '?' : v.toFixed(0)}`).join(', ')}), ${((gcTotal * 1000) / chain.txs).toFixed(1)} µs per tx`,
    );
    // how the connect grouped the blocks into storage commits, and how much the main thread verified itself
    const commits = metric('cairn_sync_commits_total');
    console.log(
      `storage commits while syncing: ${commits} (${(chain.raw.length / commits).toFixed(1)} blocks each); blocks the main thread prepared while it waited: ${metric('cairn_sync_blocks_helped_total')}`,
    );
    const released = metric('cairn_memory_map_released_bytes_total');
    const memoryLog = fresh.logs
      .filter((l) => (l as { module?: string }).module === 'memory')
      .map((l) => l.msg);
    console.log(
      `LMDB map pages released from RSS: ${Number.isNaN(released) ? 'off' : `${m(released)} MB`}${memoryLog.length > 0 ? `; ${memoryLog.join('; ')}` : ''}`,
    );
    if (snapshot) {
      const id = makeProbeIdentity(root.path);
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
    console.log(
      `${chain.txs} txs in ${seconds.toFixed(1)} s = ${Math.round(chain.txs / seconds)} tx/s, ${Math.round(chain.inputs / seconds)} signatures/s`,
    );
    // start-up is a constant (~0.6 s) that a short sync counts for a tenth of
    const fromReady = seconds - run.startSeconds;
    console.log(
      `from ready to synced: ${fromReady.toFixed(1)} s = ${Math.round(chain.txs / fromReady)} tx/s, ${Math.round(chain.inputs / fromReady)} signatures/s`,
    );
    console.log(
      `CPU of the syncing node: ${(run.cpuSeconds / seconds).toFixed(2)} cores from spawning it; ${syncCores(run).toFixed(2)} after its start-up (${run.startSeconds.toFixed(1)} s)`,
    );
    console.log(
      `CPU of the serving node meanwhile: ${(sourceCpu / seconds).toFixed(2)} cores (the two share this machine's ${availableParallelism()})`,
    );
    const us = (cpu: number) => ((cpu / chain.txs) * 1e6).toFixed(1);
    console.log(
      `CPU per tx: main thread ${us(run.mainCpuSeconds ?? Number.NaN)} µs, whole process ${us(run.cpuSeconds)} µs (these hold on a loaded machine)`,
    );
    // one profile per thread (main, verify workers, tsx's loader): each with its busy share
    const profiles = nodeArgs.length === 0 ? [] : readdirSync(out).filter((x) => x.endsWith('.cpuprofile'));
    for (const f of profiles) {
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
