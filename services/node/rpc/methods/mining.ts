/** Mining RPCs: mining info with each recorder's rates, local block generation. */
import { encodeAddress } from '../../../../shared/core/address.ts';
import { encodeHeader } from '../../../../shared/core/block/header.ts';
import { hashToHex, toHex } from '../../../../shared/core/bytes.ts';
import { DecodeError } from '../../../../shared/core/errors.ts';
import { MAX_COINBASE_DATA } from '../../../../shared/core/limits.ts';
import { targetFromBits } from '../../../../shared/core/pow/compact.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { addressArg, hexArg, rawHexArg } from './util.ts';

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
      name: 'getblocktemplate',
      help: 'A template for the next block paying TEMPLATE_REQUEST.payout (an address: the node keeps no wallet), optionally with TEMPLATE_REQUEST.coinbasedata (hex, ≤ 64 bytes). The coinbase is built; a miner varies the nonce (and time up to the future limit) and sends the block with submitblock.',
      params: [{ name: 'template_request', type: 'object' }],
      run: ({ template_request }) => {
        const req = template_request as Record<string, unknown>;
        if (req.payout === undefined)
          throw new RpcError(
            RPC.INVALID_PARAMETER,
            'template_request.payout: an address to pay the block reward to is required (the node keeps no wallet)',
          );
        const owner = addressArg('template_request.payout', req.payout, api.params);
        let coinbaseData: Uint8Array | undefined;
        if (req.coinbasedata !== undefined) {
          coinbaseData = hexArg('template_request.coinbasedata', req.coinbasedata);
          if (coinbaseData.length > MAX_COINBASE_DATA)
            throw new RpcError(
              RPC.INVALID_PARAMETER,
              `template_request.coinbasedata: at most ${MAX_COINBASE_DATA} bytes`,
            );
        }
        const t = api.state.template({ payouts: [{ owner }], ...(coinbaseData ? { coinbaseData } : {}) });
        const [coinbase, ...txs] = t.txs;
        const pool = api.state.reservoir;
        const tipHash = hashToHex(t.header.prevHash);
        return {
          version: t.header.version,
          previousblockhash: tipHash,
          height: t.height,
          curtime: t.header.time,
          mintime: t.minTime,
          bits: t.header.bits.toString(16).padStart(8, '0'),
          target: t.target.toString(16).padStart(64, '0'),
          noncerange: '0000000000000000ffffffffffffffff',
          coinbasevalue: t.reward,
          fees: t.fees,
          sizelimit: api.params.maxBlockSize,
          merkleroot: hashToHex(t.header.merkleRoot),
          header: toHex(encodeHeader(t.header)),
          coinbasetxn: { data: toHex(coinbase!.raw), txid: hashToHex(coinbase!.txid) },
          transactions: txs.map((tx) => ({
            data: toHex(tx.raw),
            txid: hashToHex(tx.txid),
            fee: pool.get(tx.txid)?.fee,
          })),
          longpollid: `${tipHash}${pool.size}`,
          ...(t.fallbackReason === undefined ? {} : { warning: t.fallbackReason }),
        };
      },
    },
    {
      name: 'submitblock',
      help: 'Offers a solved block (hex). Returns null when it became the tip, else why not: duplicate, inconclusive (valid but not on the best chain, or its parent is unknown), or the reject code.',
      params: [{ name: 'hexdata', type: 'string', maxLength: 2 * api.params.maxBlockSize }],
      run: ({ hexdata }) => {
        const r = api.state.chain.processBlock(rawHexArg('hexdata', hexdata, 'Block'));
        switch (r.status) {
          case 'connected':
            return null;
          case 'duplicate':
            return 'duplicate';
          case 'side':
          case 'orphan':
            return 'inconclusive';
          case 'invalid': {
            if (r.error instanceof DecodeError)
              throw new RpcError(RPC.DESERIALIZATION, `Block decode failed: ${r.error.message}`);
            return r.error?.code ?? 'rejected';
          }
        }
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
