/**
 * Bitcoin Core compatibility of cairnd's JSON-RPC (issue 13), checked with clients nobody here
 * wrote: python3's urllib sending Core's documented curl request (`"jsonrpc": "1.0"`,
 * `content-type: text/plain;`), and Debian's python3-jsonrpclib-pelix (a stock JSON-RPC client,
 * in both its 1.0 and 2.0 modes; skipped, saying why, when it is not installed). Also: two nodes
 * connected both ways are listed by getpeerinfo inbound and outbound, the .rpcaddress file, Core's
 * getmempoolinfo/getblockchaininfo fields, and a port in use.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-core-compat-');
const nodes: NodeProcess[] = [];
let a: NodeProcess;
let b: NodeProcess;

before(async () => {
  a = await makeNode({ name: 'a', root: root.path });
  await a.start();
  nodes.push(a);
  b = await makeNode({ name: 'b', root: root.path, connect: [{ address: a.address, key: a.key }] });
  await b.start();
  nodes.push(b);
});
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

/** Runs a python3 program with `args`; returns its stdout parsed as JSON. */
function python(exe: string, program: string, args: string[]): unknown {
  const r = spawnSync(exe, ['-c', program, ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const cookie = (n: NodeProcess) => readFileSync(join(n.dir, '.cookie'), 'utf8').trim();

/** Posts `body` as Core's curl example does (text/plain, basic auth); prints status and body. */
const URLLIB = `
import base64, json, sys, urllib.request, urllib.error
url, auth, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode(), method='POST', headers={
    'content-type': 'text/plain;',
    'authorization': 'Basic ' + base64.b64encode(auth.encode()).decode()})
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        status, text = r.status, r.read().decode()
except urllib.error.HTTPError as e:
    status, text = e.code, e.read().decode()
print(json.dumps({'status': status, 'body': json.loads(text) if text else None}))
`;

function core(n: NodeProcess, body: unknown): { status: number; body: Record<string, unknown> } {
  return python('python3', URLLIB, [
    `http://127.0.0.1:${n.rpcPort}/`,
    cookie(n),
    typeof body === 'string' ? body : JSON.stringify(body),
  ]) as { status: number; body: Record<string, unknown> };
}

describe('Bitcoin Core compatibility of the JSON-RPC', { timeout: 180_000 }, () => {
  it("answers Core's documented curl call (1.0, text/plain) in the 1.0 envelope", () => {
    const r = core(a, { jsonrpc: '1.0', id: 'curltest', method: 'getblockchaininfo', params: [] });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['error', 'id', 'result']);
    assert.equal(r.body.error, null);
    assert.equal(r.body.id, 'curltest');
    const info = r.body.result as Record<string, unknown>;
    assert.equal(info.chain, 'local');
    assert.equal(info.pruned, false);
    assert.ok(typeof info.size_on_disk === 'number' && info.size_on_disk > 0, String(info.size_on_disk));
    assert.ok(Array.isArray(info.warnings));
  });

  it('gives a 1.0 request without jsonrpc the same envelope, errors with Core’s HTTP status', () => {
    const ok = core(a, { id: 7, method: 'getblockcount', params: [] });
    assert.deepEqual(ok, { status: 200, body: { result: 0, error: null, id: 7 } });
    const missing = core(a, { jsonrpc: '1.0', id: 1, method: 'nosuchmethod', params: [] });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.result, null);
    assert.equal((missing.body.error as { code: number }).code, -32601);
    assert.equal(missing.body.id, 1);
    const notHex = core(a, { jsonrpc: '1.0', id: 2, method: 'sendrawtransaction', params: ['zz'] });
    assert.equal(notHex.status, 500);
    assert.equal((notHex.body.error as { code: number }).code, -22);
    const decode = core(a, { jsonrpc: '1.0', id: 3, method: 'decoderawtransaction', params: ['0g'] });
    assert.equal((decode.body.error as { code: number }).code, -22);
    const bad = core(a, { jsonrpc: '1.0', id: 4, method: 'getblockhash', params: [99] });
    assert.equal(bad.status, 500);
    assert.equal((bad.body.error as { code: number }).code, -8);
    const garbage = core(a, '{"method":');
    assert.equal(garbage.status, 500);
    assert.equal((garbage.body.error as { code: number }).code, -32700);
  });

  it('answers 2.0 requests strictly, with HTTP 200 for errors, and a mixed batch in each dialect', () => {
    const two = core(a, { jsonrpc: '2.0', id: 'x', method: 'nosuchmethod' });
    assert.equal(two.status, 200);
    assert.equal(two.body.jsonrpc, '2.0');
    assert.equal(Object.hasOwn(two.body, 'result'), false);
    const batch = python('python3', URLLIB, [
      `http://127.0.0.1:${a.rpcPort}/`,
      cookie(a),
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'getblockcount' },
        { jsonrpc: '1.0', id: 2, method: 'getblockcount' },
        { id: 3, method: 'nosuchmethod' },
        { jsonrpc: '2.0', method: 'getblockcount' },
      ]),
    ]) as { status: number; body: unknown[] };
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.body, [
      { jsonrpc: '2.0', result: 0, id: 1 },
      { result: 0, error: null, id: 2 },
      { result: null, error: { code: -32601, message: 'method not found: nosuchmethod' }, id: 3 },
    ]);
  });

  it("works with Debian's python3-jsonrpclib-pelix in 1.0 and 2.0 modes", (t) => {
    const exe = '/usr/bin/python3';
    if (!existsSync(exe) || spawnSync(exe, ['-c', 'import jsonrpclib'], { encoding: 'utf8' }).status !== 0) {
      t.skip(
        'python3-jsonrpclib-pelix is not installed (apt-get install python3-jsonrpclib-pelix, see .ci/run)',
      );
      return;
    }
    const program = `
import json, sys
import jsonrpclib
from jsonrpclib.config import Config
url = sys.argv[1]
out = {}
for version in ('1.0', '2.0'):
    proxy = jsonrpclib.ServerProxy(url, config=Config(version=float(version)))
    res = {'count': proxy.getblockcount(), 'info': proxy.getblockchaininfo()['chain']}
    try:
        proxy.nosuchmethod()
        res['error'] = None
    except jsonrpclib.ProtocolError as e:
        res['error'] = str(e)
    except Exception as e:
        res['error'] = type(e).__name__ + ': ' + str(e)
    out[version] = res
print(json.dumps(out))
`;
    const url = `http://${encodeURIComponent('__cookie__')}:${cookie(a).split(':')[1]}@127.0.0.1:${a.rpcPort}/`;
    const r = python(exe, program, [url]) as Record<string, { count: number; info: string; error: string }>;
    for (const v of ['1.0', '2.0']) {
      assert.equal(r[v]!.count, 0, v);
      assert.equal(r[v]!.info, 'local', v);
    }
    // 1.0: HTTP 404, as bitcoind sends it (the client raises on the status); 2.0: the error object
    assert.match(r['1.0']!.error, /, 404, /);
    assert.match(r['2.0']!.error, /-32601|method not found/i);
  });

  it('getpeerinfo lists inbound peers as well as outbound, with Core’s fields', async () => {
    // b dials a; a dials b back: each has one outbound and one inbound peer
    await eventually('both sides see two connections', async () => {
      const [ca, cb] = [
        await rpcResult<number>(a, 'getconnectioncount'),
        await rpcResult<number>(b, 'getconnectioncount'),
      ];
      return ca === 2 && cb === 2;
    });
    await rpcResult(a, 'getblockchaininfo'); // some traffic
    const peers = await rpcResult<Record<string, unknown>[]>(a, 'getpeerinfo');
    assert.equal(peers.length, await rpcResult<number>(a, 'getconnectioncount'));
    assert.deepEqual(peers.map((p) => p.inbound).sort(), [false, true]);
    for (const p of peers) {
      assert.equal(p.key, b.key);
      for (const f of [
        'id',
        'conntime',
        'lastsend',
        'lastrecv',
        'bytessent',
        'bytesrecv',
        'startingheight',
        'version',
        'synced_headers',
        'synced_blocks',
      ])
        assert.equal(typeof p[f], 'number', `${f} of ${JSON.stringify(p)}`);
      assert.equal(typeof p.subver, 'string');
      assert.equal(typeof p.addr, 'string');
      assert.ok((p.bytessent as number) > 0 && (p.bytesrecv as number) > 0, JSON.stringify(p));
      assert.ok((p.conntime as number) > 1_600_000_000);
    }
    assert.equal(new Set(peers.map((p) => p.id)).size, peers.length);
  });

  it('getmempoolinfo has Core’s names (and Cairn’s held)', async () => {
    const m = await rpcResult<Record<string, unknown>>(a, 'getmempoolinfo');
    for (const f of [
      'loaded',
      'size',
      'bytes',
      'usage',
      'total_fee',
      'maxmempool',
      'mempoolminfee',
      'minrelaytxfee',
      'unbroadcastcount',
      'held',
    ])
      assert.ok(Object.hasOwn(m, f), `${f} missing: ${JSON.stringify(m)}`);
    assert.equal(m.loaded, true);
    assert.equal(m.size, 0);
    assert.equal(m.total_fee, 0);
  });

  it('writes .rpcaddress (0644) beside .cookie and removes both at stop', async () => {
    const file = join(b.dir, '.rpcaddress');
    assert.equal(readFileSync(file, 'utf8'), `127.0.0.1:${b.rpcPort}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(await b.stop(), 0);
    assert.equal(existsSync(file), false);
    assert.equal(existsSync(join(b.dir, '.cookie')), false);
  });

  it('a taken port is one line naming the setting, exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      for (const [section, key] of [
        ['rpc', 'listen'],
        ['metrics', 'listen'],
        ['feed', 'listen'],
        ['peering', 'listen'],
      ] as const) {
        const n = await makeNode({ name: `busy-${section}`, root: root.path });
        const toml = readFileSync(n.configPath, 'utf8').replace(
          new RegExp(`(\\[${section}\\]\\n${key} = )\\["127\\.0\\.0\\.1:\\d+"\\]`),
          `$1["127.0.0.1:${port}"]`,
        );
        assert.notEqual(toml, readFileSync(n.configPath, 'utf8'), `no ${section}.${key} in the config`);
        writeFileSync(n.configPath, toml);
        const run = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            join(import.meta.dirname, '../../services/node/main.ts'),
            'start',
            '--config',
            n.configPath,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        assert.equal(run.status, 2, `${section}: ${run.stderr}\n${run.stdout}`);
        assert.equal(
          run.stderr.trim(),
          `cairnd: ${section}.${key} 127.0.0.1:${port} is already in use (another cairnd? change ${section}.${key})`,
        );
        assert.doesNotMatch(run.stderr + run.stdout, /at .*\.ts:\d+/);
      }
    } finally {
      blocker.close();
    }
  });
});
