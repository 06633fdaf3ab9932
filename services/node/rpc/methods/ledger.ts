/** Cairn's own RPCs: balances and unspent outputs by address, assets, bitmarks (listed by owner or asset), provenance. */

import { Buffer } from 'node:buffer';
import { encodeAddress } from '../../../../shared/core/address.ts';
import { hashToHex } from '../../../../shared/core/bytes.ts';
import type { AssetRecord } from '../../../../shared/core/validation/view.ts';
import { assetBytesJson } from '../../render.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { addressArg, hashArg } from './util.ts';

export function ledgerMethods(api: NodeApi): MethodDef[] {
  const ledger = () => api.state.chain.ledger;
  const tip = () => api.state.chain.tipHeight();
  const methods: MethodDef[] = [
    {
      name: 'listunspent',
      help: 'Unspent outputs of ADDRESS (confirmed), with their coins, bitmarks and shares.',
      params: [
        { name: 'address', type: 'string' },
        { name: 'limit', type: 'integer', optional: true, min: 1, max: 10_000 },
      ],
      run: ({ address, limit }) =>
        ledger()
          .addressUnspent(addressArg('address', address, api.params), (limit as number | undefined) ?? 1000)
          .map((u) => ({
            txid: hashToHex(u.txid),
            vout: u.vout,
            amount: u.coin.amount,
            confirmations: tip() - u.coin.height + 1,
            coinbase: u.coin.coinbase,
            ...(u.coin.bitmark === null ? {} : { bitmark: hashToHex(u.coin.bitmark) }),
            ...(u.coin.shares === undefined
              ? {}
              : { shares: { bitmark: hashToHex(u.coin.shares.id), quantity: u.coin.shares.quantity } }),
          })),
    },
    {
      name: 'getaddressinfo',
      help: 'Balance, unspent output count and bitmarks held by ADDRESS (confirmed).',
      params: [{ name: 'address', type: 'string' }],
      run: ({ address }) => {
        const owner = addressArg('address', address, api.params);
        const utxos = ledger().addressUnspent(owner, 10_000);
        return {
          address: encodeAddress(api.params.addressPrefix, owner),
          balance: utxos.reduce((s, u) => s + u.coin.amount, 0),
          unspent: utxos.length,
          bitmarks: utxos.filter((u) => u.coin.bitmark !== null).map((u) => hashToHex(u.coin.bitmark!)),
          txcount: ledger().addressHistory(owner, 10_000).length,
        };
      },
    },
    {
      name: 'getasset',
      help: 'A registered asset by its id.',
      params: [{ name: 'assetid', type: 'hash' }],
      run: ({ assetid }) => {
        const a = ledger().getAsset(hashArg('assetid', assetid));
        if (a === undefined) throw new RpcError(RPC.INVALID_ADDRESS, 'Asset not found');
        return assetJson(a);
      },
    },
    {
      name: 'getbitmark',
      help: 'Where a bitmark is now: its asset, the output holding it and its owner.',
      params: [{ name: 'bitmarkid', type: 'hash' }],
      run: ({ bitmarkid }) => {
        const id = hashArg('bitmarkid', bitmarkid);
        const loc = ledger().bitmark(id);
        if (loc === undefined) throw new RpcError(RPC.INVALID_ADDRESS, 'Bitmark not found');
        const coin = ledger().getCoin(loc.txid, loc.vout);
        const split = ledger().shares.kind(id);
        return {
          id: hashToHex(id),
          asset: hashToHex(loc.assetId),
          txid: hashToHex(loc.txid),
          vout: loc.vout,
          ...(coin ? { owner: encodeAddress(api.params.addressPrefix, coin.owner) } : {}),
          // held as shares only since its split (txid, vout name its last holder before it)
          ...(split === undefined ? {} : { split: { txid: hashToHex(split.txid), total: split.total } }),
        };
      },
    },
    {
      name: 'getprovenance',
      help: 'Every hop of a bitmark from its issue to now: txid, output, owner, height, time (of its block); a split bitmark ends with its split (vout null, `split.total`).',
      params: [{ name: 'bitmarkid', type: 'hash' }],
      run: ({ bitmarkid }) => {
        const id = hashArg('bitmarkid', bitmarkid);
        const hops = ledger().provenance(id);
        if (hops.length === 0) throw new RpcError(RPC.INVALID_ADDRESS, 'Bitmark not found');
        const out: Record<string, unknown>[] = hops.map((h) => ({
          txid: hashToHex(h.txid),
          vout: h.vout,
          owner: encodeAddress(api.params.addressPrefix, h.owner),
          height: h.height,
          time: api.state.chain.entryAt(h.height)?.header.time,
        }));
        // the last hop of a split bitmark: its owner converted it into shares (getshareprovenance goes on)
        const split = ledger().shares.kind(id);
        if (split !== undefined)
          out.push({
            txid: hashToHex(split.txid),
            vout: null,
            owner: encodeAddress(api.params.addressPrefix, split.owner),
            height: split.height,
            time: api.state.chain.entryAt(split.height)?.header.time,
            split: { total: split.total },
          });
        return out;
      },
    },
    {
      name: 'listassets',
      help: 'Registered assets in id order, COUNT at a time (default 100, at most 1000), after asset id AFTER; only those of REGISTRANT when given. `next` is the AFTER of the next page.',
      params: [
        { name: 'count', type: 'integer', optional: true, min: 1, max: 1000 },
        { name: 'after', type: 'hash', optional: true },
        { name: 'registrant', type: 'string', optional: true, maxLength: 100 },
      ],
      run: ({ count, after, registrant }) => {
        const limit = (count as number | undefined) ?? 100;
        const assets = ledger().listAssets({
          limit,
          ...(after === undefined ? {} : { after: hashArg('after', after) }),
          ...(registrant === undefined
            ? {}
            : { registrant: addressArg('registrant', registrant, api.params) }),
        });
        return {
          assets: assets.map((a) => assetJson(a)),
          ...(assets.length === limit ? { next: hashToHex(assets[assets.length - 1]!.id) } : {}),
        };
      },
    },
    {
      name: 'listbitmarks',
      help: 'Bitmarks held by OWNER (an address) and/or of ASSET, in id order, COUNT at a time (default 100, at most 1000), after bitmark id AFTER. `next` is the AFTER of the next page.',
      params: [
        { name: 'owner', type: 'string', optional: true, maxLength: 100 },
        { name: 'asset', type: 'hash', optional: true },
        { name: 'count', type: 'integer', optional: true, min: 1, max: 1000 },
        { name: 'after', type: 'hash', optional: true },
      ],
      run: ({ owner, asset, count, after }) => {
        const limit = (count as number | undefined) ?? 100;
        const afterId = after === undefined ? undefined : Buffer.from(hashArg('after', after));
        const assetId = asset === undefined ? undefined : hashArg('asset', asset);
        let found: {
          id: Uint8Array;
          assetId: Uint8Array;
          txid: Uint8Array;
          vout: number;
          owner?: Uint8Array;
        }[];
        if (owner !== undefined) {
          const o = addressArg('owner', owner, api.params);
          found = ledger()
            .addressUnspent(o, 10_000)
            .filter((u) => u.coin.bitmark !== null)
            .map((u) => ({ id: u.coin.bitmark!, ...ledger().bitmark(u.coin.bitmark!)!, owner: o }))
            .filter(
              (b) =>
                b.assetId !== undefined && (assetId === undefined || Buffer.from(assetId).equals(b.assetId)),
            )
            .filter((b) => afterId === undefined || Buffer.compare(Buffer.from(b.id), afterId) > 0)
            .sort((x, y) => Buffer.compare(Buffer.from(x.id), Buffer.from(y.id)))
            .slice(0, limit);
        } else {
          found = ledger().listBitmarks({
            limit,
            ...(afterId === undefined ? {} : { after: afterId }),
            ...(assetId === undefined ? {} : { assetId }),
          });
        }
        const bitmarks = found.map((b) => {
          const holder = b.owner ?? ledger().getCoin(b.txid, b.vout)?.owner;
          return {
            id: hashToHex(b.id),
            asset: hashToHex(b.assetId),
            txid: hashToHex(b.txid),
            vout: b.vout,
            ...(holder === undefined ? {} : { owner: encodeAddress(api.params.addressPrefix, holder) }),
          };
        });
        return {
          bitmarks,
          ...(found.length === limit ? { next: hashToHex(found[found.length - 1]!.id) } : {}),
        };
      },
    },
  ];
  return methods;

  function assetJson(a: AssetRecord): Record<string, unknown> {
    return {
      id: hashToHex(a.id),
      name: a.name,
      ...assetBytesJson(a.fingerprint, a.metadata),
      registrant: encodeAddress(api.params.addressPrefix, a.registrant),
      txid: hashToHex(a.txid),
      height: a.height,
    };
  }
}
