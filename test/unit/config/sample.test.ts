/**
 * config/cairnd.sample.toml and docs/configuration.md stay complete: every key of the schema is in
 * both, the sample validates, and what it shows are the real defaults.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { loadNodeConfig, NODE_SCHEMA } from '../../../shared/config/node-config.ts';
import { flattenSchema } from '../../../shared/config/schema.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const samplePath = join(root, 'config/cairnd.sample.toml');
const sample = readFileSync(samplePath, 'utf8');
const keys = flattenSchema(NODE_SCHEMA);
const tmp = mkdtempSync(join(tmpdir(), 'cairn-sample-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The sample with every commented-out setting (`# key = value`, `# [[table]]`) switched on. */
function uncommented(): string {
  return sample.replace(/^# ((?:[a-z_]+ = .*)|(?:\[\[?[a-z_.]+\]\]?))$/gm, '$1');
}

function leafKeys(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date))
      out.push(...leafKeys(v as Record<string, unknown>, `${prefix + k}.`));
    else out.push(prefix + k);
  }
  return out;
}

const defaults = loadNodeConfig({ env: {}, home: homedir() });

it('the sample validates and its live values are the defaults', () => {
  const loaded = loadNodeConfig({ file: samplePath, env: {}, home: homedir() });
  assert.deepEqual(loaded.config, defaults.config);
  assert.ok(Object.values(loaded.origins).some((o) => o.source === 'file'));
});

it('every schema key is in the sample, live or commented, and the commented values validate', () => {
  const p = join(tmp, 'all.toml');
  writeFileSync(p, uncommented());
  const present = new Set(leafKeys(parse(uncommented()) as Record<string, unknown>));
  const missing = keys.map((k) => k.key).filter((k) => !present.has(k));
  assert.deepEqual(missing, [], 'keys missing from config/cairnd.sample.toml');
  const all = loadNodeConfig({ file: p, env: {}, home: homedir() });
  // examples of optional settings differ from the defaults; everything else is the default for main
  const examples = new Set([
    'peering.allow',
    'peering.allow_dir',
    'peering.connect',
    'proof.recorders_dir',
    'feed.subscribers_dir',
    'feed.publish',
    'discovery.servers',
    'storage.min_free_mb',
  ]);
  for (const { key } of keys) {
    assert.equal(all.origins[key]?.source, 'file', key);
    if (examples.has(key)) continue;
    const get = (c: unknown) => key.split('.').reduce((o, k) => (o as Record<string, unknown>)[k], c);
    assert.deepEqual(get(all.config), get(defaults.config), `sample value of ${key} is not its default`);
  }
  assert.equal(all.config.peering.connect.length, 1);
});

it('docs/configuration.md lists every key with its environment variable', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const missing = keys.filter((k) => !doc.includes(`| \`${k.key}\` | \`${k.env}\` |`)).map((k) => k.key);
  assert.deepEqual(missing, [], 'keys missing from the table of docs/configuration.md');
});
