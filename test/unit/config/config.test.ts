import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { curveKeyPair } from 'zeromq';
import { flagsFromArgv, loadConfig } from '../../../shared/config/load.ts';
import {
  effectiveVerifyWorkers,
  loadNodeConfig,
  mapSizeBytes,
  NODE_SCHEMA,
  type NodeConfig,
  peerAllowList,
  peerIdentityPaths,
  reservoirMaxBytes,
} from '../../../shared/config/node-config.ts';
import {
  addressToEndpoint,
  ConfigError,
  envName,
  field,
  flattenSchema,
  integerType,
  listType,
  parseAddress,
} from '../../../shared/config/schema.ts';
import { generateIdentity } from '../../../shared/identity/certificate.ts';

const root = mkdtempSync(join(tmpdir(), 'cairn-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const HOME = '/home/op';

function toml(text: string): string {
  const p = join(root, `c${seq++}.toml`);
  writeFileSync(p, text);
  return p;
}

function load(opts: { file?: string; env?: Record<string, string>; flags?: Record<string, unknown> } = {}) {
  return loadNodeConfig({ env: {}, home: HOME, cwd: '/srv/cwd', ...opts });
}

function throwsConfig(fn: () => unknown, code: string, ...fragments: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const f of fragments) assert.ok(caught.message.includes(f), `"${caught.message}" lacks "${f}"`);
  return caught;
}

const K1 = curveKeyPair().publicKey;
const K2 = curveKeyPair().publicKey;

describe('node config defaults', () => {
  it('defaults follow the network', () => {
    const main = load().config;
    assert.equal(main.network, 'main');
    assert.equal(main.data_dir, '/home/op/.cairn/main');
    assert.equal(main.identity.dir, '/home/op/.cairn/main/identity');
    assert.equal(main.identity.name, 'peer');
    assert.deepEqual(main.peering.listen, ['0.0.0.0:2136']);
    assert.deepEqual(main.rpc.listen, ['127.0.0.1:2131']);
    assert.equal(main.peering.max_inbound, 32);
    assert.equal(main.peering.max_outbound, 8);
    assert.equal(main.peering.max_message_bytes, 8_500_000);
    assert.equal(main.peering.request_timeout_ms, 10_000);
    assert.equal(main.peering.ban_seconds, 86_400);
    assert.deepEqual(main.peering.connect, []);
    assert.equal(main.peering.allow, null);
    assert.equal(main.peering.allow_dir, null);
    assert.equal(main.storage.map_size_gb, 64);
    assert.equal(main.storage.durable, true);
    assert.equal(main.reservoir.max_mb, 300);
    assert.equal(main.reservoir.min_relay_fee_rate, 1);
    assert.equal(main.verify.workers, -1);
    assert.equal(main.log.level, 'info');

    const test = load({ env: { CAIRN_NETWORK: 'test' } }).config;
    assert.equal(test.data_dir, '/home/op/.cairn/test');
    assert.deepEqual(test.peering.listen, ['0.0.0.0:12136']);
    assert.deepEqual(test.rpc.listen, ['127.0.0.1:12131']);
    const local = load({ file: toml('network = "local"\n') }).config;
    assert.deepEqual(local.peering.listen, ['0.0.0.0:22136']);
    assert.equal(local.identity.dir, '/home/op/.cairn/local/identity');

    // a derived default follows an explicit data_dir, relative to the file's directory
    const dir = join(root, 'rel');
    mkdirSync(dir);
    const c = load({ file: toml('data_dir = "rel/node"\n') });
    assert.equal(c.config.data_dir, join(root, 'rel/node'));
    assert.equal(c.config.identity.dir, join(root, 'rel/node/identity'));
    assert.deepEqual(c.origins['identity.dir'], { source: 'default' });
  });

  it('the config is frozen and typed', () => {
    const c: NodeConfig = load().config;
    // type-level checks: these assignments compile only with the precise types
    const net: 'main' | 'test' | 'local' = c.network;
    const connect: readonly { readonly address: string; readonly key: string }[] = c.peering.connect;
    const allow: readonly string[] | null = c.peering.allow;
    const allowDir: string | null = c.peering.allow_dir;
    const level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = c.log.level;
    const n: number = c.peering.max_inbound;
    const b: boolean = c.storage.durable;
    assert.deepEqual(
      [net, connect, allow, allowDir, level, n, b],
      ['main', [], null, null, 'info', 32, true],
    );
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.peering) && Object.isFrozen(c.peering.listen));
    assert.throws(() => {
      (c.peering as { max_inbound: number }).max_inbound = 1;
    }, TypeError);
  });

  it('storage.prune_mb: 0 (off) or at least 1600; a smaller value is refused naming the key', () => {
    assert.equal(load().config.storage.prune_mb, 0);
    assert.equal(load({ flags: { 'storage.prune_mb': 1600 } }).config.storage.prune_mb, 1600);
    assert.equal(load({ env: { CAIRN_STORAGE_PRUNE_MB: '2_000' } }).config.storage.prune_mb, 2000);
    throwsConfig(
      () => load({ flags: { 'storage.prune_mb': 550 } }),
      'config-invalid-value',
      'storage.prune_mb',
      '0 (no pruning) or an integer from 1600',
    );
    throwsConfig(
      () => load({ env: { CAIRN_STORAGE_PRUNE_MB: 'lots' } }),
      'config-invalid-value',
      'CAIRN_STORAGE_PRUNE_MB',
      'from 1600',
    );
  });

  it('helpers derive what the node needs', () => {
    const c = load({ flags: { 'verify.workers': 3, 'identity.name': 'n1' } }).config;
    assert.equal(effectiveVerifyWorkers(c), 3);
    assert.equal(effectiveVerifyWorkers(load().config, 2), 1);
    assert.equal(effectiveVerifyWorkers(load().config, 1), 0);
    assert.equal(mapSizeBytes(c), 64 * 1024 ** 3);
    assert.equal(reservoirMaxBytes(c), 300_000_000);
    assert.deepEqual(peerIdentityPaths(c), {
      publicPath: '/home/op/.cairn/main/identity/n1.key',
      secretPath: '/home/op/.cairn/main/identity/n1.key_secret',
    });
    assert.equal(peerAllowList(c), null);
    const dir = join(root, 'allow');
    const g = generateIdentity(dir, 'friend');
    const listed = load({ flags: { 'peering.allow': [K1], 'peering.allow_dir': dir } }).config;
    assert.deepEqual(peerAllowList(listed), [K1, g.publicKey]);
    assert.deepEqual(peerAllowList(load({ flags: { 'peering.allow': [] } }).config), []);
  });
});

