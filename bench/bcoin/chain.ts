/**
 * The bcoin side's chain, the same shape as bench/p2p.ts's buildChain for Cairn: BLOCKS funding
 * blocks whose coinbases pay PER P2PKH outputs (one per key), the coinbase maturity (100 on
 * regtest), then BLOCKS blocks of PER two-output P2PKH transfers, each spending one funding output
 * (a third to the next key, the rest back as change less a 1,000-satoshi fee); with `twoInputs`,
 * every other transfer of the second and later transfer blocks also spends its key's change from
 * the block before, as buildChain({ twoInputs: true }).
 * Built with bcoin's own library in this process (its FullNode on regtest, its Chain validating
 * every block as it is added, MTX signing), into a data directory that a bcoin node then serves.
 */
import { createHash } from 'node:crypto';
import { freePorts } from '../../test/unit/zmq/ports.ts';
import type { BcoinInstall } from './install.ts';

export const FEE = 1000;

/** A coin the bench can spend later (mempool acceptance): output 1 (change) of a transfer. */
export interface BcoinSpendable {
  /** txid in bcoin's internal byte order */
  hash: Buffer;
  index: number;
  value: number;
  height: number;
  key: number;
}

export interface BcoinChain {
  height: number;
  txs: number;
  /** inputs of the transfers (signatures to verify) */
  inputs: number;
  // biome-ignore lint/suspicious/noExplicitAny: bcoin's KeyRing
  rings: any[];
  /** change outputs of the transfer blocks, newest block first */
  spendable: BcoinSpendable[];
  buildSeconds: number;
}

// biome-ignore-start lint/suspicious/noExplicitAny: bcoin is untyped JavaScript
/** Builds the chain into `prefix` (a bcoin data directory) and closes it. */
export async function buildBcoinChain(
  bcoin: BcoinInstall,
  prefix: string,
  blocks: number,
  per: number,
  twoInputs = false,
): Promise<BcoinChain> {
  const b = bcoin.lib;
  const t0 = performance.now();
  const [httpPort] = await freePorts(1);
  const node = new b.FullNode({
    network: 'regtest',
    prefix,
    memory: false,
    workers: true, // verify the blocks being built on both cores
    listen: false,
    checkpoints: false,
    logLevel: 'error',
    logConsole: false,
    logFile: false,
    httpHost: '127.0.0.1',
    httpPort,
  });
  await node.ensure();
  await node.open();
  const chain = node.chain;
  const maturity = b.consensus.COINBASE_MATURITY as number;
  const rings: any[] = Array.from({ length: per }, (_, k) =>
    b.KeyRing.fromPrivate(createHash('sha256').update(`cairn-bench-bcoin-${k}`).digest(), true),
  );
  const addresses = rings.map((r) => r.getAddress());
  let txs = 0;

  /** Mines a block on the tip with `list` after a coinbase paying the reward to every key or to key 0. */
  const mine = async (pay: 'split' | 'one', list: any[], fees: number) => {
    const prev = chain.tip;
    const height = prev.height + 1;
    const reward = b.consensus.getReward(height, chain.network.halvingInterval) + fees;
    const cb = new b.MTX();
    const input = new b.Input();
    input.script.pushInt(height);
    input.script.pushData(
      Buffer.from(createHash('sha256').update(`${height}-${Math.random()}`).digest()).subarray(0, 8),
    );
    input.script.compile();
    cb.inputs.push(input);
    if (pay === 'split') for (const address of addresses) cb.addOutput(address, Math.floor(reward / per));
    else cb.addOutput(addresses[0], reward);
    const block = new b.Block();
    block.version = await chain.computeBlockVersion(prev);
    block.prevBlock = prev.hash;
    block.time = Math.max(prev.time + 1, Math.floor(Date.now() / 1000) - 100_000 + height);
    block.bits = await chain.getTarget(block.time, prev);
    block.txs = [cb.toTX(), ...list];
    block.merkleRoot = block.createMerkleRoot();
    for (block.nonce = 0; !block.verifyPOW(); block.nonce++) block.refresh();
    await chain.add(block);
    txs += block.txs.length;
    return block;
  };

  try {
    const funding: any[] = [];
    for (let i = 0; i < blocks; i++) funding.push((await mine('split', [], 0)).txs[0]);
    for (let i = 0; i < maturity; i++) await mine('one', [], 0);
    // change outputs of each transfer block (as coins), undefined once spent
    const change: (any | undefined)[][] = [];
    let inputs = 0;
    for (let i = 0; i < blocks; i++) {
      const cb = funding[i]!;
      const height = chain.tip.height + 1;
      const list = rings.map((ring, k) => {
        const mtx = new b.MTX();
        mtx.addCoin(b.Coin.fromTX(cb, k, i + 1));
        const prev = change[i - 1]?.[k];
        if (twoInputs && k % 2 === 1 && prev !== undefined) {
          mtx.addCoin(prev);
          change[i - 1]![k] = undefined;
        }
        const value = mtx.getInputValue();
        const third = Math.floor(value / 3);
        mtx.addOutput(addresses[(k + 1) % per], third);
        mtx.addOutput(addresses[k], value - third - FEE);
        if (mtx.sign(ring) !== mtx.inputs.length) throw new Error('bcoin bench: could not sign a transfer');
        inputs += mtx.inputs.length;
        return mtx.toTX();
      });
      await mine('one', list, FEE * per);
      change.push(list.map((tx: any) => b.Coin.fromTX(tx, 1, height)));
    }
    const spendable: BcoinSpendable[] = change
      .reverse()
      .flatMap((coins) =>
        coins.flatMap((c, k) =>
          c === undefined ? [] : [{ hash: c.hash, index: 1, value: c.value, height: c.height, key: k }],
        ),
      );
    return {
      height: chain.tip.height,
      txs,
      inputs,
      rings,
      spendable,
      buildSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await node.close();
  }
}
// biome-ignore-end lint/suspicious/noExplicitAny: bcoin is untyped JavaScript
