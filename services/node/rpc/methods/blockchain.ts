/** Blockchain RPCs, Bitcoin Core's names and shapes where they exist. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBlock } from '../../../../shared/core/block/codec.ts';
import { encodeHeader } from '../../../../shared/core/block/header.ts';
import { hashToHex, toHex } from '../../../../shared/core/bytes.ts';
import { DecodeError } from '../../../../shared/core/errors.ts';
import { targetFromBits } from '../../../../shared/core/pow/compact.ts';
import { decodeTx } from '../../../../shared/core/tx/codec.ts';
import { medianTimePast } from '../../../../shared/core/validation/header-context.ts';
import type { IndexEntry } from '../../chain/block-index.ts';
import { BLOCK_PRUNED_MESSAGE } from '../../chain/prune-errors.ts';
import { isPruned } from '../../chain/pruner.ts';
import { blockJson, txJson } from '../../render.ts';
import { type MethodDef, RPC, RpcError } from '../method.ts';
import type { NodeApi } from './api.ts';
import { hashArg, rawHexArg } from './util.ts';

/**
 * Bytes the LMDB files of the chain database take on disk (blocks allocated: LMDB's data file may
 * be sparse), as Core's `size_on_disk`.
 */
export function sizeOnDisk(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      try {
        const st = statSync(join(dir, name));
        if (st.isFile()) total += Math.min(st.size, st.blocks * 512);
      } catch {
        // removed meanwhile
      }
    }
  } catch {
    // no directory: nothing on disk
  }
  return total;
}

const STATUS = ['headers-only', 'valid-fork', 'active', 'invalid'] as const;

