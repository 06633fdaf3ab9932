/**
 * Cairn against bcoin v2.2.0 (issue 12), side by side on this machine in the same run, alternating
 * Cairn, bcoin, Cairn, bcoin:
 * - initial sync of a fresh node from one loopback peer, the same-shaped chain on both (BLOCKS
 *   funding blocks, the coinbase maturity, BLOCKS blocks of PER one-input two-output transfers;
 *   Cairn's owner-hash outputs, bcoin's P2PKH on regtest), every signature checked on both: tx/s,
 *   the ratio per pair, CPU cores used (utime + stime over wall time, bcoin's worker processes
 *   included), peak RSS and RssAnon of the syncing node, and the sync rate as a share of this
 *   machine's bare verify rate on two cores (bench/verify.ts, the backend cairnd loads);
 * - mempool acceptance: MEMPOOL transfers spending the chain's coins, sent by RPC
 *   (sendrawtransaction) from 4 concurrent keep-alive clients to each serving node, the requests
 *   encoded beforehand (bench/rpc-submit.ts): tx/s, the node's CPU per tx (whole, main thread, by
 *   thread) and the clients' own;
 * - with --long: Cairn's memory at 1× and FACTOR× the chain (peak RSS while syncing, RSS and
 *   RssAnon at idle after the sync).
 * Both nodes run their defaults (cairnd: verify.workers = cores − 1; bcoin's bin/node: worker
 * processes on) with bcoin's `--checkpoints=false`; bcoin 2.2.0 has no assume-valid.
 * bcoin is not a dependency: bench/bcoin/install.ts installs it on demand into a cache directory.
 *
 * Usage: npx tsx bench/vs-bcoin.ts [--blocks 700] [--per 100] [--pairs 3] [--mempool 10000]
 *          [--long] [--factor 4] [--bcoin-src DIR] [--bcoin-workers true|false]
 *          [--cairn-verify-workers -1] [--one-input] [--json]
 * (`npm run bench -- vs-bcoin` runs it with the defaults; plain `npm run bench` skips it.)
 */
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../shared/core/bytes.ts';
import type { NodeProcess } from '../test/helpers/cluster.ts';
import { tempDir } from '../test/helpers/node.ts';
import { bcoinSpends, mempoolSettled, syncFreshBcoin } from './bcoin/bench.ts';
import { buildBcoinChain } from './bcoin/chain.ts';
import { BcoinUnavailable, ensureBcoin } from './bcoin/install.ts';
import { BcoinNode } from './bcoin/node.ts';
import { transfer } from './fixtures.ts';
import { buildChain } from './p2p.ts';
import { type BenchResult, runAsMain } from './result.ts';
import { rpcClient, rpcTarget } from './rpc-client.ts';
import { encodeRpcRequest, type SubmitFigures, submitRound } from './rpc-submit.ts';
import { builtMain, type SyncRun, startSource, syncCores, syncFreshNode } from './sync-profile.ts';
import { benchVerify } from './verify.ts';

