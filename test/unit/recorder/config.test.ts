/**
 * cairn-recorder's configuration: the sample validates and shows every key; payout addresses are
 * checked against each node's network; node tables from TOML and from text (env/flags).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import {
  loadRecorderConfig,
  RECORDER_SCHEMA,
  recorderNodes,
} from '../../../shared/config/recorder-config.ts';
import { ConfigError, flattenSchema } from '../../../shared/config/schema.ts';
import { encodeAddress } from '../../../shared/core/address.ts';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const samplePath = join(root, 'config/cairn-recorder.sample.toml');
const sample = readFileSync(samplePath, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'cairn-recorder-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const KEY = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'; // contains '@'
const owner = new Uint8Array(20).fill(9);
const MAIN_ADDR = encodeAddress('cairn', owner);
const TEST_ADDR = encodeAddress('tcairn', owner);
const LOCAL_ADDR = encodeAddress('lcairn', owner);

let n = 0;
function load(toml: string, env: Record<string, string> = {}) {
  const p = join(tmp, `c${n++}.toml`);
  writeFileSync(p, toml);
  return loadRecorderConfig({ file: p, env, home: homedir() });
}

function configError(fn: () => unknown, key: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.key, key, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const node = (extra = '') =>
  `[[nodes]]\njobs = "127.0.0.1:22138"\nsubmit = "127.0.0.1:22139"\nkey = ${JSON.stringify(KEY)}\n${extra}`;

describe('recorder configuration', () => {
  it('the sample validates', () => {
    const c = loadRecorderConfig({ file: samplePath, env: {}, home: homedir() }).config;
    assert.equal(c.nodes.length, 1);
    assert.equal(c.workers, -1);
    assert.equal(c.cpu_percent, 100);
    assert.equal(c.identity.name, 'recorder');
    assert.equal(recorderNodes(c)[0]!.payout.length, 20);
  });

  it('every schema key is in the sample, and its commented examples validate too', () => {
    const on = sample.replace(/^# ((?:[a-z_]+ = .*)|(?:\[\[?[a-z_.]+\]\]?))$/gm, '$1');
    const doc = parse(on) as Record<string, unknown>;
    const present = new Set<string>();
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === 'object' && v !== null && !Array.isArray(v))
          walk(v as Record<string, unknown>, `${prefix + k}.`);
        else present.add(prefix + k);
      }
    };
    walk(doc, '');
    const missing = flattenSchema(RECORDER_SCHEMA)
      .map((f) => f.key)
      .filter((k) => !present.has(k));
    assert.deepEqual(missing, []);
    const all = load(on).config;
    assert.equal(all.nodes.length, 2);
    assert.equal(all.nodes[1]!.network, 'test');
    assert.equal(all.nodes[1]!.payout?.startsWith('tcairn1'), true);
  });

  it('node tables: network defaults to main; a node may override the payout', () => {
    const c = load(
      `payout = "${MAIN_ADDR}"\n${node()}\n${node(`network = "local"\npayout = "${LOCAL_ADDR}"`)}`,
    ).config;
    assert.equal(c.nodes[0]!.network, 'main');
    assert.equal(c.nodes[0]!.payout, null);
    const r = recorderNodes(c);
    assert.equal(r[0]!.jobsEndpoint, 'tcp://127.0.0.1:22138');
    assert.equal(r[0]!.submitEndpoint, 'tcp://127.0.0.1:22139');
    assert.equal(r[0]!.nodeKey, KEY);
    assert.deepEqual([...r[1]!.payout], [...owner]);
  });

  it("refuses a payout address of another network, naming the key and the node's network", () => {
    configError(
      () => load(`payout = "${MAIN_ADDR}"\n${node('network = "test"')}`),
      'payout',
      /not an address of network test .*tcairn1/,
    );
    configError(
      () =>
        load(
          `payout = "${TEST_ADDR}"\n${node('network = "test"')}\n${node(`network = "local"\npayout = "${MAIN_ADDR}"`)}`,
        ),
      'nodes[1].payout',
      /not an address of network local .*lcairn1/,
    );
    configError(
      () => load(`payout = "cairn1notanaddress"\n${node()}`),
      'payout',
      /not an address of network main/,
    );
  });

  it('refuses a node without a payout, no node at all, and 0 workers', () => {
    configError(() => load(node()), 'payout', /payout: missing/);
    configError(() => load(`payout = "${MAIN_ADDR}"`), 'nodes', /no node to mine for/);
    configError(() => load(`payout = "${MAIN_ADDR}"\nworkers = 0\n${node()}`), 'workers', /0 workers/);
    configError(() => load(`payout = "${MAIN_ADDR}"\ncpu_percent = 0\n${node()}`), 'cpu_percent', /1 to 100/);
    configError(
      () => load(`payout = "${MAIN_ADDR}"\ncpu_percent = 101\n${node()}`),
      'cpu_percent',
      /1 to 100/,
    );
  });

  it('names the bad key inside a node table', () => {
    configError(() => load(`payout = "${MAIN_ADDR}"\n${node('port = 1')}`), 'nodes[0].port', /unknown key/);
    configError(
      () => load(`payout = "${MAIN_ADDR}"\n[[nodes]]\njobs = "127.0.0.1:1"\nsubmit = "127.0.0.1:2"`),
      'nodes[0].key',
      /missing/,
    );
    configError(
      () => load(`payout = "${MAIN_ADDR}"\n${node('network = "moon"')}`),
      'nodes[0].network',
      /one of/,
    );
    configError(
      () =>
        load(
          `payout = "${MAIN_ADDR}"\n[[nodes]]\njobs = "nowhere"\nsubmit = "127.0.0.1:2"\nkey = ${JSON.stringify(KEY)}`,
        ),
      'nodes[0].jobs',
      /host:port/,
    );
  });

  it('reads nodes from the environment as KEY@JOBS@SUBMIT[@NETWORK]', () => {
    const c = load('', {
      CAIRN_PAYOUT: LOCAL_ADDR,
      CAIRN_NODES: `${KEY}@127.0.0.1:22138@127.0.0.1:22139@local, ${KEY}@[::1]:1@node1:2@local`,
    }).config;
    assert.equal(c.nodes.length, 2);
    assert.deepEqual(
      { ...c.nodes[0]! },
      { key: KEY, jobs: '127.0.0.1:22138', submit: '127.0.0.1:22139', network: 'local', payout: null },
    );
    assert.equal(c.nodes[1]!.jobs, '[::1]:1');
    assert.equal(c.nodes[1]!.submit, 'node1:2');
    configError(
      () => load('', { CAIRN_PAYOUT: MAIN_ADDR, CAIRN_NODES: 'nonsense' }),
      'nodes[0]',
      /KEY@JOBS@SUBMIT/,
    );
  });
});
