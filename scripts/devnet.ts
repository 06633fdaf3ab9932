/**
 * `npm start`: a whole Cairn network on this machine, on network local — cairn-discovery, N nodes
 * (default 3) that find each other through it, and M recorders (default 1) mining for them.
 * Identities and a devnet wallet are made once under keys/devnet/; data, configs and logs live
 * under .devnet/ (both git-ignored). Shows each new block with every node's blocks/headers (a
 * node that stays behind is flagged BEHIND) and any node's warnings; Ctrl-C stops everything
 * cleanly.
 *
 *   npm start                                 3 nodes, 1 recorder
 *   npm start -- --nodes 5 --recorders 2      scale it
 *   npm start -- --fresh                      wipe .devnet/ first (identities and wallet stay)
 *   npm start -- --stop                       stop a devnet left running (e.g. after kill -9)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { RpcClient, resolveRpcOptions } from '../services/cli/rpc-client.ts';
import { VERSION } from '../shared/version.ts';
import { ensureIdentities } from './devnet/identities.ts';
import {
  boundPorts,
  DEFAULT_PORT_BASE,
  type DevnetPlan,
  discoveryToml,
  MAX_NODES,
  MAX_RECORDERS,
  nodeToml,
  planDevnet,
  recorderToml,
} from './devnet/plan.ts';
import { type NodeStatus, StatusTracker } from './devnet/status.ts';
import { Supervisor, tail } from './devnet/supervisor.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const MAIN = {
  node: join(REPO, 'services/node/main.ts'),
  recorder: join(REPO, 'services/recorder/main.ts'),
  discovery: join(REPO, 'services/discovery/main.ts'),
};

const argv = yargs(hideBin(process.argv))
  .scriptName('npm start --')
  .usage('$0 [options]\n\nRuns a local Cairn network: discovery, nodes and recorders (network local).')
  .option('nodes', { type: 'number', default: 3, describe: `nodes to run (1..${MAX_NODES})` })
  .option('recorders', {
    type: 'number',
    default: 1,
    describe: `recorders (miners) to run (0..${MAX_RECORDERS})`,
  })
  .option('dir', { type: 'string', default: join(REPO, '.devnet'), describe: 'data, configs and logs' })
  .option('keys', {
    type: 'string',
    default: join(REPO, 'keys', 'devnet'),
    describe: 'identities and the devnet wallet',
  })
  .option('port-base', {
    type: 'number',
    default: DEFAULT_PORT_BASE,
    describe: 'RPC port of node 1 (others follow)',
  })
  .option('fresh', {
    type: 'boolean',
    default: false,
    describe: 'delete the data directory first (keys stay)',
  })
  .option('stop', {
    type: 'boolean',
    default: false,
    describe: 'stop a devnet that is still running, then exit',
  })
  .strict()
  .help()
  .parseSync();

const root = resolve(argv.dir);
const pidFile = join(root, 'devnet.pids.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes a previous run left, if any of them still runs. */
function leftovers(): number[] {
  if (!existsSync(pidFile)) return [];
  try {
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as number[];
    return pids.filter((p) => Number.isInteger(p) && alive(p));
  } catch {
    return [];
  }
}

async function stopLeftovers(): Promise<void> {
  const pids = leftovers();
  for (const p of pids) process.kill(p, 'SIGTERM');
  const end = Date.now() + 20_000;
  while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
  if (existsSync(pidFile)) unlinkSync(pidFile);
  console.log(
    pids.length === 0 ? 'no devnet process was running' : `stopped ${pids.length} devnet processes`,
  );
}

function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

function fail(message: string): never {
  console.error(`devnet: ${message}`);
  process.exit(1);
}

function writeConfigs(plan: DevnetPlan, keys: Parameters<typeof nodeToml>[2]): void {
  mkdirSync(join(root, 'config'), { recursive: true });
  writeFileSync(plan.discovery.configPath, discoveryToml(plan));
  for (const [i, n] of plan.nodes.entries()) writeFileSync(n.configPath, nodeToml(plan, i, keys));
  for (const [j, r] of plan.recorders.entries()) writeFileSync(r.configPath, recorderToml(plan, j, keys));
}

