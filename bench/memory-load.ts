/**
 * Memory of a real cairnd (network local) under RPC load, and whether it comes back.
 *
 * Steps: start node `a` (and a peer `b` it relays to, as bench/rpc.ts; CAIRN_BENCH_MEMORY_PEER=0
 * leaves it out), fund TXS spendable coins, let the node sit idle, then send TXS transfers with
 * `sendrawtransaction` from 4 keep-alive clients while a fifth mines a block with
 * `generatetoaddress 1` every second; keep mining until the mempool is empty, then sample for
 * SETTLE seconds with no load at all.
 *
 * Figures, all of node `a`'s process (from /proc/PID/status every 250 ms): VmRSS and RssAnon
 * (RssFile is mostly LMDB's memory map, which the kernel reclaims as it likes); idle (median of the
 * 5 s before the load), peak (highest sample from the load to the end), after (the sample SETTLE s
 * after the mempool emptied), and after / idle. The JS heap and external memory come from the
 * node's /metrics (prom-client's default metrics), the rest of RssAnon is native (malloc arenas,
 * LMDB and ZeroMQ buffers, code).
 *
 * Environment: CAIRN_BENCH_MEMORY_TXS (20000), CAIRN_BENCH_MEMORY_SETTLE_S (60),
 * CAIRN_BENCH_MEMORY_PEER (1), CAIRN_BENCH_MEMORY_SNAPSHOTS=DIR (heap snapshots of `a` at idle and
 * after settling, written to DIR by --heapsnapshot-signal; compare them with `npx tsx
 * bench/heap-compare.ts idle.heapsnapshot after.heapsnapshot`; snapshots perturb the figures),
 * CAIRN_BENCH_MEMORY_NODE_ARGS (node flags for `a` only, e.g. --trace-gc: what it prints that is
 * not a log line goes to stderr), CAIRN_BENCH_MEMORY_TRIM=1 (after settling, call glibc's
 * malloc_trim(0) in the node through gdb and sample again: what RSS the allocator held in free
 * memory), and anything the node child should see, e.g. MALLOC_ARENA_MAX=2.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
} from 'node:fs';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeAddress } from '../shared/core/address.ts';
import { hashFromHex, toHex } from '../shared/core/bytes.ts';
import { LOCAL } from '../shared/core/params/networks.ts';
import type { DecodedTx } from '../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../test/helpers/chain.ts';
import { makeNode, type NodeProcess } from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { type BenchResult, median, runAsMain } from './result.ts';
import { rpcClient } from './rpc-client.ts';

const TXS = Number(process.env.CAIRN_BENCH_MEMORY_TXS ?? 20_000);
const SETTLE_S = Number(process.env.CAIRN_BENCH_MEMORY_SETTLE_S ?? 60);
const PEER = process.env.CAIRN_BENCH_MEMORY_PEER !== '0';
const SNAPSHOTS = process.env.CAIRN_BENCH_MEMORY_SNAPSHOTS;
const TRIM = process.env.CAIRN_BENCH_MEMORY_TRIM === '1';
const NODE_ARGS = (process.env.CAIRN_BENCH_MEMORY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const CLIENTS = 4;
const OUTPUTS_PER_SPLIT = 500;
const MINE_EVERY_MS = 1000;
const SAMPLE_MS = 250;
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const progress = (msg: string) => process.stderr.write(`memory-load: ${msg}\n`);

interface Sample {
  /** ms since the sampler started */
  readonly t: number;
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
}

/** VmRSS, RssAnon, RssFile of a process in bytes. */
export function procMemory(pid: number): { rss: number; anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Samples a process's memory every SAMPLE_MS until stopped. */
class Sampler {
  readonly samples: Sample[] = [];
  readonly #t0 = performance.now();
  readonly #timer: NodeJS.Timeout;
  constructor(readonly pid: number) {
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.sample();
  }
  sample(): Sample {
    const s = { t: performance.now() - this.#t0, ...procMemory(this.pid) };
    this.samples.push(s);
    return s;
  }
  now(): number {
    return performance.now() - this.#t0;
  }
  between(from: number, to = Number.POSITIVE_INFINITY): Sample[] {
    return this.samples.filter((s) => s.t >= from && s.t <= to);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

interface HeapFigures {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    })
      .on('error', reject)
      .end();
  });
}

/** The node's JS heap and external memory, from prom-client's default metrics on /metrics. */
async function heapFigures(node: NodeProcess): Promise<HeapFigures> {
  const text = await httpGet(node.metricsPort, '/metrics');
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    heapUsed: get('nodejs_heap_size_used_bytes'),
    heapTotal: get('nodejs_heap_size_total_bytes'),
    external: get('nodejs_external_memory_bytes'),
  };
}

function snapshotComplete(path: string): boolean {
  const size = statSync(path).size;
  if (size < 2) return false;
  const fd = openSync(path, 'r');
  try {
    const tail = Buffer.alloc(2);
    readSync(fd, tail, 0, 2, size - 2);
    return tail.toString() === ']}';
  } finally {
    closeSync(fd);
  }
}

