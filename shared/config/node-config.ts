/**
 * The configuration of `cairnd`: its schema (the one source of the keys, types, defaults and docs of
 * docs/configuration.md and config/cairnd.sample.toml) and its type `NodeConfig`.
 *
 * Defaults that depend on the network (ports, data directory) are computed from the resolved
 * `network`, so `network = "test"` alone moves every port by 10000 and the data to ~/.cairn/test.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { NETWORKS } from '../core/params/networks.ts';
import type { NetworkName } from '../core/params/types.ts';
import { identityPaths, keysWithDir, optionalKeysWithDir } from '../identity/certificate.ts';
import { type Loaded, type LoadOptions, loadConfig } from './load.ts';
import {
  addressType,
  booleanType,
  type ConfigOf,
  type DefaultContext,
  enumType,
  field,
  integerType,
  keyType,
  listType,
  Mismatch,
  nullableType,
  pathType,
  stringType,
  tablesType,
  type ValueType,
} from './schema.ts';

/**
 * The smallest storage.prune_mb: 288 blocks (Core's MIN_BLOCKS_TO_KEEP) of the largest size (4 MB),
 * plus 15% for their undo data and 20% for side-branch blocks, as Core reasons its 550 MiB.
 */
export const MIN_PRUNE_MB = 1600;

/** storage.prune_mb: 0 (off) or at least MIN_PRUNE_MB; the loader's error names the key. */
function pruneMbType(): ValueType<number> {
  const inner = integerType({ min: 0, max: 1_000_000_000 });
  const expected = `0 (no pruning) or an integer from ${MIN_PRUNE_MB} to 1_000_000_000 (MB)`;
  const check = (read: () => number, raw: unknown, textual: boolean): number => {
    let n: number;
    try {
      n = read();
    } catch (e) {
      if (e instanceof Mismatch) throw new Mismatch(expected, raw, '', textual);
      throw e;
    }
    if (n !== 0 && n < MIN_PRUNE_MB) throw new Mismatch(expected, raw, '', textual);
    return n;
  };
  return {
    ...inner,
    expected,
    docType: `integer 0 or ${MIN_PRUNE_MB}..`,
    fromValue: (v, ctx) => check(() => inner.fromValue(v, ctx), v, false),
    fromText: (t, ctx) => check(() => inner.fromText(t, ctx), t, true),
  };
}

export const NETWORK_NAMES = ['main', 'test', 'local'] as const satisfies readonly NetworkName[];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const network = (c: DefaultContext) => c.get('network') as NetworkName;
const ports = (c: DefaultContext) => NETWORKS[network(c)].ports;

/** `KEY@ADDRESS` (the key may contain '@'; the address never does): the text form of a connect entry. */
/** The feed's topics (Bitcoin Core's ZMQ notification names without `pub`). */
export const FEED_TOPICS = ['hashblock', 'rawblock', 'hashtx', 'rawtx', 'sequence'] as const;
export type FeedTopic = (typeof FEED_TOPICS)[number];

function splitPublish(item: string): Record<string, string> | undefined {
  const at = item.indexOf('@');
  if (at <= 0 || at === item.length - 1) return undefined;
  return { topic: item.slice(0, at), address: item.slice(at + 1) };
}

/**
 * Where each feed topic is published: every `feed.topics` on every `feed.listen` address, plus
 * each `[[feed.publish]]`; one entry per address with its topics (one socket each).
 */
export function feedEndpoints(c: NodeConfig): { address: string; topics: FeedTopic[] }[] {
  const byAddress = new Map<string, Set<FeedTopic>>();
  const add = (address: string, topic: FeedTopic) => {
    const set = byAddress.get(address) ?? new Set<FeedTopic>();
    set.add(topic);
    byAddress.set(address, set);
  };
  for (const address of c.feed.listen) for (const t of c.feed.topics) add(address, t);
  for (const p of c.feed.publish) add(p.address, p.topic);
  return [...byAddress].map(([address, topics]) => ({
    address,
    topics: FEED_TOPICS.filter((t) => topics.has(t)),
  }));
}

function splitConnect(item: string): Record<string, string> | undefined {
  const at = item.lastIndexOf('@');
  if (at <= 0 || at === item.length - 1) return undefined;
  return { key: item.slice(0, at), address: item.slice(at + 1) };
}

