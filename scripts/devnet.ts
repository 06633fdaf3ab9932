/**
 * `npm start`: a whole Cairn network on this machine, on network local — cairn-discovery, N nodes
 * (default 3) that find each other through it, and M recorders (default 1) mining for them.
 * Identities and a devnet wallet are made once under keys/devnet/; data, configs and logs live
 * under .devnet/ (both git-ignored). Shows each new block with every node's blocks/headers (a
 * node that stays behind is flagged BEHIND) and any node's warnings. A process that ends on its
 * own is reported and restarted with a backoff while the rest keep running (devnet/supervisor.ts,
 * devnet/restart.ts). Ctrl-C, or SIGTERM/SIGINT to the devnet or to `npm start` alone
 * (devnet/ancestry.ts), stops everything cleanly. Works from any directory.
 *
 *   npm start                                 3 nodes, 1 recorder
 *   npm start -- --nodes 5 --recorders 2      scale it
 *   npm start -- --fresh                      wipe .devnet/ first (identities and wallet stay)
 *   npm start -- --stop                       stop a devnet left running (e.g. after kill -9)
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { RpcClient, resolveRpcOptions } from '../services/cli/rpc-client.ts';
import { VERSION } from '../shared/version.ts';
import { ancestors, goneAncestor } from './devnet/ancestry.ts';
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
import { describeEnding, RESTART_DEFAULTS, type RestartOptions } from './devnet/restart.ts';
import { type NodeStatus, StatusTracker } from './devnet/status.ts';
import { Supervisor } from './devnet/supervisor.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** tsx's loader, resolved from this file (not from the cwd): the children start from any directory. */
const TSX_LOADER = import.meta.resolve('tsx');
/**
 * The user's directory: under `npm start` (even `npm --prefix <repo> start` from elsewhere) npm
 * runs the script in the repository and says where it was started in INIT_CWD.
 */
const USER_CWD =
  process.env.npm_lifecycle_event === 'start' &&
  process.env.INIT_CWD !== undefined &&
  process.env.npm_package_json !== undefined &&
  resolve(process.env.npm_package_json) === join(REPO, 'package.json')
    ? process.env.INIT_CWD
    : process.cwd();
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
  .option('restart-delay', {
    type: 'number',
    default: 1000,
    describe: 'ms before the first restart of a process that ended (the other delays scale with it)',
    hidden: true,
  })
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

const root = resolve(USER_CWD, argv.dir);
const pidFile = join(root, 'devnet.pids.json');

/** A process that runs (a zombie, ended but not yet reaped by its parent, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // no /proc
  }
}

/**
 * The pid file: the devnet's own pid and each child's, rewritten whenever a child (re)starts.
 * (A plain list of pids is the format before restarts; still read.)
 */
interface PidFile {
  readonly devnet?: number;
  readonly processes: Record<string, number>;
}

function readPids(): PidFile | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    const j = JSON.parse(readFileSync(pidFile, 'utf8')) as unknown;
    if (Array.isArray(j)) return { processes: Object.fromEntries(j.map((p, i) => [String(i), Number(p)])) };
    return j as PidFile;
  } catch {
    return undefined;
  }
}

/** A pid that is a devnet script still (not a pid reused since); where /proc is missing, any live pid. */
function isDevnet(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('devnet');
  } catch {
    return true;
  }
}

/** The processes a previous run left, if any of them still runs: the devnet first, if it does. */
function leftovers(): number[] {
  const f = readPids();
  if (f === undefined) return [];
  const children = Object.values(f.processes).filter((p) => Number.isInteger(p) && alive(p));
  return f.devnet !== undefined && f.devnet !== process.pid && isDevnet(f.devnet)
    ? [f.devnet, ...children]
    : children;
}

