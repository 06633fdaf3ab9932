import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock } from '../../../shared/core/block/codec.ts';
import { equalBytes } from '../../../shared/core/bytes.ts';
import { buildGenesisBlock, GENESIS_SPECS } from '../../../shared/core/params/genesis.ts';
import {
  blockSubsidy,
  isNetworkName,
  LOCAL,
  MAIN,
  NETWORKS,
  TEST,
} from '../../../shared/core/params/networks.ts';
import { checkHeader } from '../../../shared/core/validation/block-check.ts';
import { connectBlock } from '../../../shared/core/validation/connect.ts';

describe('network parameters', () => {
  it('each genesis block is reproducible from its spec and stored nonce, and meets its PoW', () => {
    for (const p of Object.values(NETWORKS)) {
      const stored = decodeBlock(p.genesisBlock);
      const rebuilt = buildGenesisBlock(GENESIS_SPECS[p.name], stored.header.nonce);
      assert.ok(equalBytes(rebuilt, p.genesisBlock), `${p.name} genesis differs from its spec`);
      assert.equal(stored.header.bits, p.powLimitBits);
      assert.equal(stored.header.time, p.genesisTime);
      checkHeader(stored.header, stored.hash, p);
      assert.ok(equalBytes(stored.hash, p.genesisHash));
    }
  });

  it('networks have distinct genesis hashes, address prefixes and ports offset by 10000', () => {
    assert.equal(
      new Set(Object.values(NETWORKS).map((p) => Buffer.from(p.genesisHash).toString('hex'))).size,
      3,
    );
    assert.equal(new Set(Object.values(NETWORKS).map((p) => p.addressPrefix)).size, 3);
    assert.deepEqual(
      [
        MAIN.ports.peer,
        MAIN.ports.proofJobs,
        MAIN.ports.proofSubmit,
        MAIN.ports.feed,
        MAIN.ports.rpc,
        MAIN.ports.metrics,
        MAIN.ports.discovery,
        MAIN.ports.discoveryEvents,
      ],
      [2136, 2138, 2139, 2135, 2131, 2132, 2140, 2141],
    );
    for (const k of Object.keys(MAIN.ports) as (keyof typeof MAIN.ports)[]) {
      assert.equal(TEST.ports[k], MAIN.ports[k] + 10000);
      assert.equal(LOCAL.ports[k], MAIN.ports[k] + 20000);
    }
  });

  it('subsidy halves on schedule and the total stays within maxMoney and exact JS integers', () => {
    for (const p of Object.values(NETWORKS)) {
      assert.equal(blockSubsidy(0, p), p.initialSubsidy);
      assert.equal(blockSubsidy(p.halvingInterval - 1, p), p.initialSubsidy);
      assert.equal(blockSubsidy(p.halvingInterval, p), p.initialSubsidy / 2);
      assert.equal(blockSubsidy(p.halvingInterval * 64, p), 0);
      let total = 0;
      for (let h = 0; h < 64; h++) total += blockSubsidy(h * p.halvingInterval, p) * p.halvingInterval;
      assert.ok(total <= p.maxMoney, `${p.name}: issuance ${total} > maxMoney ${p.maxMoney}`);
      assert.ok(p.maxMoney <= Number.MAX_SAFE_INTEGER);
    }
  });

  it('the genesis coinbase pays nothing, so connecting it creates no spendable value', () => {
    const g = decodeBlock(LOCAL.genesisBlock);
    const fx = connectBlock(g, 0, { getCoin: () => undefined, getAsset: () => undefined }, LOCAL);
    assert.equal(
      fx.created.reduce((s, c) => s + c.coin.amount, 0),
      0,
    );
  });

  it('isNetworkName accepts exactly the three names', () => {
    assert.ok(isNetworkName('main') && isNetworkName('test') && isNetworkName('local'));
    assert.ok(!isNetworkName('regtest') && !isNetworkName('Main'));
  });
});
