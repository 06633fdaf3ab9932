/**
 * listassets and listbitmarks over a real chain on LMDB: paging in id order, by registrant, by
 * owner, by asset, and errors that name the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MethodDef, RpcError, validateParams } from '../../../services/node/rpc/method.ts';
import type { NodeApi } from '../../../services/node/rpc/methods/api.ts';
import { ledgerMethods } from '../../../services/node/rpc/methods/ledger.ts';
import { encodeAddress } from '../../../shared/core/address.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { blockOn, type OpenChain, openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-rpc-lists-');
let c: OpenChain;
let methods: Map<string, MethodDef>;
const alice = makeKey();
const bob = makeKey();
const addr = (o: Uint8Array) => encodeAddress(LOCAL.addressPrefix, o);
const fp = (s: string) => new TextEncoder().encode(s);
let issue: DecodedTx;

function call(name: string, params: Record<string, unknown>): unknown {
  const def = methods.get(name)!;
  return def.run(validateParams(def, params), { user: 't', ip: '127.0.0.1' });
}

function mine(txs: DecodedTx[]): DecodedTx {
  const b = blockOn(c.chain.tip, txs, alice.owner);
  const r = c.chain.processBlock(b.raw);
  assert.equal(r.status, 'connected', JSON.stringify(r));
  return b.txs[0]!;
}

const COIN = LOCAL.coin;

before(() => {
  c = openChain(dir.path);
  const api = { params: LOCAL, state: { chain: c.chain } } as unknown as NodeApi;
  methods = new Map(ledgerMethods(api).map((m) => [m.name, m]));
  const cbs: DecodedTx[] = [];
  for (let i = 0; i < 11; i++) cbs.push(mine([]));
  const cbValue = 25 * COIN;
  const toBob = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, cbs[0]!.txid, 0)],
    outputs: [out(bob.owner, COIN), out(alice.owner, cbValue - COIN - 1000)],
  });
  const regA = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'A', fingerprint: fp('a'), metadata: new Uint8Array() },
    inputs: [spend(alice, cbs[1]!.txid, 0)],
    outputs: [out(alice.owner, cbValue - 1000)],
  });
  mine([toBob, regA]);
  const regB = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'B', fingerprint: fp('b'), metadata: new Uint8Array() },
    inputs: [spend(alice, cbs[2]!.txid, 0)],
    outputs: [out(alice.owner, cbValue - 1000)],
  });
  const regC = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'C', fingerprint: fp('c'), metadata: new Uint8Array() },
    inputs: [spend(bob, toBob.txid, 0)],
    outputs: [out(bob.owner, COIN - 1000)],
  });
  issue = signed({
    version: 1,
    kind: 'issue',
    assetId: assetIdOf(fp('a')),
    inputs: [spend(alice, regA.txid, 0)],
    outputs: [
      out(alice.owner, 0, MINT),
      out(alice.owner, 0, MINT),
      out(alice.owner, 0, MINT),
      out(alice.owner, cbValue - 2000),
    ],
  });
  mine([regB, regC]);
  mine([issue]);
  const give = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, issue.txid, 1), spend(alice, issue.txid, 3)],
    outputs: [
      out(bob.owner, 0, { type: 'carry', id: bitmarkIdOf(issue.txid, 1) }),
      out(alice.owner, cbValue - 3000),
    ],
  });
  mine([give]);
});

after(() => {
  c.close();
  dir.remove();
});

type AssetList = { assets: { id: string; name: string; registrant: string }[]; next?: string };
type BitmarkList = { bitmarks: { id: string; asset: string; owner: string; vout: number }[]; next?: string };

describe('rpc: listassets', () => {
  it('lists every asset in id order, pages with next/after', () => {
    const all = call('listassets', {}) as AssetList;
    assert.equal(all.assets.length, 3);
    assert.equal(all.next, undefined);
    const ids = all.assets.map((a) => a.id);
    assert.deepEqual(new Set(ids), new Set(['a', 'b', 'c'].map((x) => hashToHex(assetIdOf(fp(x))))));
    const page1 = call('listassets', { count: 2 }) as AssetList;
    assert.equal(page1.assets.length, 2);
    assert.ok(page1.next);
    const page2 = call('listassets', { count: 2, after: page1.next }) as AssetList;
    assert.equal(page2.assets.length, 1);
    assert.equal(page2.next, undefined);
    assert.deepEqual(
      [...page1.assets, ...page2.assets].map((a) => a.id),
      ids,
    );
  });

  it('filters by registrant', () => {
    const bobs = call('listassets', { registrant: addr(bob.owner) }) as AssetList;
    assert.deepEqual(
      bobs.assets.map((a) => a.name),
      ['C'],
    );
    const alices = call('listassets', { registrant: addr(alice.owner) }) as AssetList;
    assert.deepEqual(alices.assets.map((a) => a.name).sort(), ['A', 'B']);
  });

  it('refuses a bad registrant address or count, naming the parameter', () => {
    assert.throws(
      () => call('listassets', { registrant: 'cairn1notanaddress' }),
      (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.rpcCode, -5);
        assert.match(e.message, /registrant/);
        return true;
      },
    );
    assert.throws(() => call('listassets', { count: 0 }), /count/);
  });
});

describe('rpc: listbitmarks', () => {
  const minted = () => [0, 1, 2].map((v) => hashToHex(bitmarkIdOf(issue.txid, v)));

  it('by owner: what each address holds now', () => {
    const a = call('listbitmarks', { owner: addr(alice.owner) }) as BitmarkList;
    assert.deepEqual(new Set(a.bitmarks.map((b) => b.id)), new Set([minted()[0], minted()[2]]));
    assert.ok(
      a.bitmarks.every((b) => b.owner === addr(alice.owner) && b.asset === hashToHex(assetIdOf(fp('a')))),
    );
    const b = call('listbitmarks', { owner: addr(bob.owner) }) as BitmarkList;
    assert.deepEqual(
      b.bitmarks.map((x) => x.id),
      [minted()[1]],
    );
    assert.equal(b.bitmarks[0]!.owner, addr(bob.owner));
    assert.equal(b.bitmarks[0]!.vout, 0);
  });

  it('by asset, paged, with the current owner of each', () => {
    const all = call('listbitmarks', { asset: hashToHex(assetIdOf(fp('a'))) }) as BitmarkList;
    assert.deepEqual(new Set(all.bitmarks.map((b) => b.id)), new Set(minted()));
    assert.equal(all.bitmarks.find((b) => b.id === minted()[1])!.owner, addr(bob.owner));
    const p1 = call('listbitmarks', { asset: hashToHex(assetIdOf(fp('a'))), count: 2 }) as BitmarkList;
    assert.equal(p1.bitmarks.length, 2);
    const p2 = call('listbitmarks', {
      asset: hashToHex(assetIdOf(fp('a'))),
      count: 2,
      after: p1.next,
    }) as BitmarkList;
    assert.deepEqual(
      [...p1.bitmarks, ...p2.bitmarks].map((b) => b.id),
      all.bitmarks.map((b) => b.id),
    );
    assert.equal(
      (call('listbitmarks', { asset: hashToHex(assetIdOf(fp('c'))) }) as BitmarkList).bitmarks.length,
      0,
    );
  });

  it('by owner and asset together', () => {
    const none = call('listbitmarks', {
      owner: addr(bob.owner),
      asset: hashToHex(assetIdOf(fp('b'))),
    }) as BitmarkList;
    assert.deepEqual(none.bitmarks, []);
    assert.throws(() => call('listbitmarks', { asset: 'xyz' }), /asset/);
  });
});
