/**
 * `npm run sim`: a Cairn network on one machine with real latency, loss and churn, measured.
 *
 *   npm run sim -- --nodes 32 --recorders 4 --latency 50ms --jitter 20ms --loss 0.5% --minutes 5
 *   npm run sim -- --nodes 8 --block-kb 1000 --tx-outputs 40     blocks of ~1 MB of mempool txs
 *   npm run sim -- --nodes 8 --block-kb 1000 --no-compact-blocks   the same with whole-block relay (P2P protocol 1)
 *
 * Each node (with its recorder, if it has one), discovery and the observer (this program's
 * measuring half, scripts/sim/run.ts) get their own network namespace; links between them are
 * shaped (scripts/sim/shaping.ts: tc netem, or a userspace emulator where the kernel has no netem).
 * Nodes find peers through discovery only. Needs root (network namespaces); says why otherwise.
 *
 * This half builds the hosts and links, runs the experiment inside the observer's namespace and
 * removes every namespace, process and temporary file afterwards, also after a failure or Ctrl-C.
 * Results: <results>/report.json, report.svg, report.txt (default results/sim-<time>-<N>n/).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Namespaces, netnsUnavailable } from './sim/netns.ts';
import type { SimOptions, SimPlan } from './sim/run.ts';
import { buildLinks, type Links, netemAvailable, type ShaperKind } from './sim/shaping.ts';
import { simHosts } from './sim/topology.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUN = fileURLToPath(new URL('./sim/run.ts', import.meta.url));

/** "50ms", "0.05s", "50" (ms) → ms. */
export function parseMs(v: string | number): number {
  const m = /^\s*([0-9.]+)\s*(ms|s)?\s*$/.exec(String(v));
  if (!m) throw new Error(`not a duration: ${v} (e.g. 50ms, 0.05s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** "0.5%" or "0.5" → 0.5 (percent). */
export function parsePct(v: string | number): number {
  const m = /^\s*([0-9.]+)\s*%?\s*$/.exec(String(v));
  if (!m || Number(m[1]) > 100) throw new Error(`not a percentage: ${v} (e.g. 0.5%)`);
  return Number(m[1]);
}

const a = yargs(hideBin(process.argv))
  .scriptName('npm run sim --')
  .usage('$0 [options]\n\nA simulated Cairn network in network namespaces with shaped links, measured.')
  .option('nodes', { type: 'number', default: 8, describe: 'nodes (plus one late joiner)' })
  .option('recorders', {
    type: 'number',
    default: 1,
    describe: 'recorders, each beside one of the first nodes',
  })
  .option('latency', { type: 'string', default: '50ms', describe: 'one-way delay between two hosts' })
  .option('jitter', { type: 'string', default: '20ms', describe: '± uniform around the latency' })
  .option('loss', { type: 'string', default: '0.5%', describe: 'frames dropped between two hosts' })
  .option('minutes', {
    type: 'number',
    default: 5,
    describe: 'measured time (warm-up and the end come on top)',
  })
  .option('block-kb', {
    type: 'number',
    default: 0,
    describe:
      'fill blocks to about this many kB with mempool transactions (sets the tx rate); 0: use --tx-rate',
  })
  .option('tx-rate', { type: 'number', default: 4, describe: 'transactions per second (without --block-kb)' })
  .option('tx-outputs', { type: 'number', default: 2, describe: 'outputs per load transaction (its size)' })
  .option('churn-every', {
    type: 'number',
    default: 30,
    describe: 'seconds between node stops on average; 0: none',
  })
  .option('churn-down', {
    type: 'string',
    default: '5-20',
    describe: 'seconds a stopped node stays down (min-max)',
  })
  .option('mining-cpu', {
    type: 'number',
    default: 20,
    describe: 'percent of one core all recorders together may hash with (--mining recorders)',
  })
  .option('mining', {
    choices: ['paced', 'recorders'] as const,
    default: 'paced' as const,
    describe:
      'paced: Poisson blocks (--block-interval) mined by the first --recorders nodes; recorders: real recorders, unpaced (local difficulty stays at its floor)',
  })
  .option('block-interval', {
    type: 'string',
    default: '10s',
    describe: 'mean time between blocks (paced mining)',
  })
  .option('late-joiner', {
    type: 'boolean',
    default: true,
    describe: 'start a fresh node at 60% and time its sync',
  })
  .option('compact-blocks', {
    type: 'boolean',
    default: true,
    describe: 'relay by compact blocks (P2P protocol 2); --no-compact-blocks: whole blocks, protocol 1',
  })
  .option('shaper', { choices: ['auto', 'netem', 'emulator'] as const, default: 'auto' as const })
  .option('results', { type: 'string', describe: 'results folder (default results/sim-<time>-<N>n)' })
  .option('keep', { type: 'boolean', default: false, describe: 'keep the data and logs (printed path)' })
  .option('seed', { type: 'number', default: 1 })
  .strict()
  .help()
  .parseSync();

async function main(): Promise<number> {
  const why = netnsUnavailable();
  if (why !== undefined) {
    console.error(`sim: cannot run here: ${why}`);
    return 2;
  }
  const [downMin, downMax] = a['churn-down'].split('-').map(Number) as [number, number];
  const options: SimOptions = {
    nodes: a.nodes,
    recorders: a.recorders,
    latencyMs: parseMs(a.latency),
    jitterMs: parseMs(a.jitter),
    lossPct: parsePct(a.loss),
    minutes: a.minutes,
    blockKb: a['block-kb'],
    txRate: a['tx-rate'],
    txOutputs: a['tx-outputs'],
    churnEverySeconds: a['churn-every'],
    churnDownSeconds: [downMin, downMax ?? downMin],
    miningCpuPercent: a['mining-cpu'],
    mining: a.mining,
    blockIntervalMs: parseMs(a['block-interval']),
    lateJoiner: a['late-joiner'],
    compactBlocks: a['compact-blocks'],
    seed: a.seed,
  };
  if (!Number.isInteger(options.nodes) || options.nodes < 2 || options.nodes > 200)
    throw new Error('--nodes: 2 to 200');
  if (options.recorders < 1 || options.recorders > Math.min(10, options.nodes))
    throw new Error('--recorders: 1 to min(10, nodes)');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const resultsDir = resolve(a.results ?? join(REPO, 'results', `sim-${stamp}-${options.nodes}n`));
  mkdirSync(resultsDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'cairn-sim-'));
  const net = new Namespaces(`csim${process.pid}-`);
  let links: Links | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await links?.stop();
    net.teardown();
    if (!a.keep) rmSync(workDir, { recursive: true, force: true });
    else console.log(`sim: data and logs kept in ${workDir}`);
  };
  // the experiment stops its processes itself; we remove what is left, whatever happened
  const onSignal = () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    else void cleanup().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    if (!cleaned) net.teardown();
  });
  try {
    const hosts = simHosts(options.nodes + (options.lateJoiner ? 1 : 0));
    let kind: ShaperKind = a.shaper === 'auto' ? (netemAvailable(net) ? 'netem' : 'emulator') : a.shaper;
    if (a.shaper === 'netem' && !netemAvailable(net))
      throw new Error('this kernel has no sch_netem (tc netem)');
    if (a.shaper === 'auto' && kind === 'emulator')
      console.log('sim: this kernel has no sch_netem (tc netem): links go through the userspace emulator');
    links = await buildLinks(
      net,
      hosts,
      { latencyMs: options.latencyMs, jitterMs: options.jitterMs, lossPct: options.lossPct },
      kind,
      workDir,
    );
    kind = links.kind;
    const plan: SimPlan = {
      command: `npm run sim -- ${process.argv.slice(2).join(' ')}`.trim(),
      options,
      hosts,
      namespaces: Object.fromEntries(hosts.map((h) => [h.name, net.name(h.name)])),
      stats: links.stats,
      shaper: kind,
      workDir,
      resultsDir,
    };
    const planPath = join(workDir, 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan));
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        net.name('observer'),
        process.execPath,
        '--import',
        import.meta.resolve('tsx'),
        RUN,
        planPath,
      ],
      { cwd: REPO, stdio: 'inherit' },
    );
    const code = await new Promise<number>((r) => child!.on('exit', (c, s) => r(c ?? (s ? 128 : 1))));
    return code;
  } finally {
    await cleanup();
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`sim: ${e.message}`);
  return 1;
});
