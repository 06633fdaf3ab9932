/**
 * The configuration of `cairn-recorder`: its schema (the source of config/cairn-recorder.sample.toml)
 * and its type `RecorderConfig`, plus the checks that span keys: every node needs a payout address,
 * and that address must belong to the node's network (bech32m prefix cairn / tcairn / lcairn).
 *
 * Nodes are `[[nodes]]` tables: `jobs` and `submit` (host:port of the node's proof PUB and
 * submission sockets), `key` (the node's proof public key, Z85), optional `network` (default
 * "main") and optional `payout` (overrides the top-level one). In an environment variable or a
 * flag, a node is `KEY@JOBS@SUBMIT` or `KEY@JOBS@SUBMIT@NETWORK`, several separated by commas.
 */
import { join } from 'node:path';
import { decodeAddress } from '../core/address.ts';
import { NETWORKS } from '../core/params/networks.ts';
import type { NetworkName } from '../core/params/types.ts';
import { identityPaths } from '../identity/certificate.ts';
import { type Loaded, type LoadOptions, loadConfig } from './load.ts';
import { LOG_LEVELS, NETWORK_NAMES } from './node-config.ts';
import {
  addressType,
  ConfigError,
  type ConfigOf,
  describeOrigin,
  enumType,
  field,
  integerType,
  keyType,
  Mismatch,
  nullableType,
  type ParseContext,
  pathType,
  stringType,
  type ValueType,
} from './schema.ts';

/** One `[[nodes]]` table. */
export interface RecorderNodeEntry {
  /** host:port of the node's proof jobs PUB socket. */
  readonly jobs: string;
  /** host:port of the node's proof submission socket. */
  readonly submit: string;
  /** The node's proof public key (Z85). */
  readonly key: string;
  readonly network: NetworkName;
  /** Payout address for this node, overriding the top-level `payout`; null: use that. */
  readonly payout: string | null;
}

const ADDRESS = addressType({ hostnames: true });
const NODE_FIELDS = {
  jobs: ADDRESS,
  submit: ADDRESS,
  key: keyType(),
  network: enumType(NETWORK_NAMES),
  payout: stringType({ describe: 'a bech32m address' }),
} as const satisfies Record<string, ValueType<unknown>>;
const REQUIRED = ['jobs', 'submit', 'key'] as const;
const NODE_TEXT = 'KEY@JOBS@SUBMIT[@NETWORK]';

function withSub<T>(sub: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Mismatch)
      throw new Mismatch(err.expected, err.received, sub + err.sub, err.textual, err.problem);
    throw err;
  }
}

/** `KEY@JOBS@SUBMIT[@NETWORK]`: split from the right (a Z85 key may contain '@', addresses never do). */
function splitNode(item: string): Record<string, string> | undefined {
  const parts = item.split('@');
  let network: string | undefined;
  if (parts.length >= 4 && (NETWORK_NAMES as readonly string[]).includes(parts[parts.length - 1]!))
    network = parts.pop();
  if (parts.length < 3) return undefined;
  const submit = parts.pop()!;
  const jobs = parts.pop()!;
  const key = parts.join('@');
  if (key === '' || jobs === '' || submit === '') return undefined;
  return { key, jobs, submit, ...(network === undefined ? {} : { network }) };
}

function nodeEntry(obj: Record<string, unknown>, ctx: ParseContext, textual: boolean): RecorderNodeEntry {
  const names = Object.keys(NODE_FIELDS);
  for (const k of Object.keys(obj))
    if (!Object.hasOwn(NODE_FIELDS, k))
      throw new Mismatch(`only the keys ${names.join(', ')}`, k, `.${k}`, textual, 'unknown-key');
  for (const k of REQUIRED)
    if (obj[k] === undefined)
      throw new Mismatch(NODE_FIELDS[k].expected, undefined, `.${k}`, textual, 'missing');
  const read = <K extends keyof typeof NODE_FIELDS>(k: K) =>
    withSub(`.${k}`, () => {
      const t = NODE_FIELDS[k] as ValueType<unknown>;
      return textual ? t.fromText(String(obj[k]), ctx) : t.fromValue(obj[k], ctx);
    });
  return {
    jobs: read('jobs') as string,
    submit: read('submit') as string,
    key: read('key') as string,
    network: obj.network === undefined ? 'main' : (read('network') as NetworkName),
    payout: obj.payout === undefined ? null : (read('payout') as string),
  };
}

/** `[[nodes]]`: a list of node tables (from text: `KEY@JOBS@SUBMIT[@NETWORK]`, comma-separated). */
function nodesType(): ValueType<RecorderNodeEntry[]> {
  const expected = `a list of tables { jobs, submit, key, [network], [payout] } or "${NODE_TEXT}" strings`;
  const fromItemText = (x: string, ctx: ParseContext, textual: boolean) => {
    const parts = splitNode(x.trim());
    if (parts === undefined) throw new Mismatch(NODE_TEXT, x, '', textual);
    return nodeEntry(parts, ctx, true);
  };
  return {
    expected,
    docType: 'list of tables { jobs, submit, key, network, payout }',
    emptyText: 'value',
    fromValue(v, ctx) {
      if (!Array.isArray(v)) throw new Mismatch(expected, v);
      return v.map((x, i) =>
        withSub(`[${i}]`, () => {
          if (typeof x === 'string') return fromItemText(x, ctx, false);
          if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof Date)
            throw new Mismatch('a table { jobs, submit, key, [network], [payout] }', x);
          return nodeEntry(x as Record<string, unknown>, ctx, false);
        }),
      );
    },
    fromText(s, ctx) {
      return s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x, i) => withSub(`[${i}]`, () => fromItemText(x, ctx, true)));
    },
    format: (v) =>
      `[${v
        .map(
          (n) =>
            `{ jobs = ${JSON.stringify(n.jobs)}, submit = ${JSON.stringify(n.submit)}, key = ${JSON.stringify(n.key)}, network = ${JSON.stringify(n.network)}${n.payout === null ? '' : `, payout = ${JSON.stringify(n.payout)}`} }`,
        )
        .join(', ')}]`,
  };
}