export const NODE_SCHEMA = {
  network: field(
    enumType(NETWORK_NAMES),
    'main',
    'Network: main, test (ports +10000) or local (regtest-like, ports +20000).',
  ),
  data_dir: field(
    pathType(),
    (c) => join(c.home, '.cairn', network(c)),
    'Where the node keeps its chain database, caches and identity.',
    {
      defaultDoc: '~/.cairn/<network>',
    },
  ),
  log: {
    level: field(enumType(LOG_LEVELS), 'info', 'Least severe log level written (pino).'),
  },
  identity: {
    dir: field(
      pathType(),
      (c) => join(c.get('data_dir') as string, 'identity'),
      'Directory of the peer identity (CURVE key pair in ZeroMQ certificate format).',
      {
        defaultDoc: '<data_dir>/identity',
      },
    ),
    name: field(
      stringType({
        pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/,
        describe: 'a file name (letters, digits, . _ -)',
      }),
      'peer',
      'Identity file name: <dir>/<name>.key and <dir>/<name>.key_secret (`cairnd gen-peer-identity`).',
    ),
  },
  peering: {
    listen: field(
      listType(addressType()),
      (c) => [`0.0.0.0:${ports(c).peer}`],
      'Addresses the peer listener binds (empty list: no inbound peers).',
      {
        defaultDoc: '["0.0.0.0:<peer port>"] (2136 main, 12136 test, 22136 local)',
      },
    ),
    announce: field(
      listType(addressType({ hostnames: true })),
      [],
      'Addresses other peers should use to reach this node (told in the handshake and to discovery).',
    ),
    connect: field(
      tablesType(
        { address: addressType({ hostnames: true }), key: keyType() },
        { describe: 'KEY@ADDRESS', split: splitConnect },
      ),
      [],
      'Static peers to connect to: [[peering.connect]] tables of address and key (env/flag: KEY@ADDRESS,...).',
    ),
    allow: field(
      nullableType(listType(keyType())),
      null,
      'If set (with allow_dir), only these peer keys may connect; unset: any key (open network).',
    ),
    allow_dir: field(
      nullableType(pathType()),
      null,
      'A directory of *.key public certificates added to the allow-list.',
    ),
    max_inbound: field(integerType({ min: 0, max: 10_000 }), 32, 'Most inbound peer connections.'),
    max_outbound: field(integerType({ min: 0, max: 1_000 }), 8, 'Most outbound peer connections.'),
    max_message_bytes: field(
      integerType({ min: 4_100_000, max: 256_000_000 }),
      8_500_000,
      'Largest peer message accepted, in bytes (must hold the largest block).',
    ),
    request_timeout_ms: field(
      integerType({ min: 100, max: 600_000 }),
      10_000,
      'A peer request not answered within this time fails (ms).',
    ),
    stall_warning_seconds: field(
      integerType({ min: 5, max: 86_400 }),
      120,
      'Warn (log, RPC warnings, metrics) when the tip has not moved for this long while peers have shown more work (s).',
    ),
    ban_seconds: field(
      integerType({ min: 0, max: 31_536_000 }),
      86_400,
      'How long a misbehaving peer stays banned (s).',
    ),
    compact_blocks: field(
      booleanType(),
      true,
      'Relay new blocks compactly (header + short transaction ids, BIP152-style) to peers that take them; false: whole blocks both ways.',
    ),
  },
  rpc: {
    listen: field(
      listType(addressType()),
      (c) => [`127.0.0.1:${ports(c).rpc}`],
      'Addresses the JSON-RPC/REST HTTP server binds (keep it on loopback unless behind auth).',
      {
        defaultDoc: '["127.0.0.1:<rpc port>"] (2131 main, 12131 test, 22131 local)',
      },
    ),
    max_requests_per_second: field(
      integerType({ min: 0, max: 1_000_000 }),
      5000,
      'Requests per second one client IP may make (bursts of twice that); 0 = no limit.',
    ),
    auth: field(
      listType(
        stringType({
          pattern: /^[^:\s]+:[^$:\s]+\$[0-9a-fA-F]{64}$/,
          describe: 'an rpcauth entry user:salt$hmac (make one with `cairnd gen-rpcauth USER`)',
        }),
      ),
      [],
      'Extra RPC users as rpcauth entries user:salt$hmac (Bitcoin Core format; `cairnd gen-rpcauth USER` makes one); the cookie works as well.',
    ),
    rest: field(
      booleanType(),
      (c) => network(c) === 'local',
      'Serve the read-only REST API (/rest/) and the web explorer on the RPC port, without authentication.',
      { defaultDoc: 'false (true on local)' },
    ),
  },
  metrics: {
    listen: field(
      listType(addressType()),
      (c) => [`127.0.0.1:${ports(c).metrics}`],
      'Addresses of the Prometheus /metrics HTTP listener (no authentication); empty = none.',
      { defaultDoc: '["127.0.0.1:<metrics port>"] (2132 main, 12132 test, 22132 local)' },
    ),
  },
  proof: {
    jobs_listen: field(
      listType(addressType()),
      (c) => [`0.0.0.0:${ports(c).proofJobs}`],
      'Addresses the PUB socket publishing jobs to recorders binds (CURVE; only listed recorders get in).',
      { defaultDoc: '["0.0.0.0:<proof jobs port>"] (2138 main, 12138 test, 22138 local)' },
    ),
    submit_listen: field(
      listType(addressType()),
      (c) => [`0.0.0.0:${ports(c).proofSubmit}`],
      'Addresses the socket taking recorder submissions binds (CURVE; only listed recorders get in).',
      { defaultDoc: '["0.0.0.0:<proof submit port>"] (2139 main, 12139 test, 22139 local)' },
    ),
    recorders: field(
      listType(keyType()),
      [],
      'Public keys (Z85) of the recorders allowed to mine for this node; with recorders_dir. None: no proof channel.',
    ),
    recorders_dir: field(
      nullableType(pathType()),
      null,
      'A directory of recorders’ *.key public certificates, added to proof.recorders.',
    ),
    identity_name: field(
      stringType(),
      'proof',
      'File name of the proof identity in identity.dir (create it with `cairnd gen-proof-identity DIR`).',
    ),
    share_bits: field(
      integerType({ min: 0, max: 32 }),
      8,
      'Shares: a submission whose hash meets the target times 2^share_bits counts for hash-rate accounting; 0 = no shares.',
    ),
    job_expiry_seconds: field(
      integerType({ min: 10, max: 86_400 }),
      600,
      'A job is answered `stale` once this old, even if the tip has not moved.',
    ),
  },
  feed: {
    listen: field(
      listType(addressType()),
      (c) => [`127.0.0.1:${ports(c).feed}`],
      'Addresses of the public feed (ZMQ PUB, Bitcoin Core format); plain on loopback; empty = no feed.',
      { defaultDoc: '["127.0.0.1:<feed port>"] (2135 main, 12135 test, 22135 local)' },
    ),
    topics: field(listType(enumType(FEED_TOPICS)), [...FEED_TOPICS], 'Topics published on feed.listen.'),
    publish: field(
      tablesType(
        { topic: enumType(FEED_TOPICS), address: addressType() },
        { describe: 'TOPIC@ADDRESS', split: splitPublish },
      ),
      [],
      'More feed endpoints, one topic each, as Bitcoin Core’s -zmqpub<topic>=<address>: [[feed.publish]] tables of topic and address (env/flag: TOPIC@ADDRESS,...). Topics sharing an address share its socket.',
    ),
    subscribers: field(
      listType(keyType()),
      [],
      'Public keys (Z85) of subscribers allowed on the feed; with subscribers_dir. Any key here makes the feed CURVE (server key: the node’s peer key) so it may bind off loopback; none: plain, loopback only.',
    ),
    subscribers_dir: field(
      nullableType(pathType()),
      null,
      'A directory of subscribers’ *.key public certificates, added to feed.subscribers.',
    ),
  },
  discovery: {
    servers: field(
      tablesType(
        { address: addressType({ hostnames: true }), key: keyType() },
        { describe: 'KEY@ADDRESS', split: splitConnect },
      ),
      [],
      'cairn-discovery services to register with and ask for peers: [[discovery.servers]] tables of address (its request socket) and key (env/flag: KEY@ADDRESS,...).',
    ),
    register: field(
      booleanType(),
      true,
      'Register this node’s announce (or listen) addresses with the discovery services; false: only ask them for peers.',
    ),
  },
  storage: {
    map_size_gb: field(
      integerType({ min: 1, max: 1_048_576 }),
      64,
      'LMDB map size in GiB: the most the database may grow to (address space, not disk).',
    ),
    durable: field(
      booleanType(),
      true,
      'fsync every block commit; false is faster but a power cut may lose recent blocks.',
    ),
    prune_mb: field(
      pruneMbType(),
      0,
      `Prune old blocks: keep raw blocks and undo data under this many MB (10^6 bytes), never fewer than the last 288 blocks; the UTXO set, every index and all headers stay. 0: keep every block. Otherwise at least ${MIN_PRUNE_MB} (288 blocks of the largest size with their undo data; docs/operations.md §Pruning).`,
    ),
    map_cache_mb: field(
      integerType({ min: 0, max: 1_000_000 }),
      64,
      'MB of LMDB’s map pages (data.mdb read in place) cairnd keeps in its resident memory; past it they are released to the kernel’s page cache (looked at after each block connected and four times a second), read back on a minor fault. 0: release at every look. Needs the native addon built by npm run build (a C compiler).',
    ),
    min_free_mb: field(
      nullableType(integerType({ min: 0, max: 1_000_000 })),
      null,
      'Stop cleanly (exit 3), and refuse to start, while less than this many MB are free under data_dir; unset: 50, or 5% of a smaller file system (0: no check; LMDB may then abort the process on a full disk).',
    ),
  },
  reservoir: {
    max_mb: field(
      integerType({ min: 1, max: 1_000_000 }),
      300,
      'Memory cap of the mempool in MB (10^6 bytes).',
    ),
    min_relay_fee_rate: field(
      integerType({ min: 0, max: 1_000_000_000 }),
      1,
      'Minimum fee rate to enter and relay, base units per byte.',
    ),
  },
  verify: {
    workers: field(
      integerType({ min: -1, max: 1024 }),
      -1,
      'Signature verification worker threads; -1 = auto (cores - 1), 0 = verify on the main thread.',
    ),
  },
} as const;

