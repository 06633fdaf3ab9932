/** Mempool RPCs (Bitcoin Core names; reject codes as Core: -25/-26/-27). */
import { hashToHex } from '../../../../shared/core/bytes.ts';
import { DecodeError, ValidationError } from '../../../../shared/core/errors.ts';
import { decodeTx } from '../../../../shared/core/tx/codec.ts';
import { PolicyError } from '../../reservoir/errors.ts';
import type { ReservoirEntry } from '../../reservoir/reservoir.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { hashArg, rawHexArg } from './util.ts';

export function entryJson(e: ReservoirEntry): Record<string, unknown> {
  return {
    size: e.size,
    fee: e.fee,
    feerate: e.feeRate,
    time: e.time,
    height: e.height,
    ancestorcount: e.ancestorCount,
    ancestorsize: e.ancestorSize,
    ancestorfees: e.ancestorFee,
    descendantcount: e.descendantCount,
    descendantsize: e.descendantSize,
    descendantfees: e.descendantFee,
    depends: [...e.parents].map((p) => hashToHex(p.txid)),
    spentby: [...e.children].map((c) => hashToHex(c.txid)),
  };
}

export function mempoolMethods(api: NodeApi): MethodDef[] {
  const pool = () => api.state.reservoir;
  // concurrent sendrawtransaction calls (and peers' pushes): signatures verified in batches on
  // the verify workers
  const submitter = api.state.submitter;
  /** Accepts one raw tx; maps every refusal to Core's codes with the reject reason. */
  const accept = async (hex: unknown): Promise<string> => {
    let d: ReturnType<typeof decodeTx>;
    try {
      d = decodeTx(rawHexArg('hexstring', hex, 'TX'));
    } catch (e) {
      if (e instanceof DecodeError) throw new RpcError(RPC.DESERIALIZATION, `TX decode failed: ${e.message}`);
      throw e;
    }
    if (api.state.chain.ledger.txLocation(d.txid) !== undefined)
      throw new RpcError(RPC.VERIFY_ALREADY_IN_CHAIN, 'Transaction already in block chain');
    try {
      const r = await submitter.submit(d);
      if (r.status === 'orphan')
        throw new RpcError(
          RPC.VERIFY,
          'bad-txns-inputs-missingorspent: waiting for its parents in the orphan pool',
        );
      return hashToHex(d.txid);
    } catch (e) {
      if (e instanceof PolicyError && e.code === 'txn-already-in-mempool') return hashToHex(d.txid);
      if (e instanceof PolicyError || e instanceof ValidationError)
        throw new RpcError(RPC.VERIFY_REJECTED, e.message, { code: e.code });
      throw e;
    }
  };
  return [
    {
      name: 'sendrawtransaction',
      help: 'Submits a raw transaction (hex) to the mempool and relays it; returns its txid.',
      params: [{ name: 'hexstring', type: 'string', maxLength: 2_000_000 }],
      run: ({ hexstring }) => accept(hexstring),
    },
    {
      name: 'testmempoolaccept',
      help: 'Whether the mempool would accept each raw transaction (structure and signatures checked; nothing added).',
      params: [{ name: 'rawtxs', type: 'array' }],
      run: ({ rawtxs }) =>
        (rawtxs as unknown[]).slice(0, 25).map((hex) => {
          try {
            const d = decodeTx(rawHexArg('rawtxs', hex, 'TX'));
            return {
              txid: hashToHex(d.txid),
              allowed: !pool().has(d.txid) && api.state.chain.ledger.txLocation(d.txid) === undefined,
            };
          } catch (e) {
            return { allowed: false, 'reject-reason': (e as Error).message };
          }
        }),
    },
    {
      name: 'getrawmempool',
      help: 'Txids in the mempool, or a txid → entry object when verbose.',
      params: [{ name: 'verbose', type: 'boolean', optional: true }],
      run: ({ verbose }) => {
        const entries = [...pool().entries()];
        if (verbose !== true) return entries.map((e) => hashToHex(e.txid));
        return Object.fromEntries(entries.map((e) => [hashToHex(e.txid), entryJson(e)]));
      },
    },
    {
      name: 'getmempoolinfo',
      help: 'Size, bytes, usage and fees of the mempool, its limits and fee floors (Core names; fees in base units, fee rates in base units per byte), plus the orphans and the reorg holding area.',
      params: [],
      run: () => {
        const i = pool().info(api.clock());
        return {
          loaded: true,
          size: i.count,
          bytes: i.bytes,
          usage: i.usage,
          total_fee: i.totalFee,
          maxmempool: i.maxBytes,
          mempoolminfee: i.minFeeRate,
          minrelaytxfee: i.minRelayFeeRate,
          // transactions are announced to every outbound peer within 50 ms of acceptance and
          // kept in no unbroadcast set: there is nothing to count
          unbroadcastcount: 0,
          // Cairn's own
          orphans: i.orphans,
          held: i.held,
          heldusage: i.heldUsage,
          verifybatches: api.state.submitter.batches,
          verifybatchedtxs: api.state.submitter.batchedTxs,
          verifyinlinetxs: api.state.submitter.inlineTxs,
        };
      },
    },
    {
      name: 'getmempoolentry',
      help: 'The mempool entry of TXID.',
      params: [{ name: 'txid', type: 'hash' }],
      run: ({ txid }) => {
        const e = pool().get(hashArg('txid', txid));
        if (e === undefined) throw new RpcError(RPC.INVALID_ADDRESS, 'Transaction not in mempool');
        return entryJson(e);
      },
    },
    {
      name: 'estimatesmartfee',
      help: 'Fee rate (base units per byte) likely to confirm within CONF_TARGET blocks, from recent blocks.',
      params: [{ name: 'conf_target', type: 'integer', min: 1, max: 1008 }],
      run: ({ conf_target }) => {
        const e = api.state.fees.estimateSmartFee(conf_target as number);
        return e === null
          ? { errors: ['Insufficient data or no feerate found'], blocks: conf_target }
          : { feerate: e.feeRate, blocks: e.blocks };
      },
    },
  ];
}
