/**
 * The explorer's own REST endpoints and its live event stream against a real cairnd: every answer
 * checked against what JSON-RPC returns for the same object (ids in the same byte order, amounts
 * in the same base units), every list bounded by a `count` whose over-limit or malformed value is
 * a 400 naming the parameter, unknown ids 404 with a message; /explorer/events delivers a mined
 * block within seconds, refuses clients beyond its limit with 503, and drops a client that does
 * not read while the node keeps answering.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Chain } from '../../services/node/chain/chain.ts';
import type { BlockStats } from '../../services/node/explorer/ledger-queries.ts';
import { LIVE_DEFAULTS, LiveEvents, type LiveOptions } from '../../services/node/explorer/live-events.ts';
import type { Reservoir } from '../../services/node/reservoir/reservoir.ts';
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../shared/core/tx/ids.ts';
import { MINT } from '../../shared/core/tx/types.ts';
import { silentLogger } from '../../shared/log.ts';
import { makeKey, out, signed, spend } from '../helpers/chain.ts';
import { makeNode, makeRecorderIdentity, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpcResult } from '../helpers/rpc.ts';

const root = tempDir('cairn-it-rest-explorer-');
const procs: NodeProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  root.remove();
});

let node: NodeProcess;
const alice = makeKey();
const bob = makeKey();
const aliceAddr = encodeAddress(LOCAL.addressPrefix, alice.owner);
const bobAddr = encodeAddress(LOCAL.addressPrefix, bob.owner);
const ZEROS = '00'.repeat(32);

type Json = Record<string, unknown>;
type RpcTx = { txid: string; vout: { n: number; address: string; value: number; bitmark?: string }[] };

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}${path}`);
  const text = await res.text();
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
  return { status: res.status, body: JSON.parse(text) };
}

async function ok<T = Json>(path: string): Promise<T> {
  const r = await get(path);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

/** A 400 whose body names `param` and starts its message with it. */
async function bad(path: string, param: string): Promise<void> {
  const r = await get(path);
  assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
  const body = r.body as { error: string; param: string };
  assert.equal(body.param, param, path);
  assert.ok(body.error.startsWith(`${param}:`), `${path}: ${body.error}`);
}

async function notFound(path: string, message: RegExp): Promise<void> {
  const r = await get(path);
  assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
  assert.match((r.body as { error: string }).error, message, path);
}

/** Every over-limit or malformed `count` of `path` is a 400 naming `count`. */
async function countLimits(path: string, max: number): Promise<void> {
  const sep = path.includes('?') ? '&' : '?';
  for (const c of ['0', String(max + 1), '-1', 'abc', '1.5', '1e2', ''])
    await bad(`${path}${sep}count=${c}`, 'count');
  await ok(`${path}${sep}count=${max}`);
}

/** The display-order id reversed: the stored byte order, which no surface prints. */
const reversed = (id: string) => hashToHex(hashFromHex(id)!.slice().reverse());