const CLIENTS = 4;
const IDLE_MS = 5000;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const num = (name: string, fallback: number) => {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number`);
  return n;
};

const say = (s: string) => console.error(s);
/** The median, the mean of the middle two for an even count (result.ts's takes the upper one). */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);
const range = (xs: number[], f: (n: number) => string) =>
  xs.length === 0 ? '-' : xs.length === 1 ? f(xs[0]!) : `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

interface Side {
  sync: SyncRun[];
  peakTree: number[];
  mempool: SubmitFigures[];
}

async function benchVsBcoin(): Promise<BenchResult[]> {
  const blocks = num('blocks', 700);
  const per = num('per', 100);
  const pairs = Math.max(1, num('pairs', 3));
  const long = process.argv.includes('--long');
  const twoInputs = !process.argv.includes('--one-input');
  const factor = num('factor', 4);
  const bcoinWorkers = flag('bcoin-workers', 'true');
  const cairnWorkers = Number(flag('cairn-verify-workers', '-1'));
  const src = flag('bcoin-src', process.env.CAIRN_BENCH_BCOIN_SRC ?? '');
  const cores = availableParallelism();

  let bcoin: ReturnType<typeof ensureBcoin>;
  try {
    bcoin = ensureBcoin(src === '' ? undefined : src);
  } catch (err) {
    if (err instanceof BcoinUnavailable) {
      say(err.message);
      process.exit(3);
    }
    throw err;
  }

  say(`load average at start: ${load()} (${cores} cores)`);
  // the bare verify rate first, while nothing of ours runs
  const verify = (await benchVerify()).find((r) => r.ops > 0);
  if (verify === undefined) throw new Error('no secp256k1 backend loads');
  const bare2 = verify.ops * 2;
  say(`bare verify: ${f0(verify.ops)} verifies/s per core (${verify.name}); 2 cores ${f0(bare2)}`);

  const root = tempDir('cairn-vs-bcoin-');
  const cairnNodes: NodeProcess[] = [];
  const bcoinNodes: BcoinNode[] = [];
  try {
    say(
      `building the chains: ${blocks} funding blocks, maturity, ${blocks} blocks × ${per} transfers (${twoInputs ? 'half of them with two inputs' : 'one input each'})`,
    );
    let t = performance.now();
    const chain = buildChain(blocks, per, { twoInputs });
    say(
      `  cairn: ${chain.raw.length} blocks, ${f0(chain.txs)} txs (transfer inputs ${f0(chain.inputs)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const bprefix = join(root.path, 'bcoin-source');
    const bchain = await buildBcoinChain(bcoin, bprefix, blocks, per, twoInputs);
    say(
      `  bcoin: ${bchain.height} blocks, ${f0(bchain.txs)} txs (transfer inputs ${f0(bchain.inputs)}) in ${bchain.buildSeconds.toFixed(1)} s`,
    );

    t = performance.now();
    // from dist/, as users run it (bcoin's serving node is its own bin/node): it answers the mempool rounds
    const source = await startSource(root.path, chain.raw, {
      verifyWorkers: cairnWorkers,
      rpcMaxPerSecond: 0,
      main: builtMain(),
    });
    cairnNodes.push(source);
    say(`  cairn source node up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    // the serving node answers the mempool rounds: same --workers as the syncing ones
    const bsource = await BcoinNode.make({
      bcoinDir: bcoin.dir,
      name: 'bcoin-source',
      prefix: bprefix,
      args: [`--workers=${bcoinWorkers}`],
    });
    await bsource.start();
    bcoinNodes.push(bsource);
    const bheight = await bsource.call<number>('getblockcount');
    if (bheight !== bchain.height) throw new Error(`bcoin source at ${bheight}, built ${bchain.height}`);

    const cairn: Side = { sync: [], peakTree: [], mempool: [] };
    const bc: Side = { sync: [], peakTree: [], mempool: [] };
    let bcoinCommand = '';
    const loads: string[] = [];
    /** The 2-core bare verify rate measured before each pair: each pair's ratios use its own. */
    const bareAt: number[] = [];
    for (let i = 1; i <= pairs; i++) {
      loads.push(load());
      // the bare rate again, now: it moves between runs (and pairs) by more than a change shows
      const now = (await benchVerify()).find((r) => r.ops > 0)!.ops * 2;
      bareAt.push(now);
      say(`pair ${i}: load ${load()}; bare verify ${f0(now / 2)} per core`);
      const { run, fresh } = await syncFreshNode({
        root: root.path,
        source,
        height: chain.raw.length,
        name: `cairn-fresh-${i}`,
        verifyWorkers: cairnWorkers,
        idleMs: IDLE_MS,
      });
      await fresh.stop();
      rmSync(fresh.dir, { recursive: true, force: true });
      cairn.sync.push(run);
      cairn.peakTree.push(run.peak.rss);
      say(
        `  cairn: ${f0(chain.txs / run.seconds)} tx/s (${run.seconds.toFixed(1)} s, start-up ${run.startSeconds.toFixed(1)} s), ${f2(run.cpuSeconds / run.seconds)} cores, peak RSS ${f0(run.peak.rss)} MB (anon ${f0(run.peak.anon)})`,
      );
      const b = await syncFreshBcoin({
        bcoin,
        root: root.path,
        source: bsource,
        height: bchain.height,
        name: `bcoin-fresh-${i}`,
        args: [`--workers=${bcoinWorkers}`],
        idleMs: IDLE_MS,
      });
      rmSync(join(root.path, `bcoin-fresh-${i}`), { recursive: true, force: true });
      bcoinCommand = b.commandLine;
      bc.sync.push(b);
      bc.peakTree.push(b.peakTree);
      say(
        `  bcoin: ${f0(bchain.txs / b.seconds)} tx/s (${b.seconds.toFixed(1)} s, start-up ${b.startSeconds.toFixed(1)} s), ${f2(b.cpuSeconds / b.seconds)} cores over ${b.processes} processes, peak RSS ${f0(b.peak.rss)} MB (anon ${f0(b.peak.anon)}; with workers ${f0(b.peakTree)})`,
      );
      say(
        `  ratio cairn/bcoin: ${f2(chain.txs / run.seconds / (bchain.txs / b.seconds))}×; load after the pair ${load()}`,
      );
    }

    // mempool acceptance on the serving nodes: each round spends coins no earlier round spent;
    // requests encoded beforehand, the clients' own CPU measured (bench/rpc-submit.ts)
    const mempool = Math.min(num('mempool', 10_000), Math.floor(chain.spendable.length / pairs));
    if (mempool > 0) {
      const ctarget = rpcTarget(source);
      for (let i = 0; i < pairs; i++) {
        const creqs = chain.spendable
          .slice(i * mempool, (i + 1) * mempool)
          .map((s) =>
            encodeRpcRequest(ctarget, 'sendrawtransaction', [
              toHex(transfer(s.key, s.txid, s.vout, s.amount, s.key.owner, 1000).raw),
            ]),
          );
        const breqs = bcoinSpends(bcoin, bchain, i * mempool, mempool).map((h) =>
          encodeRpcRequest(bsource.target, 'sendrawtransaction', [h]),
        );
        const expected = (i + 1) * mempool;
        const check = rpcClient(source, 1);
        const c = await submitRound({
          target: ctarget,
          requests: creqs,
          lanes: CLIENTS,
          pid: source.proc!.pid!,
          settled: () => mempoolSettled(check.call, expected),
        }).finally(() => check.close());
        cairn.mempool.push(c);
        bsource.reconnect();
        const b = await submitRound({
          target: bsource.target,
          requests: breqs,
          lanes: CLIENTS,
          pid: bsource.proc!.pid!,
          settled: () => mempoolSettled((m, p) => bsource.call(m, p), expected),
        });
        bc.mempool.push(b);
        const top = (m: SubmitFigures) =>
          [...m.threads]
            .sort((x, y) => y[1] - x[1])
            .slice(0, 6)
            .map(([t, us]) => `${t} ${f0(us)}`)
            .join(', ');
        say(`  CPU per tx by thread, µs: cairn ${top(c)}; bcoin's node ${top(b)}`);
        say(
          `mempool round ${i + 1}: cairn ${f0(c.rate)} tx/s (node ${f0(c.nodeCpuUs)} µs CPU per tx, main thread ${f0(c.nodeMainCpuUs)}; clients ${f0(c.clientCpuUs)}), bcoin ${f0(b.rate)} tx/s (node ${f0(b.nodeCpuUs)} µs, main thread ${f0(b.nodeMainCpuUs)}; clients ${f0(b.clientCpuUs)}), ratio ${f2(c.rate / b.rate)}×, CPU per tx ${f2(b.nodeCpuUs / c.nodeCpuUs)}× less (load ${load()})`,
        );
      }
    }

    // Cairn's memory at FACTOR× the chain
    let longRun: SyncRun | undefined;
    let longTxs = 0;
    if (long) {
      await Promise.all(cairnNodes.splice(0).map((n) => n.kill()));
      say(`building the ${factor}× chain: ${blocks * factor} blocks × ${per} transfers`);
      const big = buildChain(blocks * factor, per, { twoInputs });
      longTxs = big.txs;
      const lroot = join(root.path, 'long');
      const bigSource = await startSource(lroot, big.raw, { verifyWorkers: cairnWorkers });
      cairnNodes.push(bigSource);
      const { run, fresh } = await syncFreshNode({
        root: lroot,
        source: bigSource,
        height: big.raw.length,
        name: 'cairn-fresh-long',
        verifyWorkers: cairnWorkers,
        idleMs: IDLE_MS,
      });
      await fresh.stop();
      longRun = run;
      say(
        `  cairn ${factor}×: ${f0(big.txs / run.seconds)} tx/s, peak RSS ${f0(run.peak.rss)} MB (anon ${f0(run.peak.anon)}), idle ${f0(run.idle?.rss ?? 0)} MB (anon ${f0(run.idle?.anon ?? 0)})`,
      );
    }

    // the figures
    const cRates = cairn.sync.map((r) => chain.txs / r.seconds);
    const bRates = bc.sync.map((r) => bchain.txs / r.seconds);
    const ratios = cRates.map((c, i) => c / bRates[i]!);
    // the sync proper: from the node's being ready (its start-up is a constant, whatever the chain)
    const cSyncRates = cairn.sync.map((r) => chain.txs / (r.seconds - r.startSeconds));
    const bSyncRates = bc.sync.map((r) => bchain.txs / (r.seconds - r.startSeconds));
    const cSigs = (rate: number, i: number) => (rate * chain.inputs) / chain.txs / bareAt[i]!;
    const bSigs = (rate: number, i: number) => (rate * bchain.inputs) / bchain.txs / bareAt[i]!;
    const cCores = cairn.sync.map((r) => r.cpuSeconds / r.seconds);
    const bCores = bc.sync.map((r) => r.cpuSeconds / r.seconds);
    const cSyncCores = cairn.sync.map(syncCores);
    const bSyncCores = bc.sync.map(syncCores);
    // CPU time per transaction holds on a loaded machine where wall time does not
    const cUs = cairn.sync.map((r) => (r.cpuSeconds / chain.txs) * 1e6);
    const cMainUs = cairn.sync.map((r) => ((r.mainCpuSeconds ?? Number.NaN) / chain.txs) * 1e6);
    const bUs = bc.sync.map((r) => (r.cpuSeconds / bchain.txs) * 1e6);
    const bMainUs = bc.sync.map((r) => ((r.mainCpuSeconds ?? Number.NaN) / bchain.txs) * 1e6);
    const cPeak = cairn.sync.map((r) => r.peak.rss);
    const cAnon = cairn.sync.map((r) => r.peak.anon);
    const bPeak = bc.sync.map((r) => r.peak.rss);
    const bAnon = bc.sync.map((r) => r.peak.anon);
    const cMem = cairn.mempool.map((m) => m.rate);
    const bMem = bc.mempool.map((m) => m.rate);
    const mRatios = cMem.map((c, i) => c / bMem[i]!);
    const cMemUs = cairn.mempool.map((m) => m.nodeCpuUs);
    const bMemUs = bc.mempool.map((m) => m.nodeCpuUs);
    const cIdle = cairn.sync.map((r) => r.idle?.rss ?? 0);
    const cIdleAnon = cairn.sync.map((r) => r.idle?.anon ?? 0);

    const rows: [string, string, string, string][] = [
      [
        `sync ${f0(chain.txs)} / ${f0(bchain.txs)} txs, tx/s`,
        range(cRates, f0),
        range(bRates, f0),
        range(ratios, (x) => `${f2(x)}×`),
      ],
      [
        `  ÷ 2-core bare verify before the pair (${range(bareAt, f0)}/s)`,
        range(
          cRates.map((r, i) => r / bareAt[i]!),
          f2,
        ),
        range(
          bRates.map((r, i) => r / bareAt[i]!),
          f2,
        ),
        '',
      ],
      [
        // the bare rate counts signatures: a transfer with two inputs needs two
        `  signatures/s ÷ 2-core bare verify (${f2(chain.inputs / chain.txs)} / ${f2(bchain.inputs / bchain.txs)} per tx)`,
        range(cRates.map(cSigs), f2),
        range(bRates.map(bSigs), f2),
        '',
      ],
      [
        '  start-up (spawn → ready) within the sync time, s',
        range(
          cairn.sync.map((r) => r.startSeconds),
          f2,
        ),
        range(
          bc.sync.map((r) => r.startSeconds),
          f2,
        ),
        '',
      ],
      [
        '  from ready to synced, tx/s (signatures/s ÷ 2-core bare verify)',
        `${range(cSyncRates, f0)} (${range(cSyncRates.map(cSigs), f2)})`,
        `${range(bSyncRates, f0)} (${range(bSyncRates.map(bSigs), f2)})`,
        range(
          cSyncRates.map((c, i) => c / bSyncRates[i]!),
          (x) => `${f2(x)}×`,
        ),
      ],
      [`CPU cores while syncing (of ${cores}), from spawning`, range(cCores, f2), range(bCores, f2), ''],
      ['  after start-up (ready → synced)', range(cSyncCores, f2), range(bSyncCores, f2), ''],
      [
        'CPU per tx: whole node (main thread), µs',
        `${range(cUs, f0)} (${range(cMainUs, f0)})`,
        `${range(bUs, f0)} (${range(bMainUs, f0)})`,
        `${range(
          cUs.map((c, i) => bUs[i]! / c),
          f2,
        )}× less CPU`,
      ],
      [
        'peak RSS of the syncing node, MB',
        range(cPeak, f0),
        `${range(bPeak, f0)} (+workers ${range(bc.peakTree, f0)})`,
        `${range(
          cPeak.map((c, i) => c / bPeak[i]!),
          f2,
        )}× (node), ${range(
          cPeak.map((c, i) => c / bc.peakTree[i]!),
          f2,
        )}× (+workers)`,
      ],
      ['peak anonymous (RssAnon), MB', range(cAnon, f0), range(bAnon, f0), ''],
      [
        `idle RSS ${IDLE_MS / 1000} s after the sync (anon), MB`,
        `${range(cIdle, f0)} (${range(cIdleAnon, f0)})`,
        `${range(
          bc.sync.map((r) => r.idle?.rss ?? 0),
          f0,
        )} (${range(
          bc.sync.map((r) => r.idle?.anon ?? 0),
          f0,
        )})`,
        '',
      ],
    ];
    if (mempool > 0)
      rows.push(
        [
          `mempool, ${f0(mempool)} txs by RPC, ${CLIENTS} clients, tx/s`,
          range(cMem, f0),
          range(bMem, f0),
          range(mRatios, (x) => `${f2(x)}×`),
        ],
        [
          '  node CPU per accepted tx (main thread), µs',
          `${range(cMemUs, f0)} (${range(
            cairn.mempool.map((m) => m.nodeMainCpuUs),
            f0,
          )})`,
          `${range(bMemUs, f0)} (${range(
            bc.mempool.map((m) => m.nodeMainCpuUs),
            f0,
          )})`,
          `${range(
            cMemUs.map((c, i) => bMemUs[i]! / c),
            f2,
          )}× less CPU`,
        ],
        [
          "  the 4 clients' CPU per tx (pre-encoded requests), µs",
          range(
            cairn.mempool.map((m) => m.clientCpuUs),
            f0,
          ),
          range(
            bc.mempool.map((m) => m.clientCpuUs),
            f0,
          ),
          '',
        ],
      );
    if (longRun !== undefined) {
      rows.push(
        [
          `cairn ${factor}× chain (${f0(longTxs)} txs): sync, tx/s`,
          f0(longTxs / longRun.seconds),
          '',
          `${f2(longTxs / longRun.seconds / median(cRates))}× of 1×`,
        ],
        [
          `cairn ${factor}× chain: peak RSS (anon), MB`,
          `${f0(longRun.peak.rss)} (${f0(longRun.peak.anon)})`,
          '',
          `${f2(longRun.peak.rss / median(cPeak))}× of 1×`,
        ],
        [
          `cairn ${factor}× chain: idle RSS (anon), MB`,
          `${f0(longRun.idle?.rss ?? 0)} (${f0(longRun.idle?.anon ?? 0)})`,
          '',
          `RSS ${f2((longRun.idle?.rss ?? 0) / median(cIdle))}×, anon ${f2((longRun.idle?.anon ?? 0) / median(cIdleAnon))}× of 1×`,
        ],
      );
    }
    const head: [string, string, string, string] = [
      '',
      'Cairn',
      `bcoin ${bcoin.version}`,
      'ratio Cairn/bcoin',
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    say('');
    say(line(head));
    say(line(widths.map((w) => '-'.repeat(w))));
    for (const r of rows) say(line(r));
    say(
      `pairs: ${pairs} (A = Cairn, B = bcoin, alternating); load average before each pair: ${loads.join(' | ')}`,
    );
    say(`bcoin: ${bcoinCommand.replace(/--prefix=\S+/, '--prefix=DIR')}`);
    say(
      '  (secp256k1: native; checkpoints off; bcoin 2.2.0 has no assume-valid option: every script is verified)',
    );
    say(`load average at the end: ${load()}`);
    say('');

    const note = (xs: number[], f: (n: number) => string) => `per pair: ${xs.map(f).join(', ')}`;
    const results: BenchResult[] = [
      {
        name: 'vs-bcoin/bare-verify',
        ops: verify.ops,
        unit: 'verifies/s',
        note: `${verify.name}, one core, at the start; ×2 = ${f0(bare2)}/s; before each pair (×2) ${bareAt.map(f0).join(', ')}; the ratios use each pair's own`,
      },
      {
        name: 'vs-bcoin/cairn-sync',
        ops: median(cRates),
        unit: 'tx/s',
        note: `${note(cRates, f0)}; ${chain.raw.length} blocks, ${chain.txs} txs, ${chain.inputs} transfer inputs`,
      },
      {
        name: 'vs-bcoin/bcoin-sync',
        ops: median(bRates),
        unit: 'tx/s',
        note: `${note(bRates, f0)}; ${bchain.height} blocks, ${bchain.txs} txs, ${bchain.inputs} transfer inputs`,
      },
      {
        name: 'vs-bcoin/sync-ratio',
        ops: median(ratios),
        unit: 'x',
        note: `Cairn ÷ bcoin, ${note(ratios, f2)}`,
      },
      {
        name: 'vs-bcoin/cairn-sync-vs-verify',
        ops: median(cRates.map((r, i) => r / bareAt[i]!)),
        unit: 'x',
        note: 'Cairn sync, tx/s ÷ 2-core bare verify (issue 12 target ≥ 0.45)',
      },
      {
        name: 'vs-bcoin/cairn-sync-sigs-vs-verify',
        ops: median(cRates.map(cSigs)),
        unit: 'x',
        note: `Cairn sync, signatures/s (${f2(chain.inputs / chain.txs)} per tx) ÷ 2-core bare verify`,
      },
      {
        name: 'vs-bcoin/cairn-sync-ready-sigs-vs-verify',
        ops: median(cSyncRates.map(cSigs)),
        unit: 'x',
        note: `the same from the node's being ready to synced (start-up left out), ${note(cSyncRates.map(cSigs), f2)}`,
      },
      {
        name: 'vs-bcoin/bcoin-sync-vs-verify',
        ops: median(bRates.map((r, i) => r / bareAt[i]!)),
        unit: 'x',
        note: 'bcoin sync ÷ 2-core bare verify',
      },
      {
        name: 'vs-bcoin/cairn-sync-cores',
        ops: median(cCores),
        unit: 'cores',
        note: `${note(cCores, f2)}; after start-up ${cSyncCores.map(f2).join(', ')}`,
      },
      {
        name: 'vs-bcoin/bcoin-sync-cores',
        ops: median(bCores),
        unit: 'cores',
        note: `${note(bCores, f2)}, worker processes included; after start-up ${bSyncCores.map(f2).join(', ')}`,
      },
      {
        name: 'vs-bcoin/cairn-sync-cpu-per-tx',
        ops: median(cUs),
        unit: 'µs',
        note: `${note(cUs, f0)}; main thread ${cMainUs.map(f0).join(', ')}`,
      },
      {
        name: 'vs-bcoin/bcoin-sync-cpu-per-tx',
        ops: median(bUs),
        unit: 'µs',
        note: `${note(bUs, f0)}; main thread ${bMainUs.map(f0).join(', ')}; worker processes included`,
      },
      { name: 'vs-bcoin/cairn-peak-rss', ops: median(cPeak), unit: 'MB', note: `anon ${note(cAnon, f0)}` },
      {
        name: 'vs-bcoin/bcoin-peak-rss',
        ops: median(bc.peakTree),
        unit: 'MB',
        note: `node + worker processes; node alone ${note(bPeak, f0)}, anon ${bAnon.map(f0).join(', ')}`,
      },
      {
        name: 'vs-bcoin/cairn-idle-rss',
        ops: median(cIdle),
        unit: 'MB',
        note: `anon ${note(cIdleAnon, f0)}`,
      },
    ];
    if (mempool > 0)
      results.push(
        {
          name: 'vs-bcoin/cairn-mempool',
          ops: median(cMem),
          unit: 'tx/s',
          note: note(cMem, f0),
        },
        { name: 'vs-bcoin/bcoin-mempool', ops: median(bMem), unit: 'tx/s', note: note(bMem, f0) },
        {
          name: 'vs-bcoin/cairn-mempool-cpu-per-tx',
          ops: median(cMemUs),
          unit: 'µs',
          note: `node's process; ${note(cMemUs, f0)}`,
        },
        {
          name: 'vs-bcoin/bcoin-mempool-cpu-per-tx',
          ops: median(bMemUs),
          unit: 'µs',
          note: `node + worker processes; ${note(bMemUs, f0)}`,
        },
        {
          name: 'vs-bcoin/mempool-ratio',
          ops: median(mRatios),
          unit: 'x',
          note: `Cairn ÷ bcoin, ${note(mRatios, f2)}`,
        },
      );
    if (longRun !== undefined)
      results.push(
        {
          name: `vs-bcoin/cairn-peak-rss-${factor}x`,
          ops: longRun.peak.rss,
          unit: 'MB',
          note: `anon ${f0(longRun.peak.anon)}; 1×: ${f0(median(cPeak))}`,
        },
        {
          name: `vs-bcoin/cairn-idle-rss-${factor}x`,
          ops: longRun.idle?.rss ?? 0,
          unit: 'MB',
          note: `RSS ${IDLE_MS / 1000} s after the sync; 1×: ${f0(median(cIdle))} (issue 12 target ≤ 1.2× of 1×)`,
        },
        {
          name: `vs-bcoin/cairn-idle-anon-${factor}x`,
          ops: longRun.idle?.anon ?? 0,
          unit: 'MB',
          note: `RssAnon ${IDLE_MS / 1000} s after the sync; 1×: ${f0(median(cIdleAnon))}`,
        },
      );
    return results;
  } finally {
    await Promise.all([...cairnNodes.map((n) => n.kill()), ...bcoinNodes.map((n) => n.stop())]);
    root.remove();
  }
}

await runAsMain(import.meta.url, benchVsBcoin);
