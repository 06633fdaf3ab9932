/** Mining RPCs: mining info with each recorder's rates, local block generation. */
import { encodeAddress } from '../../../../shared/core/address.ts';
import { hashToHex } from '../../../../shared/core/bytes.ts';
import { targetFromBits } from '../../../../shared/core/pow/compact.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { addressArg } from './util.ts';

export function miningMethods(api: NodeApi): MethodDef[] {
  return [
    {
      name: 'getmininginfo',
      help: 'Height, difficulty, mempool size, and for each connected recorder its blocks, shares and hash rate.',
      params: [],
      run: () => {
        const c = api.state.chain;
        const target = targetFromBits(c.tip.header.bits, api.params.powLimit) ?? api.params.powLimit;
        const recorders = (api.proof?.stats() ?? []).map((r) => ({
          key: r.key,
          payout: encodeAddress(api.params.addressPrefix, r.payout),
          blocks: r.blocks,
          shares: r.shares,
          stale: r.stale,
          invalid: r.invalid,
          hashrate: r.hashrate,
        }));
        return {
          blocks: c.tipHeight(),
          difficulty: Number((api.params.powLimit * 1000n) / target) / 1000,
          pooledtx: api.state.reservoir.size,
          chain: api.params.name,
          networkhashps: recorders.reduce((s, r) => s + r.hashrate, 0),
          recorders,
        };
      },
    },
    {
      name: 'generatetoaddress',
      help: 'Mines NBLOCKS blocks to ADDRESS on this node (network local only); returns their hashes.',
      params: [
        { name: 'nblocks', type: 'integer', min: 1, max: 1000 },
        { name: 'address', type: 'string' },
      ],
      run: ({ nblocks, address }) => {
        if (api.params.name !== 'local')
          throw new RpcError(RPC.MISC, 'generatetoaddress works on network local only');
        return api.state
          .generate(nblocks as number, addressArg('address', address, api.params))
          .map(hashToHex);
      },
    },
  ];
}
