/**
 * Real cairnd processes on 127.0.0.1 forming a network over CURVE (issue #4 "must show").
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DecodedBlock } from '../../shared/core/block/types.ts';
import { hashToHex } from '../../shared/core/bytes.ts';
import { MemoryLedger, makeKey } from '../helpers/chain.ts';
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

const root = tempDir('cairn-it-');
const nodes: NodeProcess[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  root.remove();
});

function chainOf(n: number): DecodedBlock[] {
  for (let i = 0; i < n; i++) sharedLedger.apply(sharedLedger.nextBlock([], sharedMiner.owner));
  return sharedLedger.blocks.slice(1);
}

describe('cairnd network', { timeout: 240_000 }, () => {
  it('three nodes find each other from one static peer and converge', async () => {
    const a = await makeNode({ name: 'a', root: root.path });
    await a.start();
    nodes.push(a);
    const b = await makeNode({ name: 'b', root: root.path, connect: [{ address: a.address, key: a.key }] });
    const c = await makeNode({ name: 'c', root: root.path, connect: [{ address: a.address, key: a.key }] });
    nodes.push(b, c); // before starting: after() stops whichever started if one fails
    await Promise.all([b.start(), c.start()]);

    const id = makeProbeIdentity(root.path);
    const blocks = chainOf(20);
    const pa = await probe(a, id);
    await pushAll(pa, blocks);
    await pa.close();
    for (const n of [a, b, c])
      await eventually(`${n.name} at height 20`, async () => (await heightOf(n, id)) === 20);
    // b and c learn of each other through a (peer exchange or inbound dial-back) and connect
    await eventually(
      'b connected to c',
      () => b.logs.some((l) => /connected to peer/.test(l.msg) && l.peer === c.key),
      90_000,
    );
    await eventually(
      'c connected to b',
      () => c.logs.some((l) => /connected to peer/.test(l.msg) && l.peer === b.key),
      90_000,
    );
    const tip = hashToHex(blocks[19]!.hash);
    for (const n of [a, b, c]) {
      const p = await probe(n, id);
      assert.equal(hashToHex(p.remote!.tipHash), tip, `${n.name} tip`);
      await p.close();
    }
  });

  it('a node started late syncs a 500-block chain', async () => {
    const a = nodes[0]!;
    const id = makeProbeIdentity(root.path, 'probe-late');
    const more = chainAfter(500);
    const pa = await probe(a, id);
    await pushAll(pa, more);
    await pa.close();
    await eventually('a at height 520', async () => (await heightOf(a, id)) === 520);
    const d = await makeNode({ name: 'd', root: root.path, connect: [{ address: a.address, key: a.key }] });
    await d.start();
    nodes.push(d);
    await eventually('d synced to 520', async () => (await heightOf(d, id)) === 520, 120_000);
  });

  it('a key not on the allow-list cannot complete the handshake; a listed one can', async () => {
    const a = nodes[0]!;
    const allowed = makeProbeIdentity(root.path, 'allowed');
    const e = await makeNode({
      name: 'e',
      root: root.path,
      allow: [a.key, allowed.publicKey],
      connect: [{ address: a.address, key: a.key }],
    });
    await e.start();
    nodes.push(e);
    const stranger = makeProbeIdentity(root.path, 'stranger');
    await assert.rejects(
      () => probe(e, stranger),
      (err: Error & { code?: string }) => err.code === 'transport-timeout',
    );
    const ok = await probe(e, allowed);
    assert.equal(ok.remote?.height !== undefined, true);
    await ok.close();
    await eventually('e synced from a', async () => (await heightOf(e, allowed)) === 520, 120_000);
  });
});

let base: MemoryLedger | undefined;
/** The first chain (20 blocks) extended by `n` more blocks. */
function chainAfter(n: number): DecodedBlock[] {
  base ??= sharedLedger;
  const start = base.blocks.length;
  for (let i = 0; i < n; i++) base.apply(base.nextBlock([], sharedMiner.owner));
  return base.blocks.slice(start);
}
const sharedLedger = new MemoryLedger();
const sharedMiner = makeKey();