describe('precedence and origins', () => {
  it('file < env < flags, each origin recorded', () => {
    const file = toml('[peering]\nmax_inbound = 10\nmax_outbound = 11\nban_seconds = 12\n');
    const { config, origins } = load({
      file,
      env: { CAIRN_PEERING_MAX_OUTBOUND: '21', CAIRN_PEERING_BAN_SECONDS: '22' },
      flags: { peering: { ban_seconds: 33 } },
    });
    assert.equal(config.peering.max_inbound, 10);
    assert.equal(config.peering.max_outbound, 21);
    assert.equal(config.peering.ban_seconds, 33);
    assert.deepEqual(origins['peering.max_inbound'], { source: 'file', file });
    assert.deepEqual(origins['peering.max_outbound'], { source: 'env', name: 'CAIRN_PEERING_MAX_OUTBOUND' });
    assert.deepEqual(origins['peering.ban_seconds'], { source: 'flag', name: '--peering.ban_seconds' });
    assert.deepEqual(origins['peering.request_timeout_ms'], { source: 'default' });
  });

  it('env var names derive from the dotted key', () => {
    assert.equal(envName('peering.max_inbound'), 'CAIRN_PEERING_MAX_INBOUND');
    assert.equal(envName('data_dir'), 'CAIRN_DATA_DIR');
    const keys = flattenSchema(NODE_SCHEMA).map((f) => [f.key, f.env]);
    assert.ok(keys.some(([k, e]) => k === 'log.level' && e === 'CAIRN_LOG_LEVEL'));
  });

  it('parses env text: lists, booleans, integers, connect entries; empty means unset', () => {
    const { config, origins } = load({
      env: {
        CAIRN_PEERING_LISTEN: ' 127.0.0.1:1, [::1]:2 ,',
        CAIRN_STORAGE_DURABLE: 'no',
        CAIRN_RESERVOIR_MAX_MB: '1_000',
        CAIRN_PEERING_CONNECT: `${K1}@node1:2136,${K2}@[2001:db8::1]:2136`,
        CAIRN_PEERING_ALLOW: '',
        CAIRN_LOG_LEVEL: '',
      },
    });
    assert.deepEqual(config.peering.listen, ['127.0.0.1:1', '[::1]:2']);
    assert.equal(config.storage.durable, false);
    assert.equal(config.reservoir.max_mb, 1000);
    assert.deepEqual(config.peering.connect, [
      { address: 'node1:2136', key: K1 },
      { address: '[2001:db8::1]:2136', key: K2 },
    ]);
    assert.equal(config.peering.allow, null);
    assert.equal(config.log.level, 'info');
    assert.deepEqual(origins['log.level'], { source: 'default' });
    assert.deepEqual(load({ env: { CAIRN_PEERING_LISTEN: '' } }).config.peering.listen, []);
  });

  it('flags: typed values, strings parsed like env, nested or dotted, yargs argv', () => {
    const { config } = load({
      flags: {
        'peering.max-inbound': '7',
        log: { level: 'debug' },
        'peering.listen': ['[::]:5'],
        'storage.durable': false,
      },
    });
    assert.equal(config.peering.max_inbound, 7);
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.peering.listen, ['[::]:5']);
    assert.equal(config.storage.durable, false);
    const argv = {
      _: [],
      $0: 'cairnd',
      config: '/etc/cairnd.toml',
      'data-dir': '/data',
      dataDir: '/data',
      peering: { max_inbound: 9, 'max-outbound': 2, maxOutbound: 2 },
      verbose: undefined,
    };
    const flags = flagsFromArgv(NODE_SCHEMA, argv);
    assert.deepEqual(flags, { data_dir: '/data', 'peering.max_inbound': 9, 'peering.max_outbound': 2 });
    assert.equal(load({ flags }).config.peering.max_outbound, 2);
  });

  it('warns about CAIRN_* variables that look like a misspelt setting', () => {
    const { warnings } = load({
      env: { CAIRN_PEERING_MAX_INBOUD: '3', CAIRN_RPC_PASSWORD: 'x', PATH: '/bin' },
    });
    assert.deepEqual(warnings, [
      'environment variable CAIRN_PEERING_MAX_INBOUD is not a setting of this program (did you mean CAIRN_PEERING_MAX_INBOUND?)',
    ]);
  });
});