describe('REST endpoints of the explorer', { timeout: 240_000 }, () => {
  let blocks: string[] = [];
  let assetA = '';
  let assetB = '';
  let regTxid = '';
  let issueTxid = '';
  let transferTxid = '';
  let bitmarks: string[] = [];
  let lowFee = '';
  let highFee = '';

  before(async () => {
    const rec = makeRecorderIdentity(root.path, 'rec');
    node = await makeNode({ name: 'n', root: root.path, recorders: [rec.publicKey] });
    await node.start();
    procs.push(node);
    blocks = await rpcResult<string[]>(node, 'generatetoaddress', [14, aliceAddr]);
    const cb = async (i: number) =>
      (await rpcResult<{ tx: RpcTx[] }>(node, 'getblock', [blocks[i], 2])).tx[0]!;
    const send = async (raw: Uint8Array) => rpcResult<string>(node, 'sendrawtransaction', [toHex(raw)]);
    const mine = async (n = 1) =>
      blocks.push(...(await rpcResult<string[]>(node, 'generatetoaddress', [n, aliceAddr])));
    const value = (await cb(0)).vout[0]!.value;

    // block 15: asset A; block 16: asset B and two bitmarks of A; block 17: one of them to bob
    const fpA = new TextEncoder().encode('sha256:explorer-rest-a');
    const regA = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'Asset A', fingerprint: fpA, metadata: new TextEncoder().encode('painter: A') },
      inputs: [spend(alice, hashFromHex((await cb(0)).txid)!, 0)],
      outputs: [out(alice.owner, value - 10_000)],
    });
    await send(regA.raw);
    await mine();
    const fpB = new TextEncoder().encode('sha256:explorer-rest-b');
    const regB = signed({
      version: 1,
      kind: 'asset',
      asset: { name: 'Asset B', fingerprint: fpB, metadata: new Uint8Array([0, 1, 2]) },
      inputs: [spend(alice, hashFromHex((await cb(1)).txid)!, 0)],
      outputs: [out(alice.owner, value - 10_000)],
    });
    await send(regB.raw);
    const issue = signed({
      version: 1,
      kind: 'issue',
      assetId: assetIdOf(fpA),
      inputs: [spend(alice, regA.txid, 0)],
      outputs: [out(alice.owner, 0, MINT), out(alice.owner, 0, MINT), out(alice.owner, value - 20_000)],
    });
    await send(issue.raw);
    await mine();
    const moved = bitmarkIdOf(issue.txid, 0);
    const transfer = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, issue.txid, 0), spend(alice, issue.txid, 2)],
      outputs: [out(bob.owner, 0, { type: 'carry', id: moved }), out(alice.owner, value - 30_000)],
    });
    await send(transfer.raw);
    await mine();
    // two payments left in the mempool, the second paying a higher fee rate
    const pay = async (i: number, fee: number) =>
      send(
        signed({
          version: 1,
          kind: 'transfer',
          inputs: [spend(alice, hashFromHex((await cb(i)).txid)!, 0)],
          outputs: [out(bob.owner, value - fee)],
        }).raw,
      );
    lowFee = await pay(2, 1_000);
    highFee = await pay(3, 50_000);

    assetA = hashToHex(assetIdOf(fpA));
    assetB = hashToHex(assetIdOf(fpB));
    regTxid = hashToHex(regA.txid);
    issueTxid = hashToHex(issue.txid);
    transferTxid = hashToHex(transfer.txid);
    bitmarks = [hashToHex(moved), hashToHex(bitmarkIdOf(issue.txid, 1))];
  });

  it('netparams: the network, its coin and decimals', async () => {
    assert.deepEqual(await ok('/rest/netparams'), {
      chain: 'local',
      coin: LOCAL.coin,
      decimals: 8,
      addressprefix: LOCAL.addressPrefix,
      targetspacing: LOCAL.targetSpacing,
    });
    assert.equal(LOCAL.coin, 100_000_000);
  });

  it('lookup: what a search text names, ids in the CLI and RPC byte order', async () => {
    const found = async (text: string) =>
      (await ok<{ query: string; found: string[] }>(`/rest/lookup/${text}`)).found;
    assert.deepEqual(await found('5'), ['height']);
    assert.deepEqual(await found('0'), ['height']);
    assert.deepEqual(await found('999999'), []);
    assert.deepEqual(await found(aliceAddr), ['address']);
    assert.deepEqual(await found(blocks[4]!), ['block']);
    assert.deepEqual(await found(issueTxid), ['tx']);
    assert.deepEqual(await found(regTxid), ['tx']);
    assert.deepEqual(await found(highFee), ['tx']);
    assert.deepEqual(await found(assetA), ['asset']);
    assert.deepEqual(await found(bitmarks[0]!), ['bitmark']);
    assert.deepEqual(await found(bitmarks[0]!.toUpperCase()), ['bitmark']);
    // the stored byte order is not an id anywhere
    for (const id of [blocks[4]!, issueTxid, assetA, bitmarks[0]!])
      assert.deepEqual(await found(reversed(id)), []);
    assert.deepEqual(await found('not%20a%20thing'), []);
    assert.deepEqual(await found('x'.repeat(300)), []);
    const r = await ok<{ query: string }>(`/rest/lookup/${blocks[4]}`);
    assert.equal(r.query, blocks[4]);
  });

  it('tx/<txid>/prevouts: the outputs spent, as RPC shows them', async () => {
    const prevouts = await ok<unknown[]>(`/rest/tx/${transferTxid}/prevouts`);
    const tx = await rpcResult<{ vin: { txid: string; vout: number }[] }>(node, 'getrawtransaction', [
      transferTxid,
      true,
    ]);
    assert.equal(prevouts.length, tx.vin.length);
    for (const [i, input] of tx.vin.entries()) {
      const prev = await rpcResult<RpcTx>(node, 'getrawtransaction', [input.txid, true]);
      assert.deepEqual(prevouts[i], { txid: input.txid, ...prev.vout[input.vout]! });
    }
    assert.equal((prevouts[0] as { bitmark: string }).bitmark, bitmarks[0]);
    // a mempool transaction's too; a coinbase spends nothing
    const pending = await ok<{ address: string }[]>(`/rest/tx/${highFee}/prevouts`);
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.address, aliceAddr);
    const cb = (await rpcResult<{ tx: string[] }>(node, 'getblock', [blocks[2], 1])).tx[0]!;
    assert.deepEqual(await ok(`/rest/tx/${cb}/prevouts`), []);
    await bad('/rest/tx/zz/prevouts', 'txid');
    await notFound(`/rest/tx/${ZEROS}/prevouts`, /no such mempool or blockchain transaction/i);
    await notFound(`/rest/tx/${reversed(transferTxid)}/prevouts`, /no such/i);
  });

  it('address/<a>/txs: newest first, paged, amounts as RPC gives them', async () => {
    type Page = {
      txs: {
        txid: string;
        height: number;
        kind: string;
        received: number;
        spent: number | null;
        bitmarks: string[];
      }[];
      next?: string;
    };
    const all = await ok<Page>(`/rest/address/${aliceAddr}/txs?count=100`);
    assert.equal(all.next, undefined);
    // 17 coinbases, 2 registrations, the issue, the transfer (the mempool's are not history yet)
    assert.equal(all.txs.length, 21);
    for (let i = 1; i < all.txs.length; i++) assert.ok(all.txs[i - 1]!.height >= all.txs[i]!.height);
    assert.equal(all.txs[0]!.height, 17);
    for (const row of all.txs) {
      const tx = await rpcResult<RpcTx & { blockhash: string }>(node, 'getrawtransaction', [row.txid, true]);
      const received = tx.vout.filter((o) => o.address === aliceAddr).reduce((s, o) => s + o.value, 0);
      assert.equal(row.received, received, row.txid);
      assert.ok(Number.isInteger(row.received));
      const header = await rpcResult<{ height: number }>(node, 'getblockheader', [tx.blockhash]);
      assert.equal(row.height, header.height);
    }
    const t = all.txs.find((r) => r.txid === transferTxid)!;
    assert.equal(t.kind, 'transfer');
    assert.equal(
      t.spent,
      (await ok<{ value: number }[]>(`/rest/tx/${transferTxid}/prevouts`)).reduce((s, o) => s + o.value, 0),
    );
    const bobs = await ok<Page>(`/rest/address/${bobAddr}/txs`);
    assert.deepEqual(
      bobs.txs.map((r) => [r.txid, r.bitmarks]),
      [[transferTxid, [bitmarks[0]]]],
    );

    // pages of 4 walk the same list
    const walked: string[] = [];
    let before: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await ok<Page>(
        `/rest/address/${aliceAddr}/txs?count=4${before ? `&before=${before}` : ''}`,
      );
      assert.ok(page.txs.length <= 4);
      walked.push(...page.txs.map((r) => r.txid));
      if (page.next === undefined) break;
      assert.equal(page.next, page.txs[page.txs.length - 1]!.txid);
      before = page.next;
    }
    assert.deepEqual(
      walked,
      all.txs.map((r) => r.txid),
    );

    await countLimits(`/rest/address/${aliceAddr}/txs`, 100);
    await bad(`/rest/address/${aliceAddr}/txs?before=zz`, 'before');
    await bad('/rest/address/nope/txs', 'address');
    await notFound(`/rest/address/${aliceAddr}/txs?before=${ZEROS}`, /^before: /);
    await notFound(`/rest/address/${aliceAddr}/txs?before=${highFee}`, /^before: /);
    // an address with no history: an empty page
    assert.deepEqual(await ok(`/rest/address/${encodeAddress(LOCAL.addressPrefix, makeKey().owner)}/txs`), {
      txs: [],
    });
  });

  it('assets: newest first, paged, by registrant, each as getasset', async () => {
    const all = await ok<{ assets: Json[]; next?: string }>('/rest/assets');
    assert.deepEqual(all, {
      assets: [await rpcResult(node, 'getasset', [assetB]), await rpcResult(node, 'getasset', [assetA])],
    });
    assert.equal(all.assets[0]!.metadata, null); // binary
    assert.equal(all.assets[1]!.metadata, 'painter: A');
    const first = await ok<{ assets: Json[]; next?: string }>('/rest/assets?count=1');
    assert.deepEqual(
      first.assets.map((a) => a.id),
      [assetB],
    );
    assert.equal(first.next, assetB);
    const second = await ok<{ assets: Json[]; next?: string }>(`/rest/assets?count=1&after=${first.next}`);
    assert.deepEqual(
      second.assets.map((a) => a.id),
      [assetA],
    );
    assert.equal(second.next, undefined);
    assert.equal((await ok<{ assets: Json[] }>(`/rest/assets?registrant=${aliceAddr}`)).assets.length, 2);
    assert.deepEqual(await ok(`/rest/assets?registrant=${bobAddr}`), { assets: [] });
    await countLimits('/rest/assets', 100);
    await bad('/rest/assets?after=xyz', 'after');
    await bad('/rest/assets?registrant=nope', 'registrant');
    await notFound(`/rest/assets?after=${ZEROS}`, /^after: /);
    await notFound(`/rest/assets?after=${reversed(assetA)}`, /^after: /);
  });

  it('bitmarks: listbitmarks with its filters and limit', async () => {
    const same = async (query: string, args: unknown[]) => {
      const body = await ok(`/rest/bitmarks${query}`);
      assert.deepEqual(body, await rpcResult(node, 'listbitmarks', args), query);
      return body as { bitmarks: { id: string; owner: string }[]; next?: string };
    };
    const byAsset = await same(`?asset=${assetA}`, [null, assetA]);
    assert.deepEqual(byAsset.bitmarks.map((b) => b.id).sort(), [...bitmarks].sort());
    const bobs = await same(`?owner=${bobAddr}`, [bobAddr]);
    assert.deepEqual(
      bobs.bitmarks.map((b) => [b.id, b.owner]),
      [[bitmarks[0], bobAddr]],
    );
    const one = await same(`?asset=${assetA}&count=1`, [null, assetA, 1]);
    assert.equal(one.bitmarks.length, 1);
    const rest = await same(`?asset=${assetA}&count=1&after=${one.next}`, [null, assetA, 1, one.next]);
    assert.equal(rest.bitmarks.length, 1);
    assert.notEqual(rest.bitmarks[0]!.id, one.bitmarks[0]!.id);
    await countLimits('/rest/bitmarks', 1000);
    await bad('/rest/bitmarks?asset=xyz', 'asset');
    await bad('/rest/bitmarks?after=xyz', 'after');
    await bad('/rest/bitmarks?owner=nope', 'owner');
  });

  it('mempool/contents: highest fee rate first, at most count', async () => {
    const full = await rpcResult<Record<string, Json>>(node, 'getrawmempool', [true]);
    const both = await ok<Record<string, Json>>('/rest/mempool/contents');
    assert.deepEqual(Object.keys(both), [highFee, lowFee]);
    assert.deepEqual(both, { [highFee]: full[highFee], [lowFee]: full[lowFee] });
    assert.deepEqual(await ok('/rest/mempool/contents?count=1'), { [highFee]: full[highFee] });
    assert.deepEqual(await ok('/rest/mempool/contents?verbose=false&count=1'), [highFee]);
    assert.deepEqual(await ok('/rest/mempool/contents?verbose=false'), [highFee, lowFee]);
    await countLimits('/rest/mempool/contents', 10_000);
    await bad('/rest/mempool/contents?verbose=1', 'verbose');
  });

  it('network: node, peers, recorders, tips and sync state, as RPC gives them', async () => {
    const n = await ok<{
      network: Json;
      peers: unknown[];
      recorders: unknown[];
      networkhashps: number;
      tips: { status: string; height: number; hash: string }[];
      sync: Json;
    }>('/rest/network');
    const info = await rpcResult<Json>(node, 'getnetworkinfo');
    assert.equal(n.network.subversion, info.subversion);
    assert.equal(n.network.protocolversion, info.protocolversion);
    assert.deepEqual(n.peers, await rpcResult(node, 'getpeerinfo'));
    assert.deepEqual(
      n.recorders,
      (await rpcResult<{ recorders: unknown[] }>(node, 'getmininginfo')).recorders,
    );
    assert.equal(n.tips[0]!.status, 'active');
    assert.equal(n.tips[0]!.hash, await rpcResult(node, 'getbestblockhash'));
    assert.deepEqual(n.sync, {
      blocks: 17,
      headers: 17,
      initialblockdownload: (await rpcResult<Json>(node, 'getblockchaininfo')).initialblockdownload,
      verificationprogress: (await rpcResult<Json>(node, 'getblockchaininfo')).verificationprogress,
      warnings: [],
    });
  });

  it('stats/blocks: figures of the latest blocks, as RPC gives them', async () => {
    const s = await ok<BlockStats[]>('/rest/stats/blocks?count=5');
    assert.deepEqual(
      s.map((b) => b.height),
      [13, 14, 15, 16, 17],
    );
    for (const b of s) {
      const block = await rpcResult<{
        hash: string;
        time: number;
        difficulty: number;
        nTx: number;
        size: number;
        previousblockhash: string;
      }>(node, 'getblock', [await rpcResult(node, 'getblockhash', [b.height]), 1]);
      assert.equal(b.hash, block.hash);
      assert.equal(b.time, block.time);
      assert.equal(b.ntx, block.nTx);
      assert.equal(b.size, block.size);
      assert.equal(b.difficulty, block.difficulty);
      const prev = await rpcResult<{ time: number }>(node, 'getblockheader', [block.previousblockhash]);
      assert.equal(b.interval, block.time - prev.time);
    }
    // block 16 holds asset B (fee 10,000) and the issue (fee 10,000: A's 10,000-short change less 20,000)
    assert.equal(s.find((b) => b.height === 16)!.fees, 20_000);
    assert.equal(s.find((b) => b.height === 16)!.ntx, 3);
    const everything = await ok<BlockStats[]>('/rest/stats/blocks?count=1000');
    assert.equal(everything.length, 18); // genesis to 17
    assert.equal(everything[0]!.interval, 0);
    await countLimits('/rest/stats/blocks', 1000);
  });

  it('stats/mempool and stats/recorders: samples over time, bounded', async () => {
    const m = await ok<{
      bands: number[];
      samples: { time: number; count: number; bytes: number; bands: number[] }[];
    }>('/rest/stats/mempool');
    assert.deepEqual(m.bands, [0, 1, 2, 5, 10, 20, 50, 100]);
    assert.ok(m.samples.length >= 1 && m.samples.length <= 720);
    for (const x of m.samples) assert.equal(x.bands.length, m.bands.length);
    assert.ok((await ok<{ samples: unknown[] }>('/rest/stats/mempool?count=1')).samples.length <= 1);
    const r = await ok<{ samples: { time: number; rates: Json }[] }>('/rest/stats/recorders');
    assert.ok(r.samples.length >= 1 && r.samples.length <= 720);
    await countLimits('/rest/stats/mempool', 720);
    await countLimits('/rest/stats/recorders', 720);
    await notFound('/rest/stats/other', /no REST endpoint/);
    await notFound(`/rest/tx/${transferTxid}/other`, /no REST endpoint/);
  });
});

