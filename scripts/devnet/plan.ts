/**
 * The devnet's layout: which processes run, on which ports, with which directories, and the
 * config file each one gets. Pure (no I/O), so a test can check that no two ports collide.
 *
 * Node 1 keeps network local's default ports (RPC 22131, feed 22135, …), so `cairn --network
 * local` finds it without flags; node k (k ≥ 2) moves every port by (k − 1) × 100. Discovery
 * keeps its local defaults (22140 / 22141). `portBase` shifts all of them (tests run beside a
 * devnet that way).
 */
import { join } from 'node:path';
import { LOCAL } from '../../shared/core/params/networks.ts';

export const MAX_NODES = 20;
export const MAX_RECORDERS = 10;

export interface DevnetOptions {
  readonly nodes: number;
  readonly recorders: number;
  /** Data, configs and logs (git-ignored). */
  readonly root: string;
  /** Identities, made once and kept across runs. */
  readonly keysDir: string;
  /** RPC port of node 1; every other port follows from it. */
  readonly portBase: number;
  /** Most nodes allowed (the simulation runs more than a devnet, each on its own host). */
  readonly maxNodes?: number;
}

export interface NodePorts {
  readonly rpc: number;
  readonly metrics: number;
  readonly feed: number;
  readonly peer: number;
  readonly proofJobs: number;
  readonly proofSubmit: number;
}

export interface NodePlan {
  readonly name: string;
  readonly dataDir: string;
  readonly identityDir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly ports: NodePorts;
}

export interface RecorderPlan {
  readonly name: string;
  readonly identityDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Index into `nodes` of the node it mines for. */
  readonly node: number;
}

export interface DiscoveryPlan {
  readonly dataDir: string;
  readonly identityDir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly port: number;
  readonly eventsPort: number;
}

export interface DevnetPlan {
  readonly options: DevnetOptions;
  readonly discovery: DiscoveryPlan;
  readonly nodes: readonly NodePlan[];
  readonly recorders: readonly RecorderPlan[];
}

export const DEFAULT_PORT_BASE = LOCAL.ports.rpc;

export function planDevnet(o: DevnetOptions): DevnetPlan {
  const maxNodes = o.maxNodes ?? MAX_NODES;
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > maxNodes)
    throw new RangeError(`--nodes must be an integer from 1 to ${maxNodes}, got ${o.nodes}`);
  if (!Number.isInteger(o.recorders) || o.recorders < 0 || o.recorders > MAX_RECORDERS)
    throw new RangeError(`--recorders must be an integer from 0 to ${MAX_RECORDERS}, got ${o.recorders}`);
  const top = o.portBase + (o.nodes - 1) * 100 + 10;
  if (!Number.isInteger(o.portBase) || o.portBase < 1024 || top > 65535)
    throw new RangeError(
      `--port-base must leave room for ${o.nodes} nodes (1024..${65535 - (o.nodes - 1) * 100 - 10}), got ${o.portBase}`,
    );
  const shift = o.portBase - LOCAL.ports.rpc;
  const d = LOCAL.ports;
  const nodes = Array.from({ length: o.nodes }, (_, i): NodePlan => {
    const name = `node-${i + 1}`;
    const k = shift + i * 100;
    return {
      name,
      dataDir: join(o.root, name),
      identityDir: join(o.keysDir, name),
      configPath: join(o.root, 'config', `${name}.toml`),
      logPath: join(o.root, 'logs', `${name}.log`),
      ports: {
        rpc: d.rpc + k,
        metrics: d.metrics + k,
        feed: d.feed + k,
        peer: d.peer + k,
        proofJobs: d.proofJobs + k,
        proofSubmit: d.proofSubmit + k,
      },
    };
  });
  const recorders = Array.from({ length: o.recorders }, (_, j): RecorderPlan => {
    const name = `recorder-${j + 1}`;
    return {
      name,
      identityDir: join(o.keysDir, name),
      configPath: join(o.root, 'config', `${name}.toml`),
      logPath: join(o.root, 'logs', `${name}.log`),
      node: j % o.nodes,
    };
  });
  return {
    options: o,
    discovery: {
      dataDir: join(o.root, 'discovery'),
      identityDir: join(o.keysDir, 'discovery'),
      configPath: join(o.root, 'config', 'discovery.toml'),
      logPath: join(o.root, 'logs', 'discovery.log'),
      port: d.discovery + shift,
      eventsPort: d.discoveryEvents + shift,
    },
    nodes,
    recorders,
  };
}

