/**
 * REST, the web explorer and Prometheus /metrics against a real cairnd process: REST returns what
 * JSON-RPC returns for the same object, bad parameters are 400 naming the parameter, unknown
 * objects 404, writes 405; the explorer is served and refers only to its own origin; a scrape is
 * valid exposition text whose figures follow mining, RPC calls and a recorder's shares.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subscriber } from 'zeromq';
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import { MINT } from '../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../helpers/chain.ts';
import {
  eventually,
  makeNode,
  makeRecorder,
  makeRecorderIdentity,
  type NodeProcess,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpc, rpcResult } from '../helpers/rpc.ts';
import { heard } from '../helpers/subscriber.ts';

const root = tempDir('cairn-it-rest-');
const procs: NodeProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  root.remove();
});

const recorderId = makeRecorderIdentity(root.path, 'rec');
let node: NodeProcess;
const alice = makeKey();
const addr = encodeAddress(LOCAL.addressPrefix, alice.owner);

async function get(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown; res: Response }> {
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  if (text !== '' && (res.headers.get('content-type') ?? '').startsWith('application/json'))
    body = JSON.parse(text);
  return { status: res.status, body, res };
}

/** The samples of a Prometheus exposition text, checked line by line: `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        typed.add(meta[2]!);
      }
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/.exec(line);
    assert.ok(m !== null, `not an exposition line: ${line}`);
    const value = Number(m[3] === '+Inf' ? Number.POSITIVE_INFINITY : m[3]);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(m[3]!), `bad value: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]!) || typed.has(family), `sample before its TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, value);
  }
  return samples;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

describe('REST, explorer and /metrics', { timeout: 240_000 }, () => {
  let blocks: string[] = [];
  let regTxid = '';
  let bitmark = '';
  let fingerprint: Uint8Array;
  let pendingTxid = '';

  before(async () => {
    node = await makeNode({ name: 'n', root: root.path, recorders: [recorderId.publicKey] });
    await node.start();
    procs.push(node);
    blocks = await rpcResult<string[]>(node, 'generatetoaddress', [12, addr]);
    const first = await rpcResult<{ tx: { txid: string; vout: { value: number }[] }[] }>(node, 'getblock', [
      blocks[0],
      2,
    ]);
    const cb = first.tx[0]!;
    fingerprint = new TextEncoder().encode('sha256:rest-test');
    const reg = signed({
      version: 1,
      kind: 'asset',
      asset: { name: '<b>REST asset</b>', fingerprint, metadata: new Uint8Array([1, 2]) },
      inputs: [spend(alice, hashFromHex(cb.txid)!, 0)],
      outputs: [out(alice.owner, cb.vout[0]!.value - 10_000)],
    });
    await rpcResult(node, 'sendrawtransaction', [toHex(reg.raw)]);
    const issue = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fingerprint),
      inputs: [spend(alice, reg.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, cb.vout[0]!.value - 20_000)],
    });
    await rpcResult(node, 'sendrawtransaction', [toHex(issue.raw)]);
    blocks.push(...(await rpcResult<string[]>(node, 'generatetoaddress', [1, addr])));
    regTxid = hashToHex(reg.txid);
    bitmark = hashToHex(bitmarkIdOf(issue.txid, 0));
    // one transaction left in the mempool
    const second = await rpcResult<{ tx: { txid: string; vout: { value: number }[] }[] }>(node, 'getblock', [
      blocks[1],
      2,
    ]);
    const pending = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, hashFromHex(second.tx[0]!.txid)!, 0)],
      outputs: [out(alice.owner, second.tx[0]!.vout[0]!.value - 5_000)],
    });
    pendingTxid = await rpcResult<string>(node, 'sendrawtransaction', [toHex(pending.raw)]);
  });

  it('REST returns what JSON-RPC returns for the same object', async () => {
    const same = async (path: string, method: string, params: unknown[]) => {
      const r = await get(path);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(r.body, await rpcResult(node, method, params), path);
      return r.body;
    };
    await same('/rest/chaininfo', 'getblockchaininfo', []);
    await same('/rest/chaininfo.json', 'getblockchaininfo', []);
    await same(`/rest/block/${blocks[3]}`, 'getblock', [blocks[3], 2]);
    await same(`/rest/block/notxdetails/${blocks[3]}`, 'getblock', [blocks[3], 1]);
    await same('/rest/block-height/5', 'getblock', [blocks[4], 2]);
    await same('/rest/block-height/notxdetails/13.json', 'getblock', [blocks[12], 1]);
    await same(`/rest/tx/${regTxid}`, 'getrawtransaction', [regTxid, true]);
    await same(`/rest/tx/${pendingTxid}`, 'getrawtransaction', [pendingTxid, true]);
    const asset = (await same(`/rest/asset/${hashToHex(assetIdOf(fingerprint))}`, 'getasset', [
      hashToHex(assetIdOf(fingerprint)),
    ])) as { name: string };
    assert.equal(asset.name, '<b>REST asset</b>');
    await same('/rest/mempool/info', 'getmempoolinfo', []);
    const contents = await same('/rest/mempool/contents', 'getrawmempool', [true]);
    assert.deepEqual(Object.keys(contents as object), [pendingTxid]);
    await same('/rest/mempool/contents?verbose=false', 'getrawmempool', [false]);

    const a = await get(`/rest/address/${addr}`);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, {
      ...(await rpcResult<object>(node, 'getaddressinfo', [addr])),
      utxos: await rpcResult(node, 'listunspent', [addr, 1000]),
    });
    const b = await get(`/rest/bitmark/${bitmark}`);
    assert.equal(b.status, 200);
    assert.deepEqual(b.body, {
      ...(await rpcResult<object>(node, 'getbitmark', [bitmark])),
      provenance: await rpcResult(node, 'getprovenance', [bitmark]),
    });
    assert.equal((b.body as Record<string, unknown>).owner, addr);

    const h = await get(`/rest/headers/3/${blocks[0]}`);
    assert.equal(h.status, 200);
    assert.deepEqual(h.body, [
      await rpcResult(node, 'getblockheader', [blocks[0]]),
      await rpcResult(node, 'getblockheader', [blocks[1]]),
      await rpcResult(node, 'getblockheader', [blocks[2]]),
    ]);
    // past the tip: what there is
    assert.equal(((await get(`/rest/headers/2000/${blocks[10]}`)).body as unknown[]).length, 3);

    const head = await get('/rest/chaininfo', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.res.headers.get('content-length')) > 0);
  });

  it('bad parameters are 400 naming the parameter, unknown objects 404, writes 405', async () => {
    const bad = async (path: string, param: string) => {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      const body = r.body as { error: string; param: string };
      assert.equal(body.param, param, path);
      assert.ok(body.error.startsWith(`${param}:`), `${path}: ${body.error}`);
    };
    await bad('/rest/block/xyz', 'blockhash');
    await bad('/rest/block/notxdetails/12', 'blockhash');
    await bad('/rest/block-height/-1', 'height');
    await bad('/rest/block-height/abc', 'height');
    await bad('/rest/tx/zz', 'txid');
    await bad('/rest/asset/1234', 'assetid');
    await bad('/rest/bitmark/nothex', 'bitmarkid');
    await bad('/rest/address/not-an-address', 'address');
    await bad(`/rest/headers/0/${blocks[0]}`, 'count');
    await bad(`/rest/headers/2001/${blocks[0]}`, 'count');
    await bad('/rest/headers/5/abc', 'blockhash');
    await bad('/rest/mempool/contents?verbose=maybe', 'verbose');

    const zeros = '00'.repeat(32);
    for (const path of [
      `/rest/block/${zeros}`,
      `/rest/tx/${zeros}`,
      `/rest/asset/${zeros}`,
      `/rest/bitmark/${zeros}`,
      `/rest/headers/5/${zeros}`,
      '/rest/block-height/100000',
      '/rest/nothing',
      '/rest/chaininfo/extra',
      '/rest/',
    ]) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(typeof (r.body as { error: string }).error, 'string', path);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get('/rest/chaininfo', { method, body: method === 'DELETE' ? null : '{}' });
      assert.equal(r.status, 405, method);
      assert.equal(r.res.headers.get('allow'), 'GET, HEAD');
    }
    // JSON-RPC on / is as before: POST answers, a plain GET is 405
    assert.equal((await rpcResult<number>(node, 'getblockcount')) >= 13, true);
    assert.equal((await get('/')).status, 405);
    assert.equal((await rpc(node, 'getblockcount', [], '__cookie__:wrong')).status, 401);
  });

  it('serves the explorer, which refers only to its own origin', async () => {
    const page = await get('/explorer/');
    assert.equal(page.status, 200);
    assert.match(page.res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const html = page.body as string;
    const fromBrowser = await get('/', { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(fromBrowser.status, 200);
    assert.equal(fromBrowser.body, html);
    const refs = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 3);
    for (const ref of refs) assert.ok(/^(\/[^/]|#)/.test(ref), `not same-origin: ${ref}`);
    for (const ref of refs.filter((r) => r.startsWith('/'))) {
      const r = await get(ref);
      assert.equal(r.status, 200, ref);
      if (typeof r.body !== 'string') continue; // the REST link in the footer
      // an SVG namespace and a library's license banner name no place to fetch from
      const code = r.body
        .replace(/xmlns="http:\/\/www\.w3\.org\/[^"]*"/g, '')
        .replace(/\/\*![\s\S]*?\*\//g, '');
      assert.doesNotMatch(code, /https?:\/\/|["'`]\/\/[a-z]/i, `${ref} names another origin`);
    }
    const js = (await get('/explorer/explorer.js')).body as string;
    assert.match(js, /fetch\(`\/rest\//);
    assert.doesNotMatch(js, /innerHTML/);
    assert.doesNotThrow(() => new Function(js), 'the script parses');
    assert.equal((await get('/explorer/nope.js')).status, 404);
  });

  it('/metrics: valid exposition text whose figures follow mining and RPC calls', async () => {
    const s1 = await scrape();
    for (const name of [
      'cairn_chain_height',
      'cairn_peers{direction="inbound"}',
      'cairn_peers{direction="outbound"}',
      'cairn_peers_banned',
      'cairn_mempool_transactions',
      'cairn_mempool_bytes',
      'cairn_block_validation_seconds_count{stage="connect"}',
      'cairn_block_validation_seconds_count{stage="check"}',
      'cairn_blocks_connected_total',
      'cairn_blocks_prepared_total',
      'cairn_sync_commits_total',
      'cairn_sync_blocks_helped_total',
      'cairn_reorgs_total',
      'cairn_bans_total',
      'cairn_rpc_requests_total{method="generatetoaddress",status="ok"}',
      'cairn_feed_messages_total{topic="hashblock"}',
      'cairn_feed_dropped_total',
      'cairn_headers_height',
      'cairn_sync_stalled',
      'cairn_warnings',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(s1.has(name), `missing ${name}`);
    }
    assert.equal(s1.get('cairn_chain_height'), 13);
    assert.equal(s1.get('cairn_mempool_transactions'), 1);
    assert.ok(s1.get('cairn_mempool_bytes')! > 0);
    assert.equal(s1.get('cairn_reorgs_total'), 0);
    assert.equal(s1.get('cairn_feed_dropped_total'), 0);
    assert.equal(s1.get('cairn_headers_height'), 13);
    assert.equal(s1.get('cairn_sync_stalled'), 0);
    assert.equal(s1.get('cairn_warnings'), 0);

    // the feed publishes only topics someone subscribes to (its socket is an XPUB): 'hash' covers
    // hashblock and hashtx, not rawblock
    assert.equal(s1.get('cairn_feed_messages_total{topic="rawblock"}'), 0);
    const sub = new Subscriber();
    const subscribed = heard(sub, 'the feed subscriber');
    sub.connect(`tcp://127.0.0.1:${node.feedPort}`);
    sub.subscribe('hash');
    await subscribed;
    await rpcResult(node, 'generatetoaddress', [3, addr]);
    await rpc(node, 'getblock', ['not-a-hash']);
    const s2 = await scrape();
    sub.close();
    assert.equal(s2.get('cairn_feed_messages_total{topic="rawblock"}'), 0);
    assert.equal(s2.get('cairn_chain_height'), 16);
    assert.equal(s2.get('cairn_mempool_transactions'), 0);
    const diff = (k: string) => (s2.get(k) ?? 0) - (s1.get(k) ?? 0);
    assert.equal(diff('cairn_block_validation_seconds_count{stage="connect"}'), 3);
    assert.equal(diff('cairn_block_validation_seconds_count{stage="check"}'), 3);
    assert.equal(diff('cairn_blocks_connected_total'), 3);
    assert.equal(diff('cairn_rpc_requests_total{method="generatetoaddress",status="ok"}'), 1);
    assert.equal(s2.get('cairn_rpc_requests_total{method="getblock",status="-32602"}'), 1);
    assert.equal(diff('cairn_feed_messages_total{topic="hashblock"}'), 3);
    assert.ok(diff('cairn_feed_messages_total{topic="hashtx"}') >= 4); // 3 coinbases + the pending tx

    // a ban (here by RPC; misbehaving peers take the same path through the peer book)
    await rpcResult(node, 'setban', [recorderId.publicKey, 'add', 3600]);
    const s3 = await scrape();
    assert.equal(s3.get('cairn_bans_total')! - s2.get('cairn_bans_total')!, 1);
    assert.equal(s3.get('cairn_peers_banned')! - s2.get('cairn_peers_banned')!, 1);
    await rpcResult(node, 'setban', [recorderId.publicKey, 'remove']);
    const s4 = await scrape();
    assert.equal(s4.get('cairn_bans_total'), s3.get('cairn_bans_total'));
    assert.equal(s4.get('cairn_peers_banned'), s2.get('cairn_peers_banned'));

    const other = await fetch(`http://127.0.0.1:${node.metricsPort}/other`);
    assert.equal(other.status, 404);
    await other.text();
    const post = await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    await post.text();
  });

  it('a node syncing with a verify worker counts the blocks it connected as prepared there, and with map_cache_mb 0 releases its LMDB map', async () => {
    const height = await rpcResult<number>(node, 'getblockcount');
    const b = await makeNode({
      name: 'sync-b',
      root: root.path,
      verifyWorkers: 1,
      connect: [{ address: node.address, key: node.key }],
      extra: '[storage]\nmap_cache_mb = 0',
    });
    await b.start();
    procs.push(b);
    await eventually('b synced', async () => (await rpcResult<number>(b, 'getblockcount')) >= height, 60_000);
    const res = await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`);
    const m = parseExposition(await res.text());
    const prepared = m.get('cairn_blocks_prepared_total') ?? -1;
    assert.ok(prepared >= 1 && prepared <= m.get('cairn_blocks_connected_total')!, `prepared ${prepared}`);
    // the sync connected them in group commits; the blocks the connector prepared itself are a part
    const commits = m.get('cairn_sync_commits_total') ?? 0;
    assert.ok(commits >= 1 && commits <= m.get('cairn_blocks_connected_total')!, `commits ${commits}`);
    assert.ok((m.get('cairn_sync_blocks_helped_total') ?? -1) >= 0);
    // the mining node checked its own blocks inline, and never synced
    const miner = await scrape();
    assert.equal(miner.get('cairn_blocks_prepared_total'), 0);
    assert.equal(miner.get('cairn_sync_commits_total'), 0);
    // every commit looked at RSS; the map pages the sync read are released (npm run build built
    // the addon). The bytes are what RssFile fell by, which the kernel may count late for a few
    // pages: reading the blocks again maps pages for the next look (four a second) to release.
    let released = m.get('cairn_memory_map_released_bytes_total') ?? 0;
    await eventually(
      'map pages released',
      async () => {
        if (released > 0) return true;
        for (let h = 0; h <= height; h++)
          await rpcResult(b, 'getblock', [await rpcResult(b, 'getblockhash', [h])]);
        const again = await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`);
        released = parseExposition(await again.text()).get('cairn_memory_map_released_bytes_total') ?? 0;
        return released > 0;
      },
      10_000,
    );
    const info = await rpcResult<{
      locked: { used: number };
      process: { rss: number; anon: number; file: number; heapused: number };
      lmdbmap: { budget: number; releases: number; released: number } | null;
    }>(b, 'getmemoryinfo');
    assert.equal(info.locked.used, 0);
    assert.ok(
      info.process.anon > 0 &&
        info.process.file > 0 &&
        info.process.rss >= info.process.anon + info.process.file,
    );
    assert.ok(info.process.heapused > 0);
    assert.equal(info.lmdbmap?.budget, 0);
    assert.ok(info.lmdbmap.releases >= 1 && info.lmdbmap.released >= released);
    const mining = await rpcResult<{ lmdbmap: { budget: number } | null }>(node, 'getmemoryinfo', ['stats']);
    assert.equal(mining.lmdbmap?.budget, 64 * 1024 * 1024, 'the default storage.map_cache_mb');
    // Core's mallocinfo: glibc's XML, one <heap> per arena
    const xml = await rpcResult<string>(node, 'getmemoryinfo', ['mallocinfo']);
    assert.match(xml, /^<malloc version="\d+">[\s\S]*<heap nr="0">[\s\S]*<\/malloc>\s*$/);
    await assert.rejects(
      rpcResult(node, 'getmemoryinfo', ['other']),
      /"code":-8.*\\"stats\\" or \\"mallocinfo\\"/,
    );
  });

  it('REST and the explorer are off by default outside local (rpc.rest), JSON-RPC is not', async () => {
    const t = await makeNode({ name: 't', root: root.path, network: 'test' });
    await t.start();
    procs.push(t);
    for (const path of ['/rest/chaininfo', '/explorer/']) {
      const r = await fetch(`http://127.0.0.1:${t.rpcPort}${path}`);
      assert.equal(r.status, 404, path);
      await r.text();
    }
    const html = await fetch(`http://127.0.0.1:${t.rpcPort}/`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 405);
    await html.text();
    assert.equal(await rpcResult(t, 'getblockcount'), 0);
    const m = await fetch(`http://127.0.0.1:${t.metricsPort}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /^cairn_chain_height 0$/m);
    await t.kill();
  });

  it('a recorder mining for the node makes its hash-rate metric non-zero', async () => {
    const rec = makeRecorder({
      name: 'rec',
      root: root.path,
      payout: addr,
      nodes: [{ node, network: 'local' }],
      cpuPercent: 20,
    });
    await rec.start();
    procs.push(rec);
    const label = `{recorder="${recorderId.publicKey.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"}`;
    await eventually(
      'a non-zero hash rate for the recorder',
      async () => ((await scrape()).get(`cairn_recorder_hashrate${label}`) ?? 0) > 0,
      60_000,
    );
    const s = await scrape();
    assert.ok(
      (s.get(`cairn_recorder_shares${label}`) ?? 0) + (s.get(`cairn_recorder_blocks${label}`) ?? 0) > 0,
    );
    await rec.kill();
  });
});