export const STRATEGIES = ['latest', 'round-robin'] as const;

export const RECORDER_SCHEMA = {
  log: {
    level: field(enumType(LOG_LEVELS), 'info', 'Least severe log level written (pino).'),
  },
  identity: {
    dir: field(
      pathType(),
      (c) => join(c.home, '.cairn', 'recorder'),
      'Directory of the recorder identity (CURVE key pair in ZeroMQ certificate format).',
      { defaultDoc: '~/.cairn/recorder' },
    ),
    name: field(
      stringType({
        pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/,
        describe: 'a file name (letters, digits, . _ -)',
      }),
      'recorder',
      'Identity file name: <dir>/<name>.key and <dir>/<name>.key_secret (`cairn-recorder generate-identity`).',
    ),
  },
  payout: field(
    nullableType(stringType({ describe: 'a bech32m address' })),
    null,
    'Address the nodes pay our blocks to (bech32m of the node’s network: cairn1…, tcairn1…, lcairn1…); a node may override it.',
  ),
  workers: field(integerType({ min: -1, max: 256 }), -1, 'Hash worker threads; -1 = one per core.'),
  cpu_percent: field(
    integerType({ min: 1, max: 100 }),
    100,
    'Share of each worker’s core spent hashing (duty cycle over 100 ms).',
  ),
  strategy: field(
    enumType(STRATEGIES),
    'latest',
    'With several nodes: mine the most recent job (latest), or give each node 30 s turns (round-robin).',
  ),
  nodes: field(
    nodesType(),
    [],
    `Nodes to mine for: [[nodes]] tables of jobs, submit (host:port), key (the node's proof key), network, payout (env/flag: ${NODE_TEXT},...).`,
  ),
} as const;

export type RecorderConfig = ConfigOf<typeof RECORDER_SCHEMA>;

/**
 * Loads and checks the configuration: the schema's per-key checks, then at least one node, a
 * worker count other than 0, and for every node a payout address of that node's network.
 */
export function loadRecorderConfig(opts: LoadOptions = {}): Loaded<typeof RECORDER_SCHEMA> {
  const loaded = loadConfig(RECORDER_SCHEMA, opts);
  checkRecorderConfig(loaded);
  return loaded;
}

export function checkRecorderConfig(loaded: Loaded<typeof RECORDER_SCHEMA>): void {
  const c = loaded.config;
  const where = (key: string) => {
    const o = loaded.origins[key];
    return o === undefined || o.source === 'default' ? '' : ` ${describeOrigin(o)}`;
  };
  if (c.workers === 0)
    throw new ConfigError(
      'config-invalid-value',
      `workers${where('workers')}: 0 workers cannot mine; use 1..256, or -1 for one per core`,
      'workers',
      loaded.origins.workers,
    );
  if (c.nodes.length === 0)
    throw new ConfigError(
      'config-invalid-value',
      `nodes${where('nodes')}: no node to mine for; add a [[nodes]] table (jobs, submit, key)`,
      'nodes',
      loaded.origins.nodes,
    );
  for (let i = 0; i < c.nodes.length; i++) payoutOwner(c, i, where);
}

/** The payout owner hash for node `i`, or a ConfigError naming the key that holds a bad address. */
function payoutOwner(c: RecorderConfig, i: number, where: (key: string) => string): Uint8Array {
  const n = c.nodes[i]!;
  const own = n.payout !== null;
  const key = own ? `nodes[${i}].payout` : 'payout';
  const origin = where(own ? 'nodes' : 'payout');
  const address = n.payout ?? c.payout;
  const params = NETWORKS[n.network];
  if (address === null)
    throw new ConfigError(
      'config-invalid-value',
      `payout: missing; node ${i} (${n.submit}, ${n.network}) needs an address to be paid to: set payout (or nodes[${i}].payout) to a ${params.addressPrefix}1… address`,
      'payout',
    );
  try {
    return decodeAddress(params.addressPrefix, address);
  } catch (e) {
    throw new ConfigError(
      'config-invalid-value',
      `${key}${origin}: ${JSON.stringify(address)} is not an address of network ${n.network} (node ${i}, ${n.submit}), which expects ${params.addressPrefix}1…: ${(e as Error).message}`,
      key,
    );
  }
}

/** A node of the configuration, resolved for the recorder: endpoints, network, payout owner hash. */
export interface ResolvedNode {
  readonly name: string;
  readonly jobsEndpoint: string;
  readonly submitEndpoint: string;
  readonly nodeKey: string;
  readonly network: NetworkName;
  readonly payout: Uint8Array;
}

export function recorderNodes(c: RecorderConfig): ResolvedNode[] {
  return c.nodes.map((n, i) => ({
    name: n.submit,
    jobsEndpoint: `tcp://${n.jobs}`,
    submitEndpoint: `tcp://${n.submit}`,
    nodeKey: n.key,
    network: n.network,
    payout: payoutOwner(c, i, () => ''),
  }));
}

/** Files of the recorder identity. */
export function recorderIdentityPaths(c: RecorderConfig): { publicPath: string; secretPath: string } {
  return identityPaths(c.identity.dir, c.identity.name);
}
