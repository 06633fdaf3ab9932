/** Cairn's share RPCs: share balances of an address, holders of a share kind, share provenance. */

import { encodeAddress } from '../../../../shared/core/address.ts';
import { hashToHex } from '../../../../shared/core/bytes.ts';
import type { ShareKindRecord } from '../../db/records.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { addressArg, hashArg } from './util.ts';

export function shareMethods(api: NodeApi): MethodDef[] {
  const ledger = () => api.state.chain.ledger;
  const address = (owner: Uint8Array) => encodeAddress(api.params.addressPrefix, owner);
  const timeAt = (height: number) => api.state.chain.entryAt(height)?.header.time;

  function kindOf(id: Uint8Array): ShareKindRecord {
    const k = ledger().shares.kind(id);
    if (k === undefined)
      throw new RpcError(RPC.INVALID_ADDRESS, 'No shares of this bitmark (it was not split)');
    return k;
  }

  function kindJson(id: Uint8Array, k: ShareKindRecord): Record<string, unknown> {
    return {
      bitmark: hashToHex(id),
      asset: hashToHex(k.assetId),
      total: k.total,
      split: { txid: hashToHex(k.txid), height: k.height, time: timeAt(k.height), owner: address(k.owner) },
    };
  }

  return [
    {
      name: 'getsharebalances',
      help: 'Shares held by ADDRESS (confirmed): per share kind (the split bitmark), the quantity and the total it is a fraction of.',
      params: [{ name: 'address', type: 'string' }],
      run: ({ address: a }) => {
        const owner = addressArg('address', a, api.params);
        return ledger()
          .shares.balances(owner)
          .map((b) => {
            const k = ledger().shares.kind(b.id);
            return {
              bitmark: hashToHex(b.id),
              quantity: b.quantity,
              ...(k === undefined ? {} : { total: k.total, asset: hashToHex(k.assetId) }),
            };
          });
      },
    },
    {
      name: 'listshareholders',
      help: 'Holders of the shares of BITMARKID (confirmed) in address byte order, COUNT at a time (default 100, at most 1000), after address AFTER. `next` is the AFTER of the next page.',
      params: [
        { name: 'bitmarkid', type: 'hash' },
        { name: 'count', type: 'integer', optional: true, min: 1, max: 1000 },
        { name: 'after', type: 'string', optional: true, maxLength: 100 },
      ],
      run: ({ bitmarkid, count, after }) => {
        const id = hashArg('bitmarkid', bitmarkid);
        const k = kindOf(id);
        const limit = (count as number | undefined) ?? 100;
        const holders = ledger().shares.holders(id, {
          limit,
          ...(after === undefined ? {} : { after: addressArg('after', after, api.params) }),
        });
        return {
          ...kindJson(id, k),
          holders: holders.map((h) => ({ address: address(h.owner), quantity: h.quantity })),
          ...(holders.length === limit ? { next: address(holders[holders.length - 1]!.owner) } : {}),
        };
      },
    },
    {
      name: 'getshareprovenance',
      help: 'The split of BITMARKID into shares and every later move of its shares, oldest first (at most COUNT, default 1000): txid, height, time, who gave (address, quantity) and which outputs got how many.',
      params: [
        { name: 'bitmarkid', type: 'hash' },
        { name: 'count', type: 'integer', optional: true, min: 1, max: 10_000 },
      ],
      run: ({ bitmarkid, count }) => {
        const id = hashArg('bitmarkid', bitmarkid);
        const k = kindOf(id);
        const moves = ledger().shares.history(id, (count as number | undefined) ?? 1000);
        return {
          ...kindJson(id, k),
          moves: moves.map((m) => ({
            txid: hashToHex(m.txid),
            height: m.height,
            time: timeAt(m.height),
            from: m.from.map((f) => ({ address: address(f.owner), quantity: f.quantity })),
            to: m.to.map((t) => ({ vout: t.vout, address: address(t.owner), quantity: t.quantity })),
          })),
        };
      },
    },
  ];
}