async function waitGone(pids: number[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
}

async function stopLeftovers(): Promise<void> {
  const f = readPids();
  const children =
    f === undefined ? [] : Object.values(f.processes).filter((p) => Number.isInteger(p) && alive(p));
  let said = '';
  // a devnet still running stops its own children, in order (and would restart them otherwise)
  if (f?.devnet !== undefined && f.devnet !== process.pid && isDevnet(f.devnet)) {
    process.kill(f.devnet, 'SIGTERM');
    await waitGone([f.devnet, ...children], 60_000);
    said = `stopped the devnet (pid ${f.devnet}) and its processes`;
  }
  const left = children.filter(alive);
  for (const p of left) process.kill(p, 'SIGTERM');
  await waitGone(left, 20_000);
  for (const p of left.filter(alive)) process.kill(p, 'SIGKILL');
  if (existsSync(pidFile)) unlinkSync(pidFile);
  if (left.length > 0)
    said = `${said === '' ? 'stopped' : `${said}; stopped`} ${left.length} devnet processes`;
  console.log(said === '' ? 'no devnet process was running' : said);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

/** A path as the user reads it: relative to their directory when inside it, else absolute. */
function rel(p: string): string {
  const r = relative(USER_CWD, p);
  return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? p : r;
}

/**
 * How to run the CLI from any directory: `cairn` when the `cairn` on the PATH is this checkout's
 * bin/cairn, else that file's absolute path, else tsx on the TypeScript (bin/ missing).
 */
function cairnCommand(): string {
  const own = join(REPO, 'bin', 'cairn');
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const ownReal = real(own);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(resolve(USER_CWD, dir), 'cairn');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    // the first cairn on the PATH is the one a shell runs: only ours is sure to match this devnet
    return ownReal !== undefined && real(candidate) === ownReal
      ? 'cairn'
      : ownReal !== undefined
        ? own
        : cliByTsx();
  }
  return ownReal !== undefined ? own : cliByTsx();
}

/** The restart policy with its first delay set (tests shorten it); the others keep their ratio. */
function scaledRestart(initialMs: number): RestartOptions {
  const k = initialMs / RESTART_DEFAULTS.initialMs;
  return {
    initialMs,
    maxMs: RESTART_DEFAULTS.maxMs * k,
    fixFirstMs: RESTART_DEFAULTS.fixFirstMs * k,
    stableMs: RESTART_DEFAULTS.stableMs * Math.max(k, 0.5),
  };
}

function short(command: string): string {
  return command.length > 40 ? `${command.slice(0, 39)}…` : command;
}

function cliByTsx(): string {
  return `${join(REPO, 'node_modules', '.bin', 'tsx')} ${join(REPO, 'services', 'cli', 'main.ts')}`;
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
      keysDir: resolve(USER_CWD, argv.keys),
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
  console.log(
    `Cairn ${VERSION} devnet: discovery, ${plan.nodes.length} nodes, ${plan.recorders.length} recorder(s) on network local`,
  );
  if (created.length > 0)
    console.log(`  made identities in ${rel(plan.options.keysDir)}: ${created.join(', ')}`);

  let shuttingDown = false;
  const writePids = () => {
    if (!shuttingDown)
      writeFileSync(
        pidFile,
        JSON.stringify({ devnet: process.pid, processes: sup.pids() } satisfies PidFile),
      );
  };
  const sup = new Supervisor({
    tsxLoader: TSX_LOADER,
    cwd: REPO,
    restart: scaledRestart(argv['restart-delay']),
    report: (text) => console.log(text),
    showPath: rel,
    onChange: writePids,
  });
  const shutdown = async (why: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`\n${why}: stopping recorders, nodes and discovery…`);
    const ended = await sup.stopAll();
    const unclean = ended.filter((e) => e.wasRunning && e.how !== 0);
    for (const e of ended)
      console.log(
        `  ${e.name.padEnd(12)} ${!e.wasRunning ? `was not running (last: ${describeEnding(e.how)})` : e.how === 0 ? 'stopped' : `ended: ${e.how}`}`,
      );
    if (existsSync(pidFile)) unlinkSync(pidFile);
    console.log(
      unclean.length === 0 ? 'devnet stopped cleanly' : `${unclean.length} process(es) did not stop cleanly`,
    );
    process.exit(code === 0 && unclean.length > 0 ? 1 : code);
  };
  process.on('SIGINT', () => void shutdown('Ctrl-C', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0));
  // `kill <pid of npm>` ends npm and its sh but does not reach this process: watch them
  const chain = ancestors({ ppid: process.ppid, underNpm: process.env.npm_lifecycle_event !== undefined });
  setInterval(() => {
    const gone = goneAncestor(chain);
    if (gone !== undefined)
      void shutdown(
        `the process that started the devnet is gone (pid ${gone.pid}, ${short(gone.command || '?')}): npm start was stopped`,
        0,
      );
  }, 500).unref();

  sup.start({
    name: 'discovery',
    main: MAIN.discovery,
    args: ['start', '--config', plan.discovery.configPath],
    logPath: plan.discovery.logPath,
  });
  for (const n of plan.nodes)
    sup.start({
      name: n.name,
      main: MAIN.node,
      args: ['start', '--config', n.configPath],
      logPath: n.logPath,
    });
  for (const r of plan.recorders)
    sup.start({
      name: r.name,
      main: MAIN.recorder,
      args: ['start', '--config', r.configPath],
      logPath: r.logPath,
    });

  const n1 = plan.nodes[0]!;
  // the try lines work from any directory: absolute paths, and `cairn` only when it is this one
  const cli = `${cairnCommand()} --network local --datadir ${n1.dataDir}${n1.ports.rpc === DEFAULT_PORT_BASE ? '' : ` --rpcport ${n1.ports.rpc}`}`;
  const feed = n1.ports.rpc === DEFAULT_PORT_BASE ? '' : ` --feed 127.0.0.1:${n1.ports.feed}`;
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
  console.log(`    ${cli} --wallet ${wallet.path} --passphrase-file ${wallet.passphraseFile} wallet balance`);
  console.log(`    ${cli} watch${feed}`);
  console.log(
    '\n  A process that ends on its own is restarted (1 s, doubling to 30 s). Ctrl-C stops everything.\n',
  );

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
          // a restarted node has a new cookie: read it again next time
          clients.delete(plan.nodes[i]!.name);
          return undefined;
        }
      }),
    );
    if (stopped()) return;
    for (const line of status.update(infos, Date.now())) console.log(line);
  }
}

await main();
