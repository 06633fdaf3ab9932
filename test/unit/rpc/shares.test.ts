/**
 * The share RPCs over a real chain on LMDB: balances of an address, holders of a kind (paged),
 * the split and moves of a kind, the split as the bitmark's last hop, share outputs in
 * listunspent and in transaction JSON, and errors that name the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { txJson } from '../../../services/node/render.ts';
import { type MethodDef, RpcError, validateParams } from '../../../services/node/rpc/method.ts';
import type { NodeApi } from '../../../services/node/rpc/methods/api.ts';
import { ledgerMethods } from '../../../services/node/rpc/methods/ledger.ts';
import { shareMethods } from '../../../services/node/rpc/methods/shares.ts';
import { encodeAddress } from '../../../shared/core/address.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { assetIdOf, bitmarkIdOf } from '../../../shared/core/tx/ids.ts';
import { type DecodedTx, MINT, type OutputBitmark } from '../../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend } from '../../helpers/chain.ts';
import { blockOn, type OpenChain, openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-rpc-shares-');
let c: OpenChain;
let methods: Map<string, MethodDef>;
const [alice, bob, carol] = [makeKey(), makeKey(), makeKey()];
const addr = (o: Uint8Array) => encodeAddress(LOCAL.addressPrefix, o);
const shares = (id: Uint8Array, quantity: number): OutputBitmark => ({ type: 'shares', id, quantity });
let x: Uint8Array;
let split: DecodedTx;
let grant: DecodedTx;

function call(name: string, params: Record<string, unknown>): unknown {
  const def = methods.get(name)!;
  return def.run(validateParams(def, params), { user: 't', ip: '127.0.0.1' });
}

function mine(txs: DecodedTx[], fees = 0): DecodedTx {
  const b = blockOn(c.chain.tip, txs, alice.owner, fees);
  const r = c.chain.processBlock(b.raw);
  assert.equal(r.status, 'connected', JSON.stringify(r));
  return b.txs[0]!;
}

before(() => {
  c = openChain(dir.path);
  const api = { params: LOCAL, state: { chain: c.chain } } as unknown as NodeApi;
  methods = new Map([...ledgerMethods(api), ...shareMethods(api)].map((m) => [m.name, m]));
  const cbs: DecodedTx[] = [];
  for (let i = 0; i < 11; i++) cbs.push(mine([]));
  const fingerprint = new TextEncoder().encode('rpc-shares');
  const reg = signed({
    version: 1,
    kind: 'asset',
    asset: { name: 'S', fingerprint, metadata: new Uint8Array() },
    inputs: [spend(alice, cbs[0]!.txid, 0)],
    outputs: [out(alice.owner, 25 * LOCAL.coin)],
  });
  const issue = signed({
    version: 1,
    kind: 'issue',
    assetId: assetIdOf(fingerprint),
    inputs: [spend(alice, reg.txid, 0)],
    outputs: [out(alice.owner, 0, MINT)],
  });
  x = bitmarkIdOf(issue.txid, 0);
  split = signed({
    version: 1,
    kind: 'split',
    bitmarkId: x,
    total: 100,
    inputs: [spend(alice, issue.txid, 0)],
    outputs: [out(alice.owner, 0, shares(x, 100))],
  });
  grant = signed({
    version: 1,
    kind: 'transfer',
    inputs: [spend(alice, split.txid, 0)],
    outputs: [
      out(bob.owner, 0, shares(x, 30)),
      out(carol.owner, 0, shares(x, 20)),
      out(alice.owner, 0, shares(x, 50)),
    ],
  });
  mine([reg, issue, split], 25 * LOCAL.coin);
  mine([grant]);
});

after(() => {
  c.close();
  dir.remove();
});

describe('share RPCs', () => {
  it('getsharebalances: quantity, total and asset per kind; nothing for an address without shares', () => {
    assert.deepEqual(call('getsharebalances', { address: addr(bob.owner) }), [
      {
        bitmark: hashToHex(x),
        quantity: 30,
        total: 100,
        asset: hashToHex(c.chain.ledger.shares.kind(x)!.assetId),
      },
    ]);
    assert.deepEqual(call('getsharebalances', { address: addr(makeKey().owner) }), []);
  });

  it('listshareholders: every holder once, quantities adding up to the total, paged by address', () => {
    const all = call('listshareholders', { bitmarkid: hashToHex(x) }) as {
      total: number;
      holders: { address: string; quantity: number }[];
      split: { txid: string; owner: string };
    };
    assert.equal(all.total, 100);
    assert.equal(all.split.txid, hashToHex(split.txid));
    assert.equal(all.split.owner, addr(alice.owner));
    assert.equal(
      all.holders.reduce((s, h) => s + h.quantity, 0),
      100,
    );
    assert.deepEqual(
      all.holders.map((h) => h.address).sort(),
      [alice, bob, carol].map((k) => addr(k.owner)).sort(),
    );
    const first = call('listshareholders', { bitmarkid: hashToHex(x), count: 2 }) as {
      holders: unknown[];
      next: string;
    };
    assert.equal(first.holders.length, 2);
    const rest = call('listshareholders', { bitmarkid: hashToHex(x), count: 2, after: first.next }) as {
      holders: unknown[];
      next?: string;
    };
    assert.deepEqual([...first.holders, ...rest.holders], all.holders);
    assert.equal(rest.next, undefined);
  });

  it('getshareprovenance: the split, then the grant with who gave and who got', () => {
    const p = call('getshareprovenance', { bitmarkid: hashToHex(x) }) as {
      moves: {
        txid: string;
        from: { address: string; quantity: number }[];
        to: { vout: number; address: string; quantity: number }[];
      }[];
    };
    assert.deepEqual(
      p.moves.map((m) => m.txid),
      [split, grant].map((d) => hashToHex(d.txid)),
    );
    assert.deepEqual(p.moves[0]!.from, []);
    assert.deepEqual(p.moves[1]!.from, [{ address: addr(alice.owner), quantity: 100 }]);
    assert.deepEqual(p.moves[1]!.to[1], { vout: 1, address: addr(carol.owner), quantity: 20 });
  });

  it("the bitmark's provenance and getbitmark say it was split", () => {
    const hops = call('getprovenance', { bitmarkid: hashToHex(x) }) as {
      txid: string;
      vout: number | null;
      split?: { total: number };
    }[];
    assert.deepEqual(hops.at(-1)!.split, { total: 100 });
    assert.equal(hops.at(-1)!.vout, null);
    assert.equal(hops.at(-1)!.txid, hashToHex(split.txid));
    const b = call('getbitmark', { bitmarkid: hashToHex(x) }) as { split?: { txid: string; total: number } };
    assert.deepEqual(b.split, { txid: hashToHex(split.txid), total: 100 });
  });

  it('listunspent and transaction JSON show shares', () => {
    const u = call('listunspent', { address: addr(carol.owner) }) as {
      shares?: { bitmark: string; quantity: number };
    }[];
    assert.deepEqual(u[0]!.shares, { bitmark: hashToHex(x), quantity: 20 });
    const j = txJson(split, LOCAL) as { kind: string; split: unknown; vout: { shares?: unknown }[] };
    assert.equal(j.kind, 'split');
    assert.deepEqual(j.split, { bitmark: hashToHex(x), total: 100 });
    assert.deepEqual(j.vout[0]!.shares, { bitmark: hashToHex(x), quantity: 100 });
  });

  it('errors: a bitmark that was not split is not found (-5); a bad address names the parameter', () => {
    assert.throws(
      () => call('listshareholders', { bitmarkid: '11'.repeat(32) }),
      (e: unknown) => e instanceof RpcError && e.rpcCode === -5,
    );
    assert.throws(
      () => call('getshareprovenance', { bitmarkid: '11'.repeat(32) }),
      (e: unknown) => e instanceof RpcError && e.rpcCode === -5,
    );
    assert.throws(
      () => call('getsharebalances', { address: 'nope' }),
      (e: unknown) => e instanceof RpcError && /address/.test(e.message),
    );
    assert.throws(
      () => call('listshareholders', { bitmarkid: hashToHex(x), after: 'nope' }),
      (e: unknown) => e instanceof RpcError && /after/.test(e.message),
    );
  });
});
