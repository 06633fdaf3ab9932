/** Cairn's own RPCs: balances and unspent outputs by address, assets, bitmarks, provenance. */
import { encodeAddress } from '../../../../shared/core/address.ts';
import { hashToHex, toHex } from '../../../../shared/core/bytes.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { addressArg, hashArg } from './util.ts';

export function ledgerMethods(api: NodeApi): MethodDef[] {
  const ledger = () => api.state.chain.ledger;
  const tip = () => api.state.chain.tipHeight();
  return [
    {
      name: 'listunspent',
      help: 'Unspent outputs of ADDRESS (confirmed), with their coins and bitmarks.',
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
        return {
          id: hashToHex(a.id),
          name: a.name,
          fingerprint: toHex(a.fingerprint),
          metadata: toHex(a.metadata),
          registrant: encodeAddress(api.params.addressPrefix, a.registrant),
          txid: hashToHex(a.txid),
          height: a.height,
        };
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
        return {
          id: hashToHex(id),
          asset: hashToHex(loc.assetId),
          txid: hashToHex(loc.txid),
          vout: loc.vout,
          ...(coin ? { owner: encodeAddress(api.params.addressPrefix, coin.owner) } : {}),
        };
      },
    },
    {
      name: 'getprovenance',
      help: 'Every hop of a bitmark from its issue to now: txid, output, owner, height.',
      params: [{ name: 'bitmarkid', type: 'hash' }],
      run: ({ bitmarkid }) => {
        const hops = ledger().provenance(hashArg('bitmarkid', bitmarkid));
        if (hops.length === 0) throw new RpcError(RPC.INVALID_ADDRESS, 'Bitmark not found');
        return hops.map((h) => ({
          txid: hashToHex(h.txid),
          vout: h.vout,
          owner: encodeAddress(api.params.addressPrefix, h.owner),
          height: h.height,
        }));
      },
    },
  ];
}
