/**
 * A peer that connects hears of the mempool: a transaction accepted while the node had no peers
 * was relayed to nobody (the chaos soak lost such transactions when the node was killed later).
 * Real reservoir with real transactions; the peer is a stand-in for OutboundPeer that records
 * what it was told and wants everything.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KnownInventory } from '../../../services/node/p2p/known-inventory.ts';
import type { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { Relay } from '../../../services/node/p2p/relay.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { silentLogger } from '../../../shared/log.ts';
import { openChain, tempDir } from '../../helpers/node.ts';
import { makeEnv, NOW, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

it('a new peer is told of the mempool transactions it does not know, parents first', async () => {
  const env = makeEnv();
  const parent = payFee(env.alice, [env.funds[0]!, 0], SUBSIDY, 1000);
  const child = payFee(env.alice, [parent, 0], parent.tx.outputs[0]!.amount, 1000);
  const other = payFee(env.alice, [env.funds[1]!, 0], SUBSIDY, 1000);
  for (const t of [parent, child, other]) assert.equal(env.reservoir.accept(t, NOW).status, 'added');

  const pushed: string[] = [];
  const announced: string[] = [];
  const peer = {
    key: 'new',
    remote: {},
    known: new KnownInventory(),
    announce: async (inv: { txs: Uint8Array[] }) => {
      for (const h of inv.txs) {
        announced.push(toHex(h));
        peer.known.add(h);
      }
      return { blocks: [], txs: inv.txs.map((_, i) => i) };
    },
    pushTx: async (raw: Uint8Array) => {
      pushed.push(toHex(raw));
      return 'accepted';
    },
  };
  peer.known.add(other.txid); // it already has this one
  const dir = tempDir();
  const c = openChain(dir.path);
  try {
    const relay = new Relay({
      chain: c.chain,
      reservoir: env.reservoir,
      peers: () => [],
      logger: silentLogger(),
      syncing: () => false,
    });
    relay.greet(peer as unknown as OutboundPeer);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(announced, [toHex(parent.txid), toHex(child.txid)]);
    assert.deepEqual(pushed, [toHex(parent.raw), toHex(child.raw)]);
  } finally {
    c.close();
    dir.remove();
  }
});