/** One Server-Sent Events stream read by fetch: its events in order, waited for by predicate. */
class EventStream {
  readonly events: { event: string; data: Json; at: number }[] = [];
  readonly #abort = new AbortController();
  #waiters: (() => void)[] = [];
  bytes = 0;
  ended = false;
  status = 0;

  static async open(port: number): Promise<EventStream> {
    const s = new EventStream();
    const res = await fetch(`http://127.0.0.1:${port}/explorer/events`, { signal: s.#abort.signal });
    s.status = res.status;
    if (res.status !== 200) {
      await res.text();
      return s;
    }
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    void s.#read(res.body!.getReader());
    return s;
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.bytes += value.length;
        buf += dec.decode(value, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined)
            this.events.push({ event, data: JSON.parse(data) as Json, at: performance.now() });
          end = buf.indexOf('\n\n');
        }
        for (const w of this.#waiters.splice(0)) w();
      }
    } catch {
      // aborted
    }
    this.ended = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  async waitFor(
    pred: (e: { event: string; data: Json }) => boolean,
    ms: number,
  ): Promise<{ event: string; data: Json; at: number }> {
    const deadline = performance.now() + ms;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit !== undefined) return hit;
      if (this.ended) throw new Error('the stream ended');
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`no matching event within ${ms} ms: ${JSON.stringify(this.events.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#abort.abort();
  }
}

describe('live events (/explorer/events)', { timeout: 240_000 }, () => {
  let n: NodeProcess;
  const miner = encodeAddress(LOCAL.addressPrefix, makeKey().owner);

  before(async () => {
    n = await makeNode({ name: 'live', root: root.path });
    await n.start();
    procs.push(n);
    await rpcResult(n, 'generatetoaddress', [2, miner]);
  });

  it('a connected client gets hello, then the block mined, within seconds', async () => {
    const s = await EventStream.open(n.rpcPort);
    assert.equal(s.status, 200);
    const hello = await s.waitFor((e) => e.event === 'hello', 10_000);
    assert.equal(hello.data.height, 2);
    assert.equal(hello.data.hash, await rpcResult(n, 'getbestblockhash'));
    assert.equal(hello.data.chain, 'local');
    const [hash] = await rpcResult<string[]>(n, 'generatetoaddress', [1, miner]);
    const mined = performance.now();
    const tip = await s.waitFor((e) => e.event === 'tip' && e.data.height === 3, 10_000);
    assert.equal(tip.data.hash, hash); // the byte order of RPC
    const blocks = tip.data.blocks as { height: number; hash: string }[];
    assert.deepEqual(blocks.at(-1), { ...blocks.at(-1), height: 3, hash });
    const ms = tip.at - mined;
    assert.ok(ms < 10_000, `the block event came ${ms.toFixed(0)} ms after generatetoaddress returned`);
    console.log(`# block event ${ms.toFixed(0)} ms after generatetoaddress returned`);
    s.close();
  });

  it('more clients than the limit (100) get 503', async () => {
    const open: EventStream[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const s = await EventStream.open(n.rpcPort);
        assert.equal(s.status, 200, `client ${i + 1}`);
        open.push(s);
      }
      const extra = await fetch(`http://127.0.0.1:${n.rpcPort}/explorer/events`);
      assert.equal(extra.status, 503);
      assert.equal(extra.headers.get('retry-after'), '30');
      await extra.text();
    } finally {
      for (const s of open) s.close();
    }
    // their places come back
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = await EventStream.open(n.rpcPort);
      s.close();
      if (s.status === 200) break;
      assert.ok(Date.now() < deadline, 'closed clients still counted after 10 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('a client that does not read holds nothing up: the node answers and other clients get every block', async () => {
    // a raw socket that asks for the stream and never reads it
    const slow = connect(n.rpcPort, '127.0.0.1');
    await new Promise<void>((r) => slow.once('connect', () => r()));
    slow.write('GET /explorer/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    slow.pause();
    const reader = await EventStream.open(n.rpcPort);
    await reader.waitFor((e) => e.event === 'hello', 10_000);
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      await rpcResult(n, 'generatetoaddress', [10, miner]);
      const t = performance.now();
      await rpcResult(n, 'getblockcount');
      worst = Math.max(worst, performance.now() - t);
    }
    const height = await rpcResult<number>(n, 'getblockcount');
    await reader.waitFor((e) => e.event === 'tip' && e.data.height === height, 10_000);
    assert.ok(worst < 2_000, `an RPC call took ${worst.toFixed(0)} ms beside the slow client`);
    console.log(
      `# 200 blocks beside a client that does not read: slowest getblockcount ${worst.toFixed(1)} ms`,
    );
    reader.close();
    slow.destroy();
  });
});