describe('errors name the key, the source, what was expected and what came', () => {
  it('unknown keys in the file, with the closest known key', () => {
    const f1 = toml('[peering]\nmax_inboud = 3\n');
    const e = throwsConfig(
      () => load({ file: f1 }),
      'config-unknown-key',
      f1,
      '"peering.max_inboud"',
      'did you mean "peering.max_inbound"?',
    );
    assert.equal(e.key, 'peering.max_inboud');
    const f2 = toml('max_inbound = 3\n');
    throwsConfig(() => load({ file: f2 }), 'config-unknown-key', '"max_inbound"', '"peering.max_inbound"');
    const f3 = toml('[peer]\nlisten = ["1.2.3.4:5"]\n');
    throwsConfig(() => load({ file: f3 }), 'config-unknown-key', '"peer.listen"', '"peering.listen"');
    const f4 = toml('completely_unrelated_thing = 1\n');
    const e4 = throwsConfig(() => load({ file: f4 }), 'config-unknown-key', 'completely_unrelated_thing');
    assert.ok(!e4.message.includes('did you mean'));
    throwsConfig(
      () => load({ flags: { 'peering.max_inbond': 1 } }),
      'config-unknown-key',
      '--peering.max_inbond',
      '--peering.max_inbound',
    );
  });

  it('wrong types from the file', () => {
    const f = toml('[peering]\nmax_inbound = "32"\n');
    const e = throwsConfig(
      () => load({ file: f }),
      'config-invalid-value',
      `peering.max_inbound in ${f}: expected an integer from 0 to 10000, got "32" (a string)`,
    );
    assert.equal(e.key, 'peering.max_inbound');
    assert.deepEqual(e.origin, { source: 'file', file: f });
    throwsConfig(
      () => load({ file: toml('[storage]\ndurable = "yes"\n') }),
      'config-invalid-value',
      'storage.durable',
      'a boolean',
      '"yes" (a string)',
    );
    throwsConfig(
      () => load({ file: toml('[peering]\nmax_inbound = 1.5\n') }),
      'config-invalid-value',
      '1.5 (a float)',
    );
    throwsConfig(
      () => load({ file: toml('[peering]\nmax_inbound = 10001\n') }),
      'config-invalid-value',
      'from 0 to 10000, got 10001 (an integer)',
    );
    throwsConfig(
      () => load({ file: toml('network = "mainnet"\n') }),
      'config-invalid-value',
      'network',
      'one of "main", "test", "local"',
      '"mainnet"',
    );
    throwsConfig(
      () => load({ file: toml('[rpc]\nauth = ["alice:secret"]\n') }),
      'config-invalid-value',
      'rpc.auth[0]',
      'cairnd gen-rpcauth USER',
    );
    const entry = `alice:00ff$${'ab'.repeat(32)}`;
    assert.deepEqual(load({ file: toml(`[rpc]\nauth = ["${entry}"]\n`) }).config.rpc.auth, [entry]);
    throwsConfig(
      () => load({ file: toml('peering = 3\n') }),
      'config-invalid-value',
      'peering',
      'expected a table',
      '3 (an integer)',
    );
    throwsConfig(
      () => load({ file: toml('[peering]\nlisten = "0.0.0.0:1"\n') }),
      'config-invalid-value',
      'peering.listen',
      'a list',
      '(a string)',
    );
    throwsConfig(
      () => load({ file: toml('[peering]\nlisten = ["0.0.0.0:1", "localhost:2"]\n') }),
      'config-invalid-value',
      'peering.listen[1]',
      'ip:port',
      '"localhost:2"',
    );
    throwsConfig(
      () => load({ file: toml('data_dir = 1979-05-27\n') }),
      'config-invalid-value',
      'data_dir',
      '(a date)',
    );
  });

  it('wrong types from env and flags name the variable and the flag', () => {
    throwsConfig(
      () => load({ env: { CAIRN_PEERING_MAX_INBOUND: 'lots' } }),
      'config-invalid-value',
      'peering.max_inbound from environment variable CAIRN_PEERING_MAX_INBOUND: expected an integer from 0 to 10000, got "lots"',
    );
    throwsConfig(
      () => load({ env: { CAIRN_STORAGE_DURABLE: 'maybe' } }),
      'config-invalid-value',
      'CAIRN_STORAGE_DURABLE',
      'true/false',
      '"maybe"',
    );
    throwsConfig(
      () => load({ env: { CAIRN_PEERING_ALLOW: `${K1},nope` } }),
      'config-invalid-value',
      'peering.allow[1]',
      'CAIRN_PEERING_ALLOW',
      'Z85',
    );
    throwsConfig(
      () => load({ flags: { 'peering.max_outbound': -1 } }),
      'config-invalid-value',
      'peering.max_outbound from flag --peering.max_outbound: expected an integer from 0 to 1000, got -1 (an integer)',
    );
    throwsConfig(
      () => load({ flags: { 'verify.workers': 'auto' } }),
      'config-invalid-value',
      '--verify.workers',
      '"auto"',
    );
  });

  it('a bad value in the file is an error even when env overrides it', () => {
    const f = toml('[peering]\nmax_inbound = "x"\n');
    throwsConfig(() => load({ file: f, env: { CAIRN_PEERING_MAX_INBOUND: '3' } }), 'config-invalid-value', f);
  });

  it('TOML syntax errors give file, line and column', () => {
    const f = toml('network = "main"\n[peering]\nmax_inbound = = 3\n');
    const e = throwsConfig(() => load({ file: f }), 'config-syntax', `${f}:3:`, 'TOML syntax error');
    assert.match(e.message, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: `));
    const f2 = toml('[storage]\ndurable = true\n\n[storage]\nmap_size_gb = 1\n');
    throwsConfig(() => load({ file: f2 }), 'config-syntax', `${f2}:4:`);
    throwsConfig(() => load({ file: join(root, 'absent.toml') }), 'config-file-missing', 'absent.toml');
  });

  it('connect entries are validated one by one', () => {
    const good = toml(
      `[[peering.connect]]\naddress = "10.0.0.1:2136"\nkey = "${K1}"\n\n[[peering.connect]]\naddress = "[fe80::1]:2136"\nkey = "${K2}"\n`,
    );
    assert.deepEqual(load({ file: good }).config.peering.connect, [
      { address: '10.0.0.1:2136', key: K1 },
      { address: '[fe80::1]:2136', key: K2 },
    ]);
    const badKey = toml(
      `[[peering.connect]]\naddress = "10.0.0.1:2136"\nkey = "${K1}"\n\n[[peering.connect]]\naddress = "10.0.0.2:2136"\nkey = "not-a-key"\n`,
    );
    const e = throwsConfig(
      () => load({ file: badKey }),
      'config-invalid-value',
      'peering.connect[1].key',
      badKey,
      'Z85',
      '"not-a-key"',
    );
    assert.equal(e.key, 'peering.connect[1].key');
    throwsConfig(
      () => load({ file: toml(`[[peering.connect]]\nkey = "${K1}"\n`) }),
      'config-invalid-value',
      'peering.connect[0].address',
      'missing',
    );
    throwsConfig(
      () => load({ file: toml(`[[peering.connect]]\naddress = "a:1"\nkey = "${K1}"\nkye = "x"\n`) }),
      'config-unknown-key',
      'peering.connect[0].kye',
    );
    throwsConfig(
      () => load({ file: toml(`[[peering.connect]]\naddress = "10.0.0.1:0"\nkey = "${K1}"\n`) }),
      'config-invalid-value',
      'peering.connect[0].address',
      'port 1-65535',
    );
    throwsConfig(
      () => load({ env: { CAIRN_PEERING_CONNECT: `${K1}@a:1,garbage` } }),
      'config-invalid-value',
      'peering.connect[1]',
      'KEY@ADDRESS',
    );
  });
});

describe('addresses', () => {
  it('parses IPv4, bracketed IPv6 and (where allowed) host names', () => {
    assert.deepEqual(parseAddress('127.0.0.1:2136'), { host: '127.0.0.1', port: 2136, family: 4 });
    assert.deepEqual(parseAddress('[::1]:2136'), { host: '::1', port: 2136, family: 6 });
    assert.deepEqual(parseAddress('[2001:DB8::7]:1'), { host: '2001:db8::7', port: 1, family: 6 });
    assert.deepEqual(parseAddress('[fe80::1%eth0]:65535')?.family, 6);
    assert.deepEqual(parseAddress('Node-1.example:80', { hostnames: true }), {
      host: 'node-1.example',
      port: 80,
      family: 'name',
    });
    for (const bad of [
      '::1:2136',
      '[::1]',
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '127.0.0.1:08',
      '256.0.0.1:1',
      '1.2.3:4',
      '[127.0.0.1]:1',
      '[::g]:1',
      'host:1',
      ':1',
      '1.2.3.4: 5',
    ])
      assert.equal(parseAddress(bad), undefined, bad);
    for (const bad of ['-host:1', 'a_b:1', 'a..b:1', '1.2.3.400:5'])
      assert.equal(parseAddress(bad, { hostnames: true }), undefined, bad);
    assert.equal(addressToEndpoint('[::1]:2136'), 'tcp://[::1]:2136');
    const c = load({
      flags: { 'peering.listen': '[::]:2136, 0.0.0.0:2136', 'peering.announce': 'seed.example:2136' },
    }).config;
    assert.deepEqual(c.peering.listen, ['[::]:2136', '0.0.0.0:2136']);
    assert.deepEqual(c.peering.announce, ['seed.example:2136']);
  });
});

describe('the schema machinery', () => {
  it('a default can be computed from fields resolved before it', () => {
    const schema = {
      base: field(integerType(), 10, 'base'),
      derived: { twice: field(integerType(), (c) => (c.get('base') as number) * 2, 'twice base') },
      many: field(listType(integerType({ min: 0 })), [], 'numbers'),
    };
    const a = loadConfig(schema, { env: {} });
    assert.equal(a.config.derived.twice, 20);
    const b = loadConfig(schema, { env: { CAIRN_BASE: '4', CAIRN_MANY: '1,2' } });
    assert.equal(b.config.derived.twice, 8);
    assert.deepEqual(b.config.many, [1, 2]);
    throwsConfig(
      () => loadConfig(schema, { env: { CAIRN_MANY: '1,-2' } }),
      'config-invalid-value',
      'many[1]',
      'CAIRN_MANY',
      '>= 0',
      '"-2"',
    );
  });
});
