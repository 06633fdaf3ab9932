/**
 * cairn-discovery's configuration: the sample validates with the defaults, names every key, and
 * the network moves the default ports like cairnd's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DISCOVERY_SCHEMA, loadDiscoveryConfig } from '../../../shared/config/discovery-config.ts';
import { ConfigError, flattenSchema } from '../../../shared/config/schema.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const samplePath = join(root, 'config/cairn-discovery.sample.toml');

it('the sample validates, shows the defaults and names every key', () => {
  const defaults = loadDiscoveryConfig({ env: {}, home: homedir() });
  const loaded = loadDiscoveryConfig({ file: samplePath, env: {}, home: homedir() });
  assert.deepEqual(loaded.config, defaults.config);
  const text = readFileSync(samplePath, 'utf8');
  const missing = flattenSchema(DISCOVERY_SCHEMA)
    .map((k) => k.key.split('.').pop()!)
    .filter((leaf) => !new RegExp(`^(# )?${leaf} = `, 'm').test(text));
  assert.deepEqual(missing, []);
});

it('ports follow the network (2140/2141 main, +10000 test, +20000 local)', () => {
  const at = (network: string) => loadDiscoveryConfig({ env: { CAIRN_NETWORK: network }, home: '/h' }).config;
  assert.deepEqual([at('main').listen, at('main').events_listen], [['0.0.0.0:2140'], ['0.0.0.0:2141']]);
  assert.deepEqual(at('test').listen, ['0.0.0.0:12140']);
  assert.deepEqual([at('local').listen, at('local').events_listen], [['0.0.0.0:22140'], ['0.0.0.0:22141']]);
  assert.equal(at('local').data_dir, '/h/.cairn/discovery/local');
});

it('bad values are refused naming the key', () => {
  assert.throws(
    () => loadDiscoveryConfig({ env: { CAIRN_EXPIRY_SECONDS: '1' }, home: '/h' }),
    (e: unknown) => e instanceof ConfigError && /expiry_seconds/.test(e.message),
  );
});