export function blockchainMethods(api: NodeApi): MethodDef[] {
  const chain = () => api.state.chain;
  const difficulty = (bits: number) =>
    Number(
      (api.params.powLimit * 1000n) / (targetFromBits(bits, api.params.powLimit) ?? api.params.powLimit),
    ) / 1000;
  const entryOf = (hash: Uint8Array): IndexEntry => {
    const e = chain().entry(hash);
    if (e === undefined) throw new RpcError(RPC.INVALID_ADDRESS, 'Block not found');
    return e;
  };
  const headerJson = (e: IndexEntry) => {
    const next = chain().isActive(e) ? chain().entryAt(e.height + 1) : undefined;
    return {
      hash: hashToHex(e.hash),
      confirmations: chain().isActive(e) ? chain().tipHeight() - e.height + 1 : -1,
      height: e.height,
      version: e.header.version,
      merkleroot: hashToHex(e.header.merkleRoot),
      time: e.header.time,
      mediantime: medianTimePast(recentTimes(e)),
      nonce: e.header.nonce.toString(),
      bits: e.header.bits.toString(16).padStart(8, '0'),
      difficulty: difficulty(e.header.bits),
      chainwork: e.work.toString(16).padStart(64, '0'),
      ...(e.parent ? { previousblockhash: hashToHex(e.parent.hash) } : {}),
      ...(next ? { nextblockhash: hashToHex(next.hash) } : {}),
    };
  };
  const recentTimes = (e: IndexEntry) => {
    const out: number[] = [];
    for (let x: IndexEntry | null = e; x !== null && out.length < api.params.medianTimeSpan; x = x.parent)
      out.push(x.header.time);
    return out;
  };

  const pruneInfo = () => {
    const c = chain();
    const pruner = api.state.pruner;
    const pruned = pruner !== undefined || c.pruneHeight > 0;
    if (!pruned) return { pruned: false };
    return {
      pruned: true,
      pruneheight: c.pruneHeight === 0 ? 0 : c.pruneHeight + 1,
      automatic_pruning: pruner !== undefined,
      ...(pruner === undefined ? {} : { prune_target_size: pruner.targetBytes }),
    };
  };

  return [
    {
      name: 'pruneblockchain',
      help: 'Deletes the data of the blocks up to HEIGHT now (at most the tip less 288); returns the height of the last block pruned. Needs storage.prune_mb.',
      params: [{ name: 'height', type: 'integer', min: 0 }],
      run: ({ height }) => {
        const pruner = api.state.pruner;
        if (pruner === undefined)
          throw new RpcError(RPC.MISC, 'Cannot prune blocks because node is not in prune mode.');
        if ((height as number) > chain().tipHeight())
          throw new RpcError(RPC.INVALID_PARAMETER, 'Blockchain is shorter than the attempted prune height.');
        return pruner.pruneTo(height as number);
      },
    },
    {
      name: 'getblockchaininfo',
      help: 'State of the block chain: network, height, best block, difficulty, verification progress.',
      params: [],
      run: () => {
        const c = chain();
        const best = c.bestHeader();
        return {
          chain: api.params.name,
          blocks: c.tipHeight(),
          headers: best.height,
          bestblockhash: hashToHex(c.tip.hash),
          difficulty: difficulty(c.tip.header.bits),
          time: c.tip.header.time,
          mediantime: medianTimePast(recentTimes(c.tip)),
          verificationprogress: best.height === 0 ? 1 : c.tipHeight() / best.height,
          initialblockdownload: api.health.initialBlockDownload(),
          chainwork: c.tip.work.toString(16).padStart(64, '0'),
          // a list, as Core v28+ (stall, storage failure, inconsistent state)
          size_on_disk: sizeOnDisk(api.state.db.path),
          // as Core: pruneheight is the lowest height with block data (0 = nothing pruned yet)
          ...pruneInfo(),
          warnings: api.health.warnings(),
        };
      },
    },
    {
      name: 'gettxoutsetinfo',
      help: 'Statistics of the UTXO set at the tip: outputs, total coins, and a hash of the whole set (equal on nodes with the same set).',
      params: [],
      run: () => {
        const c = chain();
        const tip = c.tip;
        const stats = c.ledger.utxoStats();
        return {
          height: tip.height,
          bestblock: hashToHex(tip.hash),
          txouts: stats.txouts,
          // SHA-256 over the set's keys and values in key order (Cairn's own serialization)
          hash_serialized: toHex(stats.hash),
          total_amount: Number(stats.amount),
        };
      },
    },
    {
      name: 'getblockcount',
      help: 'Height of the active chain.',
      params: [],
      run: () => chain().tipHeight(),
    },
    {
      name: 'getbestblockhash',
      help: 'Hash of the tip of the active chain.',
      params: [],
      run: () => hashToHex(chain().tip.hash),
    },
    {
      name: 'getblockhash',
      help: 'Hash of the block at HEIGHT of the active chain.',
      params: [{ name: 'height', type: 'integer', min: 0 }],
      run: ({ height }) => {
        const e = chain().entryAt(height as number);
        if (e === undefined) throw new RpcError(RPC.INVALID_PARAMETER, 'Block height out of range');
        return hashToHex(e.hash);
      },
    },
    {
      name: 'getblockheader',
      help: 'Header of the block HASH: JSON (verbose, default) or hex.',
      params: [
        { name: 'blockhash', type: 'hash' },
        { name: 'verbose', type: 'boolean', optional: true },
      ],
      run: ({ blockhash, verbose }) => {
        const e = entryOf(hashArg('blockhash', blockhash));
        return verbose === false ? toHex(encodeHeader(e.header)) : headerJson(e);
      },
    },
    {
      name: 'getblock',
      help: 'Block HASH: verbosity 0 = hex, 1 = JSON with txids (default), 2 = JSON with transactions.',
      params: [
        { name: 'blockhash', type: 'hash' },
        { name: 'verbosity', type: 'integer', optional: true, min: 0, max: 2 },
      ],
      run: ({ blockhash, verbosity }) => {
        const e = entryOf(hashArg('blockhash', blockhash));
        const raw = chain().getRawBlock(e.hash);
        if (raw === undefined && isPruned(chain(), e)) throw new RpcError(RPC.MISC, BLOCK_PRUNED_MESSAGE);
        if (raw === undefined) throw new RpcError(RPC.MISC, 'Block not available (headers only)');
        if (verbosity === 0) return toHex(raw);
        const b = decodeBlock(raw);
        const full = blockJson(b, e.height, api.params);
        const base = { ...headerJson(e), size: raw.length, nTx: b.txs.length };
        return verbosity === 2
          ? { ...base, tx: full.tx }
          : { ...base, tx: b.txs.map((t) => hashToHex(t.txid)) };
      },
    },
    {
      name: 'getchaintips',
      help: 'Every known chain tip: height, hash, branch length and status.',
      params: [],
      run: () => {
        const c = chain();
        const all = [...c.entries()];
        const parents = new Set(all.map((e) => e.parent?.key).filter((k) => k !== undefined));
        // as Core: every leaf, and the active tip even when headers were built on it
        return all
          .filter((e) => !parents.has(e.key) || e === c.tip)
          .map((e) => {
            let fork: IndexEntry | null = e;
            while (fork !== null && !c.isActive(fork)) fork = fork.parent;
            const status = c.isActive(e)
              ? 'active'
              : e.status === 3
                ? 'invalid'
                : e.status === 0
                  ? 'headers-only'
                  : 'valid-fork';
            return {
              height: e.height,
              hash: hashToHex(e.hash),
              branchlen: e.height - (fork?.height ?? 0),
              status: STATUS.includes(status) ? status : 'unknown',
            };
          });
      },
    },
    {
      name: 'getdifficulty',
      help: 'Difficulty of the tip (1 = the network’s easiest target).',
      params: [],
      run: () => difficulty(chain().tip.header.bits),
    },
    {
      name: 'getrawtransaction',
      help: 'A transaction of the mempool or the active chain: hex, or JSON when verbose.',
      params: [
        { name: 'txid', type: 'hash' },
        { name: 'verbose', type: 'any', optional: true },
      ],
      run: ({ txid, verbose }) => {
        const id = hashArg('txid', txid);
        const pooled = api.state.reservoir.get(id);
        let d = pooled?.tx;
        let where: Record<string, unknown> = {};
        if (d === undefined) {
          const loc = chain().ledger.txLocation(id);
          if (loc === undefined)
            throw new RpcError(RPC.INVALID_ADDRESS, 'No such mempool or blockchain transaction');
          const raw = chain().getRawBlock(loc.blockHash);
          if (raw === undefined)
            throw new RpcError(
              RPC.MISC,
              `Transaction data not available (pruned data): it is in block ${hashToHex(loc.blockHash)} at height ${loc.height}`,
            );
          const b = decodeBlock(raw);
          d = b.txs[loc.pos]!;
          where = {
            blockhash: hashToHex(loc.blockHash),
            confirmations: chain().tipHeight() - loc.height + 1,
            blocktime: b.header.time,
          };
        }
        if (verbose === true || verbose === 1 || verbose === 2)
          return { ...txJson(d, api.params), hex: toHex(d.raw), ...where };
        return toHex(d.raw);
      },
    },
    {
      name: 'decoderawtransaction',
      help: 'Decodes a transaction given in hex (no validation).',
      params: [{ name: 'hexstring', type: 'string' }],
      run: ({ hexstring }) => {
        try {
          return txJson(decodeTx(rawHexArg('hexstring', hexstring, 'TX')), api.params);
        } catch (e) {
          if (e instanceof DecodeError)
            throw new RpcError(RPC.DESERIALIZATION, `TX decode failed: ${e.message}`);
          throw e;
        }
      },
    },
  ];
}
