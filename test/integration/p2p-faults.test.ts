/**
 * Faults and hostile peers against real cairnd processes: garbage gets a ban while others are
 * served; SIGKILL during sync; restarts keep peers and mempool; a healed partition converges on
 * the most-work chain and the losing branch's transactions return to the mempool.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { hashToHex } from '../../shared/core/bytes.ts';
import { silentLogger } from '../../shared/log.ts';
import { RequestClient } from '../../shared/zmq/client.ts';
import { MemoryLedger, makeKey, out, signed, spend } from '../helpers/chain.ts';
import {
  eventually,
  heightOf,
  makeNode,
  makeProbeIdentity,
  type NodeProcess,
  probe,
  pushAll,
} from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const root = tempDir('cairn-it-faults-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

describe('cairnd under faults', { timeout: 300_000 }, () => {
  it('a peer that sends garbage is banned, and the node keeps serving others', async () => {
    const a = await makeNode({ name: 'g', root: root.path });
    await a.start();
    nodes.push(a);
    const bad = makeProbeIdentity(root.path, 'bad');
    const good = makeProbeIdentity(root.path, 'good');
    // without a session: told to say hello first
    const client = new RequestClient(
      { endpoint: `tcp://${a.address}`, keys: bad, serverKey: a.key },
      { logger: silentLogger() },
    );
    const first = await client.request(['getheaders', Buffer.from([1, 2, 3])], { timeoutMs: 5000 });
    assert.deepEqual(first.slice(0, 2).map(String), ['error', 'handshake-required']);
    // a hello with a garbage payload
    const garbageHello = await client.request(['hello', Buffer.from('not a hello')], { timeoutMs: 5000 });
    assert.deepEqual(garbageHello.slice(0, 2).map(String), ['error', 'malformed']);
    // wrong frame count
    const frames = await client.request(['ping'], { timeoutMs: 5000 });
    assert.deepEqual(frames.slice(0, 2).map(String), ['error', 'bad-frames']);
    client.close();
    // inside a session: malformed payloads (a 7-byte "hash") until the score reaches the ban
    const session = await probe(a, bad);
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      try {
        await session.getBlocks([new Uint8Array(7)]);
        codes.push('ok');
      } catch (e) {
        codes.push((e as { code: string }).code);
      }
    }
    await session.close();
    assert.deepEqual(codes.slice(0, 5), ['malformed', 'malformed', 'malformed', 'malformed', 'malformed']);
    assert.ok(
      codes.slice(5).every((c) => c === 'banned'),
      `after the ban: ${codes.join(',')}`,
    );
    await a.waitLog(/banned peer/, 10_000);
    // a banned key cannot come back
    await assert.rejects(
      () => probe(a, bad),
      (e: Error & { code?: string }) => e.code === 'banned',
    );
    // others are served all along
    assert.equal(await heightOf(a, good), 0);
  });

  it('a node killed with SIGKILL during sync restarts and completes', async () => {
    const src = await makeNode({ name: 'src', root: root.path });
    await src.start();
    nodes.push(src);
    const id = makeProbeIdentity(root.path, 'kill-probe');
    const ledger = new MemoryLedger();
    const miner = makeKey();
    for (let i = 0; i < 800; i++) ledger.apply(ledger.nextBlock([], miner.owner));
    const p = await probe(src, id);
    await pushAll(p, ledger.blocks.slice(1));
    await p.close();
    const victim = await makeNode({
      name: 'victim',
      root: root.path,
      connect: [{ address: src.address, key: src.key }],
    });
    await victim.start();
    nodes.push(victim);
    await victim.waitLog(/connected to peer/, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    await victim.kill();
    await victim.start();
    await eventually(
      'victim synced to 800 after a kill',
      async () => (await heightOf(victim, id)) === 800,
      120_000,
    );
  });

  it('a restarted node keeps its peers and its mempool', async () => {
    const hub = await makeNode({ name: 'hub', root: root.path });
    await hub.start();
    nodes.push(hub);
    const id = makeProbeIdentity(root.path, 'mempool-probe');
    const ledger = new MemoryLedger();
    const miner = makeKey();
    for (let i = 0; i < 12; i++) ledger.apply(ledger.nextBlock([], miner.owner));
    const p = await probe(hub, id);
    await pushAll(p, ledger.blocks.slice(1));
    const cb = ledger.blocks[1]!.txs[0]!;
    const tx = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, cb.txid, 0)],
      outputs: [out(makeKey().owner, 24 * 100_000_000)],
    });
    assert.equal(await p.pushTx(tx.raw), 'accepted');
    await p.close();
    // a leaf that learned the hub by gossip only (no static peer) after one run
    const leaf = await makeNode({
      name: 'leaf',
      root: root.path,
      connect: [{ address: hub.address, key: hub.key }],
    });
    await leaf.start();
    nodes.push(leaf);
    await leaf.waitLog(/connected to peer/, 30_000);
    // the hub dials back to the leaf (it learned the leaf's address from its hello)
    const hubToLeaf = () =>
      hub.logs.filter((l) => /connected to peer/.test(l.msg) && l.peer === leaf.key).length;
    await eventually('hub dialed back to the leaf', () => hubToLeaf() >= 1, 30_000);
    assert.equal(await hub.stop(), 0, 'clean stop exits 0');
    await hub.start();
    await hub.waitLog(/reservoir cache: 1 of 1 transactions reloaded/, 10_000);
    const again = await probe(hub, id);
    const want = await again.announce({ blocks: [], txs: [tx.txid] });
    assert.deepEqual(want.txs, [], 'the hub still has the transaction (does not want it)');
    await again.close();
    // the restarted hub finds the leaf again from its peers file (the leaf is in no config of the hub)
    await eventually('hub reconnected to the leaf', () => hubToLeaf() >= 2, 60_000);
    assert.equal(await leaf.stop(), 0);
    await leaf.start();
    await leaf.waitLog(/loaded \d+ known peers/, 10_000);
  });

  it('a healed partition converges on the most-work chain; the losing branch’s txs return to the mempool', async () => {
    const id = makeProbeIdentity(root.path, 'partition-probe');
    const west = await makeNode({ name: 'west', root: root.path });
    const east = await makeNode({ name: 'east', root: root.path });
    nodes.push(west, east); // before starting: after() stops whichever started if one fails
    await Promise.all([west.start(), east.start()]);
    // common history, then west gets 3 blocks (with a tx), east gets 5
    const common = new MemoryLedger();
    const miner = makeKey();
    for (let i = 0; i < 12; i++) common.apply(common.nextBlock([], miner.owner));
    const forkAt = common.blocks.length;
    const westChain = new MemoryLedger();
    const eastChain = new MemoryLedger();
    for (const b of common.blocks.slice(1)) {
      westChain.apply(b);
      eastChain.apply(b);
    }
    const cb = common.blocks[2]!.txs[0]!;
    const tx = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(miner, cb.txid, 0)],
      outputs: [out(makeKey().owner, 24 * 100_000_000)],
    });
    westChain.apply(westChain.nextBlock([tx], miner.owner, 100_000_000));
    for (let i = 0; i < 2; i++) westChain.apply(westChain.nextBlock([], miner.owner));
    for (let i = 0; i < 5; i++) eastChain.apply(eastChain.nextBlock([], makeKey().owner));
    const pw = await probe(west, id);
    await pushAll(pw, westChain.blocks.slice(1));
    await pw.close();
    const pe = await probe(east, id);
    await pushAll(pe, eastChain.blocks.slice(1));
    await pe.close();
    assert.equal(await heightOf(west, id), forkAt - 1 + 3);
    assert.equal(await heightOf(east, id), forkAt - 1 + 5);
    // heal: west restarts knowing east
    await west.stop();
    westRestartWithPeer(west, east);
    await west.start();
    const eastTip = hashToHex(eastChain.blocks[eastChain.blocks.length - 1]!.hash);
    await eventually(
      'west on east’s chain',
      async () => {
        const p = await probe(west, id);
        const tip = hashToHex(p.remote!.tipHash);
        await p.close();
        return tip === eastTip;
      },
      60_000,
    );
    const p = await probe(west, id);
    const want = await p.announce({ blocks: [], txs: [tx.txid] });
    await p.close();
    assert.deepEqual(want.txs, [], 'the losing branch’s tx is back in west’s mempool');
  });
});

/** Rewrites a node's config so it knows `peer` statically (the partition heals). */
function westRestartWithPeer(node: NodeProcess, peer: NodeProcess): void {
  appendFileSync(
    node.configPath,
    `\n[[peering.connect]]\naddress = "${peer.address}"\nkey = ${JSON.stringify(peer.key)}\n`,
  );
}