/** Sends SIGUSR2 (--heapsnapshot-signal) and waits until the new snapshot file is complete; renames it. */
async function heapSnapshot(node: NodeProcess, dir: string, name: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  node.proc!.kill('SIGUSR2');
  for (let i = 0; i < 1200; i++) {
    await sleep(250);
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh === undefined) continue;
    // written on the node's main thread: complete when the JSON is closed (it ends with `]}`)
    const path = join(dir, fresh);
    while (!snapshotComplete(path)) await sleep(250);
    // then let the node catch up on what queued while it was blocked
    await sleep(2000);
    const target = join(dir, `${name}.heapsnapshot`);
    renameSync(path, target);
    return target;
  }
  throw new Error('no heap snapshot written within 5 minutes');
}

/** glibc malloc_trim(0) inside the process, through gdb (a measurement, not something to ship). */
function mallocTrim(pid: number): string {
  return execFileSync(
    'gdb',
    ['-p', String(pid), '-batch', '-ex', 'call (int) malloc_trim(0)', '-ex', 'detach', '-ex', 'quit'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
  );
}

export async function benchMemoryLoad(): Promise<BenchResult[]> {
  const root = tempDir('cairn-bench-memory-');
  const nodes: NodeProcess[] = [];
  let sampler: Sampler | undefined;
  const clients: { close: () => void }[] = [];
  try {
    const a = await makeNode({ name: 'a', root: root.path, rpcMaxPerSecond: 0 });
    a.nodeArgs = NODE_ARGS;
    if (SNAPSHOTS !== undefined) {
      mkdirSync(SNAPSHOTS, { recursive: true });
      a.nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${resolve(SNAPSHOTS)}`);
    }
    const started = a.start();
    // what node `a` prints that is not a log line (e.g. --trace-gc) goes to stderr
    a.proc!.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n'))
        if (line !== '' && !line.startsWith('{')) process.stderr.write(`a: ${line}\n`);
    });
    await started;
    nodes.push(a);
    if (PEER) {
      const b = await makeNode({ name: 'b', root: root.path, connect: [{ address: a.address, key: a.key }] });
      await b.start();
      nodes.push(b);
    }
    const pid = a.proc!.pid!;
    const funder = rpcClient(a, 1);
    clients.push(funder);
    const call = funder.call;

    // funding (untimed): coinbases split into OUTPUTS_PER_SPLIT outputs each = TXS coins
    progress(`funding ${TXS} coins`);
    const key = makeKey();
    const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
    const splitsNeeded = Math.ceil(TXS / OUTPUTS_PER_SPLIT);
    const hashes = await call<string[]>('generatetoaddress', [splitsNeeded + LOCAL.coinbaseMaturity, addr]);
    const splits: DecodedTx[] = [];
    for (const h of hashes.slice(0, splitsNeeded)) {
      const blk = await call<{ tx: { txid: string; vout: { value: number }[] }[] }>('getblock', [h, 2]);
      const cb = blk.tx[0]!;
      const each = Math.floor((cb.vout[0]!.value - 100_000) / OUTPUTS_PER_SPLIT);
      const s = signed({
        version: 1,
        kind: 'transfer',
        inputs: [spend(key, hashFromHex(cb.txid)!, 0)],
        outputs: Array.from({ length: OUTPUTS_PER_SPLIT }, () => out(key.owner, each)),
      });
      await call('sendrawtransaction', [toHex(s.raw)]);
      splits.push(s);
    }
    await call('generatetoaddress', [1, addr]);
    if ((await call<{ count: number }>('getmempoolinfo')).count !== 0)
      throw new Error('mempool not empty after funding');
    funder.close();
    const hexes = splits
      .flatMap((s) =>
        s.tx.outputs.map((o, v) =>
          signed({
            version: 1,
            kind: 'transfer',
            inputs: [spend(key, s.txid, v)],
            // fees vary a little, so the fee estimator sees a spread as it would in use
            outputs: [out(key.owner, o.amount - 1000 - (v % 50) * 10)],
          }),
        ),
      )
      .slice(0, TXS)
      .map((t) => toHex(t.raw));

    // idle: 10 s quiet, the last 5 s measured
    progress('idle');
    sampler = new Sampler(pid);
    await sleep(10_000);
    const idleSamples = sampler.between(sampler.now() - 5000);
    const idle = {
      rss: median(idleSamples.map((s) => s.rss)),
      anon: median(idleSamples.map((s) => s.anon)),
      file: median(idleSamples.map((s) => s.file)),
    };
    const idleHeap = await heapFigures(a);
    if (SNAPSHOTS !== undefined) progress(`snapshot ${await heapSnapshot(a, resolve(SNAPSHOTS), 'idle')}`);

    // load: CLIENTS senders, one miner; fresh keep-alive clients (signing above blocked this process
    // for seconds: a socket the server closed meanwhile would otherwise be reused and hang up)
    const rpc = rpcClient(a, CLIENTS);
    const miner = rpcClient(a, 1);
    clients.push(rpc, miner);
    progress(`sending ${hexes.length} transfers from ${CLIENTS} clients, a block every ${MINE_EVERY_MS} ms`);
    const loadFrom = sampler.now();
    let sending = true;
    let blocks = 0;
    const mining = (async () => {
      while (sending) {
        await sleep(MINE_EVERY_MS);
        await miner.call('generatetoaddress', [1, addr]);
        blocks++;
      }
    })();
    let next = 0;
    const s0 = performance.now();
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let i = next++; i < hexes.length; i = next++) await rpc.call('sendrawtransaction', [hexes[i]]);
        }),
      );
    } finally {
      sending = false;
      await mining;
    }
    const sendSeconds = (performance.now() - s0) / 1000;
    const loadHeap = await heapFigures(a);
    // until the mempool is empty
    while ((await rpc.call<{ count: number }>('getmempoolinfo')).count > 0) {
      await miner.call('generatetoaddress', [1, addr]);
      blocks++;
    }
    rpc.close();
    miner.close();
    const emptyAt = sampler.now();
    progress(
      `mempool empty after ${sendSeconds.toFixed(1)} s of sending, ${blocks} blocks; settling ${SETTLE_S} s`,
    );
    // settle: no requests at all (except one /metrics scrape at the end); RSS every 10 s on stderr
    const timeline: string[] = [];
    for (let t = 0; t < SETTLE_S; t += 10) {
      timeline.push(`${t}s ${(sampler.sample().rss / MB).toFixed(0)}`);
      await sleep(Math.min(10, SETTLE_S - t) * 1000);
    }
    const after = sampler.sample();
    for (const l of a.logs.filter((l) => /drained/.test(l.msg)))
      progress(`node: ${l.msg} ${JSON.stringify(l)}`);
    progress(
      `RSS (MB) after the mempool emptied: ${timeline.join(', ')}, ${SETTLE_S}s ${(after.rss / MB).toFixed(0)}`,
    );
    const afterHeap = await heapFigures(a);
    const peakSamples = sampler.between(loadFrom);
    const peak = {
      rss: Math.max(...peakSamples.map((s) => s.rss)),
      anon: Math.max(...peakSamples.map((s) => s.anon)),
    };
    const settleSamples = sampler.between(emptyAt);
    const settleMin = Math.min(...settleSamples.map((s) => s.rss));
    let trimmed: { rss: number; anon: number } | undefined;
    if (TRIM) {
      progress(`malloc_trim: ${mallocTrim(pid).trim().split('\n').at(-1)}`);
      await sleep(1000);
      trimmed = sampler.sample();
    }
    if (SNAPSHOTS !== undefined) progress(`snapshot ${await heapSnapshot(a, resolve(SNAPSHOTS), 'after')}`);
    sampler.stop();

    const mb = (n: number) => (n / MB).toFixed(1);
    const arena =
      process.env.MALLOC_ARENA_MAX === undefined ? '' : `, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}`;
    const setup = `${hexes.length} tx, ${CLIENTS} clients, ${PEER ? '1 peer' : 'no peer'}, ${availableParallelism()} cores${arena}${SNAPSHOTS === undefined ? '' : ', heap snapshots taken (perturbed)'}`;
    const heapNote = (h: HeapFigures) =>
      `JS heap ${mb(h.heapUsed)} used / ${mb(h.heapTotal)} total, external ${mb(h.external)} MB`;
    return [
      {
        name: 'memory-load/rss-idle',
        ops: idle.rss / MB,
        unit: 'MB',
        note: `RssAnon ${mb(idle.anon)}, RssFile ${mb(idle.file)}; ${heapNote(idleHeap)}`,
      },
      {
        name: 'memory-load/rss-peak',
        ops: peak.rss / MB,
        unit: 'MB',
        note: `RssAnon ${mb(peak.anon)}; at end of sending: ${heapNote(loadHeap)}; ${(hexes.length / sendSeconds).toFixed(0)} tx/s`,
      },
      {
        name: `memory-load/rss-after-${SETTLE_S}s`,
        ops: after.rss / MB,
        unit: 'MB',
        note: `RssAnon ${mb(after.anon)}, RssFile ${mb(after.file)}; ${heapNote(afterHeap)}; lowest while settling ${mb(settleMin)}`,
      },
      {
        name: 'memory-load/rss-after/idle',
        ops: after.rss / idle.rss,
        unit: 'x',
        note: `RssAnon after/idle ${(after.anon / idle.anon).toFixed(2)}; ${setup}`,
      },
      ...(trimmed === undefined
        ? []
        : [
            {
              name: 'memory-load/rss-after-malloc_trim',
              ops: trimmed.rss / MB,
              unit: 'MB',
              note: `RssAnon ${mb(trimmed.anon)} (${mb(after.anon - trimmed.anon)} MB was free malloc memory)`,
            },
          ]),
    ];
  } catch (e) {
    for (const n of nodes) progress(`node ${n.name}: exit ${n.exitCode}; stderr: ${n.stderr.slice(-2000)}`);
    throw e;
  } finally {
    sampler?.stop();
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.kill()));
    root.remove();
    if (existsSync(root.path)) progress(`could not remove ${root.path}`);
  }
}

await runAsMain(import.meta.url, benchMemoryLoad);
