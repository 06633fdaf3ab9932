/**
 * The configuration of `cairn-discovery`: its schema (the source of config/cairn-discovery.sample.toml)
 * and its type. One process serves one network; `network` moves the default ports like cairnd's
 * (2140/2141 on main, +10000 test, +20000 local) and the data directory.
 */
import { join } from 'node:path';
import { NETWORKS } from '../core/params/networks.ts';
import type { NetworkName } from '../core/params/types.ts';
import { identityPaths, optionalKeysWithDir } from '../identity/certificate.ts';
import { type Loaded, type LoadOptions, loadConfig } from './load.ts';
import { LOG_LEVELS, NETWORK_NAMES } from './node-config.ts';
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
  nullableType,
  pathType,
  stringType,
} from './schema.ts';

const network = (c: DefaultContext) => c.get('network') as NetworkName;
const ports = (c: DefaultContext) => NETWORKS[network(c)].ports;

export const DISCOVERY_SCHEMA = {
  network: field(
    enumType(NETWORK_NAMES),
    'main',
    'Network served: main, test (ports +10000) or local (ports +20000); registrations of other networks are refused.',
  ),
  data_dir: field(
    pathType(),
    (c) => join(c.home, '.cairn', 'discovery', network(c)),
    'Where the service keeps its state file and identity.',
    { defaultDoc: '~/.cairn/discovery/<network>' },
  ),
  log: {
    level: field(enumType(LOG_LEVELS), 'info', 'Least severe log level written (pino).'),
  },
  identity: {
    dir: field(
      pathType(),
      (c) => join(c.get('data_dir') as string, 'identity'),
      'Directory of the service identity (CURVE key pair; `cairn-discovery generate-identity DIR`).',
      { defaultDoc: '<data_dir>/identity' },
    ),
    name: field(
      stringType({
        pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/,
        describe: 'a file name (letters, digits, . _ -)',
      }),
      'discovery',
      'Identity file name: <dir>/<name>.key and <dir>/<name>.key_secret.',
    ),
  },
  listen: field(
    listType(addressType()),
    (c) => [`0.0.0.0:${ports(c).discovery}`],
    'Addresses the request socket (register, query) binds.',
    { defaultDoc: '["0.0.0.0:<discovery port>"] (2140 main, 12140 test, 22140 local)' },
  ),
  events_listen: field(
    listType(addressType()),
    (c) => [`0.0.0.0:${ports(c).discoveryEvents}`],
    'Addresses the PUB socket announcing joins and leaves binds (empty: no events).',
    { defaultDoc: '["0.0.0.0:<discovery events port>"] (2141 main, 12141 test, 22141 local)' },
  ),
  expiry_seconds: field(
    integerType({ min: 2, max: 86_400 }),
    600,
    'An entry not renewed for this long is dropped (nodes renew at a third of it).',
  ),
  max_entries: field(integerType({ min: 1, max: 1_000_000 }), 10_000, 'Most nodes registered at once.'),
  register_per_minute: field(
    integerType({ min: 1, max: 60_000 }),
    6,
    'Registrations per minute one key may make (bursts of the same number).',
  ),
  requests_per_second: field(
    integerType({ min: 1, max: 100_000 }),
    20,
    'Requests per second one connection may make (bursts of twice that).',
  ),
  allow_private: field(
    booleanType(),
    false,
    'Accept loopback/private/link-local addresses (always accepted on network local); for private networks.',
  ),
  allow: field(
    nullableType(listType(keyType())),
    null,
    'If set (with allow_dir), only these node keys may connect and register; unset: any key.',
  ),
  allow_dir: field(
    nullableType(pathType()),
    null,
    'A directory of *.key public certificates added to the allow-list.',
  ),
} as const;

export type DiscoveryConfig = ConfigOf<typeof DISCOVERY_SCHEMA>;

export function loadDiscoveryConfig(opts: LoadOptions = {}): Loaded<typeof DISCOVERY_SCHEMA> {
  return loadConfig(DISCOVERY_SCHEMA, opts);
}

export function discoveryIdentityPaths(c: DiscoveryConfig): { publicPath: string; secretPath: string } {
  return identityPaths(c.identity.dir, c.identity.name);
}

/** `allow` plus the keys of `allow_dir`, or null (any key) when neither is set. */
export function discoveryAllowList(c: DiscoveryConfig): string[] | null {
  return optionalKeysWithDir(c.allow, c.allow_dir);
}

/** The state file: `<data_dir>/discovery-state.json`. */
export function discoveryStatePath(c: DiscoveryConfig): string {
  return join(c.data_dir, 'discovery-state.json');
}