/** Every port the devnet binds, named (for the "port in use" check). */
export function boundPorts(p: DevnetPlan): { port: number; what: string }[] {
  const out = [
    { port: p.discovery.port, what: 'discovery' },
    { port: p.discovery.eventsPort, what: 'discovery events' },
  ];
  for (const n of p.nodes)
    for (const [what, port] of Object.entries(n.ports)) out.push({ port, what: `${n.name} ${what}` });
  return out;
}

/** Public keys the configs need. */
export interface DevnetKeys {
  readonly discovery: string;
  /** Per node: peer and proof public keys. */
  readonly nodes: readonly { readonly peer: string; readonly proof: string }[];
  readonly recorders: readonly string[];
  /** Where recorders are paid (an address of the devnet wallet). */
  readonly payout: string;
}

const q = JSON.stringify;

/**
 * Where the processes of a plan listen when each runs on a host of its own (the simulation's
 * network namespaces) instead of all on 127.0.0.1: the node's peer, RPC and feed sockets bind its
 * host's address, and the feed admits `feedSubscribers` over CURVE (a plain feed is loopback only).
 */
export interface Hosts {
  readonly discovery: string;
  readonly nodes: readonly string[];
  readonly feedSubscribers: readonly string[];
}

export function discoveryToml(p: DevnetPlan, hosts?: Hosts): string {
  const h = hosts?.discovery ?? '127.0.0.1';
  return lines(
    'network = "local"',
    `data_dir = ${q(p.discovery.dataDir)}`,
    `listen = ["${h}:${p.discovery.port}"]`,
    `events_listen = ["${h}:${p.discovery.eventsPort}"]`,
    // nodes renew at a third of this: a stopped devnet node leaves the registry within a minute
    'expiry_seconds = 60',
    '[identity]',
    `dir = ${q(p.discovery.identityDir)}`,
    'name = "discovery"',
    '[log]',
    'level = "info"',
  );
}

export function nodeToml(p: DevnetPlan, i: number, keys: DevnetKeys, hosts?: Hosts): string {
  const n = p.nodes[i]!;
  const h = hosts?.nodes[i] ?? '127.0.0.1';
  const recorders = p.recorders
    .filter((r) => r.node === i)
    .map((r) => keys.recorders[p.recorders.indexOf(r)]!);
  return lines(
    'network = "local"',
    `data_dir = ${q(n.dataDir)}`,
    '[identity]',
    `dir = ${q(n.identityDir)}`,
    '[log]',
    'level = "info"',
    '[peering]',
    `listen = ["${h}:${n.ports.peer}"]`,
    '[rpc]',
    `listen = ["${h}:${n.ports.rpc}"]`,
    'rest = true',
    '[metrics]',
    `listen = ["${h}:${n.ports.metrics}"]`,
    '[feed]',
    `listen = ["${h}:${n.ports.feed}"]`,
    ...(hosts === undefined ? [] : [`subscribers = ${q(hosts.feedSubscribers)}`]),
    '[proof]',
    `jobs_listen = ["127.0.0.1:${n.ports.proofJobs}"]`,
    `submit_listen = ["127.0.0.1:${n.ports.proofSubmit}"]`,
    `recorders = ${q(recorders)}`,
    // peers come from discovery alone: the devnet shows that it bootstraps a network
    '[[discovery.servers]]',
    `address = "${hosts?.discovery ?? '127.0.0.1'}:${p.discovery.port}"`,
    `key = ${q(keys.discovery)}`,
  );
}

/** `cpuPercent`: the duty cycle of its one worker (the simulation shares two cores among many). */
export function recorderToml(p: DevnetPlan, j: number, keys: DevnetKeys, cpuPercent = 50): string {
  const r = p.recorders[j]!;
  const n = p.nodes[r.node]!;
  return lines(
    `payout = ${q(keys.payout)}`,
    // one worker at a modest duty cycle: the devnet should not take the machine
    'workers = 1',
    `cpu_percent = ${cpuPercent}`,
    '[log]',
    'level = "info"',
    '[identity]',
    `dir = ${q(r.identityDir)}`,
    'name = "recorder"',
    '[[nodes]]',
    `jobs = "127.0.0.1:${n.ports.proofJobs}"`,
    `submit = "127.0.0.1:${n.ports.proofSubmit}"`,
    `key = ${q(keys.nodes[r.node]!.proof)}`,
    'network = "local"',
  );
}

function lines(...l: string[]): string {
  return `${l.join('\n')}\n`;
}