async function main(): Promise<void> {
  if (argv.stop) return stopLeftovers();
  const running = leftovers();
  if (running.length > 0)
    fail(
      `a devnet is already running (pids ${running.join(', ')}): stop it with Ctrl-C there, or run npm start -- --stop`,
    );

  let plan: DevnetPlan;
  try {
    plan = planDevnet({
      nodes: argv.nodes,
      recorders: argv.recorders,
      root,
      keysDir: resolve(argv.keys),
      portBase: argv['port-base'],
    });
  } catch (e) {
    fail((e as Error).message);
  }
  for (const { port, what } of boundPorts(plan))
    if (!(await portFree(port)))
      fail(`port ${port} (${what}) is in use: stop what holds it, or choose other ports with --port-base`);

  if (argv.fresh) rmSync(root, { recursive: true, force: true });
  const { keys, wallet, created } = ensureIdentities(plan);
  writeConfigs(plan, keys);
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  console.log(
    `Cairn ${VERSION} devnet: discovery, ${plan.nodes.length} nodes, ${plan.recorders.length} recorder(s) on network local`,
  );
  if (created.length > 0)
    console.log(`  made identities in ${rel(plan.options.keysDir)}: ${created.join(', ')}`);

  const sup = new Supervisor();
  let shuttingDown = false;
  const shutdown = async (why: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`\n${why}: stopping recorders, nodes and discovery…`);
    const ended = await sup.stopAll();
    const unclean = ended.filter((e) => e.how !== 0);
    for (const e of ended)
      console.log(`  ${e.name.padEnd(12)} ${e.how === 0 ? 'stopped' : `ended: ${e.how}`}`);
    if (existsSync(pidFile)) unlinkSync(pidFile);
    console.log(
      unclean.length === 0 ? 'devnet stopped cleanly' : `${unclean.length} process(es) did not stop cleanly`,
    );
    process.exit(code === 0 && unclean.length > 0 ? 1 : code);
  };
  sup.onUnexpectedExit = (m, how) => {
    console.error(
      `\n${m.name} exited unexpectedly (${how}); last lines of ${rel(m.logPath)}:\n${tail(m.logPath)}`,
    );
    void shutdown(`${m.name} failed`, 1);
  };
  process.on('SIGINT', () => void shutdown('Ctrl-C', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0));

  sup.start(
    'discovery',
    MAIN.discovery,
    ['start', '--config', plan.discovery.configPath],
    plan.discovery.logPath,
  );
  for (const n of plan.nodes) sup.start(n.name, MAIN.node, ['start', '--config', n.configPath], n.logPath);
  for (const r of plan.recorders)
    sup.start(r.name, MAIN.recorder, ['start', '--config', r.configPath], r.logPath);
  writeFileSync(pidFile, JSON.stringify(sup.processes.map((m) => m.child.pid)));

  const n1 = plan.nodes[0]!;
  const cli = `npx tsx services/cli/main.ts --network local --datadir ${rel(n1.dataDir)}${n1.ports.rpc === DEFAULT_PORT_BASE ? '' : ` --rpcport ${n1.ports.rpc}`}`;
  console.log('');
  for (const n of plan.nodes)
    console.log(
      `  ${n.name}  RPC http://127.0.0.1:${n.ports.rpc}/  explorer http://127.0.0.1:${n.ports.rpc}/explorer/  feed tcp://127.0.0.1:${n.ports.feed}  metrics http://127.0.0.1:${n.ports.metrics}/metrics`,
    );
  console.log(
    `  discovery tcp://127.0.0.1:${plan.discovery.port} (events :${plan.discovery.eventsPort})   logs ${rel(join(root, 'logs'))}/`,
  );
  console.log(
    `  recorders pay the devnet wallet ${rel(wallet.path)} (passphrase in ${rel(wallet.passphraseFile)}): ${keys.payout}`,
  );
  console.log('\n  try, in another terminal:');
  console.log(`    ${cli} rpc getblockchaininfo`);
  console.log(
    `    ${cli} --wallet ${rel(wallet.path)} --passphrase-file ${rel(wallet.passphraseFile)} wallet balance`,
  );
  console.log(`    ${cli} watch`);
  console.log('\n  Ctrl-C stops everything.\n');

  await follow(plan, () => shuttingDown);
}

/**
 * Polls every node once a second; prints a line for each new best height with every node's
 * blocks/headers (a node lagging for a while is flagged BEHIND), and a node's warnings when they
 * change (scripts/devnet/status.ts).
 */
async function follow(plan: DevnetPlan, stopped: () => boolean): Promise<void> {
  const clients = new Map<string, RpcClient>();
  const client = (i: number): RpcClient | undefined => {
    const n = plan.nodes[i]!;
    const existing = clients.get(n.name);
    if (existing) return existing;
    try {
      const c = new RpcClient({
        ...resolveRpcOptions({ network: 'local', datadir: n.dataDir, rpcport: n.ports.rpc }),
        timeoutMs: 2000,
      });
      clients.set(n.name, c);
      return c;
    } catch {
      return undefined; // no cookie yet: the node is still starting
    }
  };
  const status = new StatusTracker(plan.nodes.map((n) => n.name));
  while (!stopped()) {
    await new Promise((r) => setTimeout(r, 1000));
    const infos = await Promise.all(
      plan.nodes.map(async (_, i): Promise<NodeStatus | undefined> => {
        const c = client(i);
        if (c === undefined) return undefined;
        try {
          const [info, peers] = await Promise.all([
            c.call<Omit<NodeStatus, 'peers'>>('getblockchaininfo'),
            c.call<number>('getconnectioncount'),
          ]);
          return { ...info, peers };
        } catch {
          return undefined;
        }
      }),
    );
    if (stopped()) return;
    for (const line of status.update(infos, Date.now())) console.log(line);
  }
}

await main();