describe('live events: a client that does not read is dropped (in process, at a high event rate)', () => {
  // A real cairnd sends at most ~17 KB of events a second (bounded summaries, 5 flushes a second)
  // while loopback's kernel buffers hold megabytes, so there a client that does not read is
  // dropped only after minutes; here the same LiveEvents flushes every millisecond.
  /** LiveEvents on its own HTTP server, its chain and mempool events driven by the test. */
  async function inProcess(opts: Partial<LiveOptions>) {
    const tip = { height: 0, hash: new Uint8Array(32), header: { time: 0 } };
    const chain = Object.assign(new EventEmitter(), {
      tip,
      tipHeight: () => tip.height,
      bestHeader: () => ({ height: tip.height }),
    });
    const reservoir = Object.assign(new EventEmitter(), { size: 0, info: () => ({ bytes: 0 }) });
    const live = new LiveEvents(
      { ...LIVE_DEFAULTS, ...opts },
      {
        chain: chain as unknown as Chain,
        reservoir: reservoir as unknown as Reservoir,
        logger: silentLogger(),
        network: 'local',
        blockFigures: (_b, height) => ({
          height,
          hash: 'ab'.repeat(32),
          time: 0,
          difficulty: 1,
          ntx: 1,
          size: 134,
          fees: 0,
        }),
        sync: () => ({ blocks: tip.height, headers: tip.height, initialblockdownload: false }),
      },
    );
    live.start();
    const server: Server = createServer((req, res) => live.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    return { tip, chain, reservoir, live, server, port };
  }

  it('one address holds at most maxClientsPerAddress streams (loopback exempt by default)', async () => {
    const { live, server, port } = await inProcess({ maxClientsPerAddress: 2, exemptLoopback: false });
    const open: EventStream[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await EventStream.open(port));
      assert.deepEqual(
        open.map((s) => s.status),
        [200, 200, 503],
      );
      open[0]!.close();
      while (live.clients > 1) await new Promise((r) => setTimeout(r, 10));
      const again = await EventStream.open(port);
      open.push(again);
      assert.equal(again.status, 200, 'a closed stream gives its slot back');
    } finally {
      for (const s of open) s.close();
      live.stop();
      server.close();
    }
    const exempt = await inProcess({ maxClientsPerAddress: 1 });
    const both = [await EventStream.open(exempt.port), await EventStream.open(exempt.port)];
    assert.deepEqual(
      both.map((s) => s.status),
      [200, 200],
      'loopback is not capped per address',
    );
    for (const s of both) s.close();
    exempt.live.stop();
    exempt.server.close();
  });

  it('drops it once its unsent bytes pass the bound; a reading client keeps its stream', async () => {
    const { tip, chain, reservoir, live, server, port } = await inProcess({ flushMs: 1 });
    const slow = connect(port, '127.0.0.1');
    await once(slow, 'connect');
    slow.write('GET /explorer/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    slow.pause();
    const reader = await EventStream.open(port);
    try {
      await reader.waitFor((e) => e.event === 'hello', 5_000);
      while (live.clients < 2) await new Promise((r) => setTimeout(r, 10));
      const until = Date.now() + 60_000;
      let sent = 0;
      while (live.dropped === 0) {
        assert.ok(Date.now() < until, `not dropped after ${sent} events`);
        for (let i = 0; i < 10; i++) {
          tip.height++;
          chain.emit('block:connected', {}, { height: tip.height });
          reservoir.emit('tx:added', { txid: new Uint8Array(32).fill(i), size: 200, fee: 200, feeRate: 1 });
          sent += 2;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal(live.dropped, 1);
      assert.equal(live.clients, 1);
      // the reader, which reads, still gets the latest tip
      const last = tip.height;
      await reader.waitFor((e) => e.event === 'tip' && e.data.height === last, 5_000);
      assert.equal(reader.ended, false);
      console.log(`# the slow client was dropped after ${sent} events (${reader.bytes} bytes to the reader)`);
      // the slow client, reading at last, finds its stream ended
      const ended = new Promise<void>((resolve) => slow.on('close', () => resolve()));
      slow.on('error', () => {});
      slow.resume();
      await Promise.race([
        ended,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('the slow stream did not end')), 10_000),
        ),
      ]);
    } finally {
      reader.close();
      slow.destroy();
      live.stop();
      server.close();
    }
  });
});
