/**
 * Integration helpers: real cairnd processes on 127.0.0.1, each with its own identity, config
 * file, ports and data directory; their JSON log lines are collected for assertions; a "probe"
 * is a real peer (our own OutboundPeer over CURVE) that asks a node its height or pushes blocks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutboundPeer } from '../../services/node/p2p/outbound.ts';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { generateIdentity, loadIdentity } from '../../shared/identity/certificate.ts';
import { silentLogger } from '../../shared/log.ts';
import type { CurveKeys } from '../../shared/zmq/curve.ts';
import { freePorts } from '../unit/zmq/ports.ts';

const MAIN = fileURLToPath(new URL('../../services/node/main.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../services/cli/main.ts', import.meta.url));

/** node's arguments to run the `cairn` CLI (TypeScript) on `local` against `node`, then `args`. */
export function cairnArgv(node: { dir: string; rpcPort: number }, args: readonly string[]): string[] {
  return [
    '--import',
    'tsx',
    CLI,
    '--network',
    'local',
    '--datadir',
    node.dir,
    '--rpcport',
    String(node.rpcPort),
    ...args,
  ];
}
const RECORDER_MAIN = fileURLToPath(new URL('../../services/recorder/main.ts', import.meta.url));

export interface NodeSpec {
  readonly name: string;
  readonly root: string;
  /** The cairnd entry point (default the TypeScript source, run through tsx; benchmarks use dist/). */
  readonly main?: string;
  readonly connect?: readonly { address: string; key: string }[];
  readonly allow?: readonly string[];
  readonly port?: number;
  readonly extra?: string;
  /** Recorder keys allowed on the proof channel (a proof identity is generated when set). */
  readonly recorders?: readonly string[];
  readonly network?: 'local' | 'test';
  /** Extra feed endpoints ([[feed.publish]]). */
  readonly feedPublish?: readonly { topic: string; address: string }[];
  /** Keys admitted to a CURVE feed (feed.subscribers). */
  readonly feedSubscribers?: readonly string[];
  /** verify.workers (default 0 in tests: signatures on the main thread). */
  readonly verifyWorkers?: number;
  /** rpc.max_requests_per_second (0: no limit, for benchmarks). */
  readonly rpcMaxPerSecond?: number;
  /** rpcauth entries (user:salt$hmac) for rpc.auth. */
  readonly rpcAuth?: readonly string[];
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

export class NodeProcess {
  readonly logs: LogLine[] = [];
  readonly #waiters: { re: RegExp; resolve: (l: LogLine) => void }[] = [];
  proc: ChildProcess | undefined;
  /** The proof channel, when the node has recorders. */
  proof: { key: string; jobs: string; submit: string } | undefined;
  /** The JSON-RPC port on 127.0.0.1. */
  rpcPort = 0;
  /** The feed port on 127.0.0.1. */
  feedPort = 0;
  /** The Prometheus /metrics port on 127.0.0.1. */
  metricsPort = 0;
  exitCode: number | null = null;
  /** Node flags of the child (e.g. --heapsnapshot-signal, --trace-gc for benchmarks). */
  nodeArgs: string[] = [];
  #exited: Promise<number | null> = Promise.resolve(null);
  stderr = '';

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly key: string,
    readonly configPath: string,
    readonly main = MAIN,
    readonly startedRe = /cairnd .* started/,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    const proc = spawn(
      process.execPath,
      // a built main (dist/*.js, as users run it) needs no TypeScript loader
      [
        ...this.nodeArgs,
        ...(this.main.endsWith('.ts') ? ['--import', 'tsx'] : []),
        this.main,
        'start',
        '--config',
        this.configPath,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.proc = proc;
    this.exitCode = null;
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
        try {
          const l = JSON.parse(line) as LogLine;
          this.logs.push(l);
          for (const w of [...this.#waiters]) {
            if (w.re.test(l.msg)) {
              this.#waiters.splice(this.#waiters.indexOf(w), 1);
              w.resolve(l);
            }
          }
        } catch {
          /* not a log line */
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.#exited = new Promise((resolve) =>
      proc.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
    return this.waitLog(this.startedRe, 60_000).then(() => undefined);
  }

  /** Resolves with the first log line (past or future) whose message matches. */
  waitLog(re: RegExp, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find((l) => re.test(l.msg));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no log line matching ${re} within ${timeoutMs} ms (exit ${this.exitCode})\nlast log: ${this.logs
                .slice(-5)
                .map((l) => l.msg)
                .join(' | ')}\n${this.stderr.slice(-2000)}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }

  /** SIGTERM and wait for the exit code. */
  /** Resolves with the exit code once the process has ended by itself. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  async stop(): Promise<number | null> {
    if (this.proc === undefined || this.exitCode !== null) return this.exitCode;
    this.proc.kill('SIGTERM');
    return this.#exited;
  }

  async kill(): Promise<void> {
    if (this.proc === undefined || this.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.#exited;
  }
}

/** Creates identity and config for a node (not started). */
export async function makeNode(spec: NodeSpec): Promise<NodeProcess> {
  const dir = join(spec.root, spec.name);
  mkdirSync(dir, { recursive: true });
  const id = generateIdentity(join(dir, 'identity'), 'peer');
  // every port of the node from one call, so no two of them can be the same
  const ports = await freePorts(6);
  const port = spec.port ?? ports[0]!;
  const proofPorts = spec.recorders === undefined ? [] : [ports[1]!, ports[2]!];
  const [rpcPort, feedPort, metricsPort] = [ports[3]!, ports[4]!, ports[5]!];
  const proofKey =
    spec.recorders === undefined ? undefined : generateIdentity(join(dir, 'identity'), 'proof').publicKey;
  const lines = [
    `network = "${spec.network ?? 'local'}"`,
    `data_dir = ${JSON.stringify(dir)}`,
    '[log]',
    'level = "info"',
    '[rpc]',
    `listen = ["127.0.0.1:${rpcPort}"]`,
    ...(spec.rpcAuth === undefined ? [] : [`auth = ${JSON.stringify(spec.rpcAuth)}`]),
    ...(spec.rpcMaxPerSecond === undefined ? [] : [`max_requests_per_second = ${spec.rpcMaxPerSecond}`]),
    '[feed]',
    `listen = ["127.0.0.1:${feedPort}"]`,
    ...(spec.feedSubscribers === undefined ? [] : [`subscribers = ${JSON.stringify(spec.feedSubscribers)}`]),
    ...(spec.feedPublish ?? []).flatMap((p) => [
      '[[feed.publish]]',
      `topic = ${JSON.stringify(p.topic)}`,
      `address = ${JSON.stringify(p.address)}`,
    ]),
    '[metrics]',
    `listen = ["127.0.0.1:${metricsPort}"]`,
    '[verify]',
    `workers = ${spec.verifyWorkers ?? 0}`,
    '[peering]',
    `listen = ["127.0.0.1:${port}"]`,
    `announce = ["127.0.0.1:${port}"]`,
    'request_timeout_ms = 5000',
    ...(spec.allow === undefined ? [] : [`allow = ${JSON.stringify(spec.allow)}`]),
    ...(spec.connect ?? []).flatMap((c) => [
      '[[peering.connect]]',
      `address = ${JSON.stringify(c.address)}`,
      `key = ${JSON.stringify(c.key)}`,
    ]),
    ...(spec.recorders === undefined
      ? []
      : [
          '[proof]',
          `jobs_listen = ["127.0.0.1:${proofPorts[0]}"]`,
          `submit_listen = ["127.0.0.1:${proofPorts[1]}"]`,
          `recorders = ${JSON.stringify(spec.recorders)}`,
        ]),
    spec.extra ?? '',
  ];
  const configPath = join(dir, 'cairnd.toml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  const node = new NodeProcess(spec.name, dir, port, id.publicKey, configPath, spec.main ?? MAIN);
  node.rpcPort = rpcPort;
  node.feedPort = feedPort;
  node.metricsPort = metricsPort;
  if (proofKey !== undefined)
    node.proof = { key: proofKey, jobs: `127.0.0.1:${proofPorts[0]}`, submit: `127.0.0.1:${proofPorts[1]}` };
  return node;
}

/** A test-side peer with its own identity. */
export function makeProbeIdentity(root: string, name = 'probe'): CurveKeys {
  const id = generateIdentity(join(root, name), 'peer');
  return loadIdentity(id.secretPath);
}

export async function probe(
  node: NodeProcess,
  identity: CurveKeys,
  params: NetworkParams = LOCAL,
): Promise<OutboundPeer> {
  const genesis = { tipHash: params.genesisHash, height: 0, work: 0n };
  const peer = new OutboundPeer(
    {
      address: node.address,
      key: node.key,
      identity,
      params,
      listen: [],
      userAgent: 'cairn-test-probe',
      timeoutMs: 5000,
      maxMessageBytes: 16_000_000,
    },
    { logger: silentLogger(), summary: () => genesis, clock: () => Math.floor(Date.now() / 1000) },
  );
  try {
    await peer.handshake();
  } catch (e) {
    await peer.close();
    throw e;
  }
  return peer;
}

export async function pushAll(peer: OutboundPeer, blocks: readonly DecodedBlock[]): Promise<void> {
  for (const b of blocks) {
    const s = await peer.pushBlock(b.raw);
    if (s === 'rejected') throw new Error('a test block was rejected');
  }
}

/** The height a node reports to a probe peer (a fresh connection each time). */
export async function heightOf(
  node: NodeProcess,
  identity: CurveKeys,
  params: NetworkParams = LOCAL,
): Promise<number> {
  const p = await probe(node, identity, params);
  try {
    return await p.ping();
  } finally {
    await p.close();
  }
}

/** Polls `fn` until it returns true (every 100 ms, up to `timeoutMs`); a throw counts as not yet. */
export async function eventually(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    // a check that throws (a busy node missing a ping's deadline on a loaded machine) is asked
    // again; the last error is kept for the timeout's message
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for: ${what}${last === undefined ? '' : ` (last error: ${(last as Error).message ?? String(last)})`}`,
        last === undefined ? undefined : { cause: last },
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RecorderSpec {
  readonly name: string;
  readonly root: string;
  /** Bech32m payout address (for the first node's network). */
  readonly payout: string;
  readonly nodes: readonly { node: NodeProcess; network: 'local' | 'test'; payout?: string }[];
  readonly workers?: number;
  readonly cpuPercent?: number;
  readonly strategy?: 'latest' | 'round-robin';
}

/** Creates a recorder identity and config (not started); returns the process and its key. */
export function makeRecorderIdentity(root: string, name: string): CurveKeys {
  return loadIdentity(generateIdentity(join(root, name, 'identity'), 'recorder').secretPath);
}

export function makeRecorder(spec: RecorderSpec): NodeProcess {
  const dir = join(spec.root, spec.name);
  const lines = [
    `payout = ${JSON.stringify(spec.payout)}`,
    `workers = ${spec.workers ?? 1}`,
    `cpu_percent = ${spec.cpuPercent ?? 30}`,
    `strategy = "${spec.strategy ?? 'latest'}"`,
    '[log]',
    'level = "info"',
    '[identity]',
    `dir = ${JSON.stringify(join(dir, 'identity'))}`,
    'name = "recorder"',
    ...spec.nodes.flatMap((n) => [
      '[[nodes]]',
      `jobs = ${JSON.stringify(n.node.proof!.jobs)}`,
      `submit = ${JSON.stringify(n.node.proof!.submit)}`,
      `key = ${JSON.stringify(n.node.proof!.key)}`,
      `network = "${n.network}"`,
      ...(n.payout === undefined ? [] : [`payout = ${JSON.stringify(n.payout)}`]),
    ]),
  ];
  const configPath = join(dir, 'recorder.toml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  return new NodeProcess(spec.name, dir, 0, '', configPath, RECORDER_MAIN, /recorder started/);
}