export type NodeConfig = ConfigOf<typeof NODE_SCHEMA>;

export function loadNodeConfig(opts: LoadOptions = {}): Loaded<typeof NODE_SCHEMA> {
  return loadConfig(NODE_SCHEMA, opts);
}

/** Files of the node's peer identity. */
export function peerIdentityPaths(c: NodeConfig): { publicPath: string; secretPath: string } {
  return identityPaths(c.identity.dir, c.identity.name);
}

/**
 * The peer allow-list: `peering.allow` plus the keys of `peering.allow_dir`'s `*.key` files, or null
 * (any key may connect) when neither is set.
 */
export function peerAllowList(c: NodeConfig): string[] | null {
  return optionalKeysWithDir(c.peering.allow, c.peering.allow_dir);
}

/** The recorder allow-list: `proof.recorders` plus the keys of `proof.recorders_dir`. */
export function proofRecorderKeys(c: NodeConfig): string[] {
  return keysWithDir(c.proof.recorders, c.proof.recorders_dir);
}

/** The feed's subscriber allow-list: `feed.subscribers` plus the keys of `feed.subscribers_dir`; empty: a plain loopback feed. */
export function feedSubscriberKeys(c: NodeConfig): string[] {
  return keysWithDir(c.feed.subscribers, c.feed.subscribers_dir);
}

/** Files of the node's proof identity. */
export function proofIdentityPaths(c: NodeConfig): { publicPath: string; secretPath: string } {
  return identityPaths(c.identity.dir, c.proof.identity_name);
}

/** Worker threads for signature verification: `verify.workers`, or cores − 1 for -1 (auto). */
export function effectiveVerifyWorkers(c: NodeConfig, cores: number = availableParallelism()): number {
  return c.verify.workers >= 0 ? c.verify.workers : Math.max(0, cores - 1);
}

/** `storage.map_size_gb` in bytes (GiB). */
export function mapSizeBytes(c: NodeConfig): number {
  return c.storage.map_size_gb * 1024 ** 3;
}

/** `reservoir.max_mb` in bytes (MB = 10^6 bytes, as Bitcoin Core's -maxmempool). */
export function reservoirMaxBytes(c: NodeConfig): number {
  return c.reservoir.max_mb * 1_000_000;
}
