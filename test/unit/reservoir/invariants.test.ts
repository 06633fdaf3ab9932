/**
 * Random sequences of operations (chains of spends, double spends, blocks from selectForBlock,
 * disconnects, expiry, a small size cap) with the pool's invariants checked after every step:
 * package totals equal what the graph gives, links are symmetric, every input is indexed, byte
 * counts add up, and the selection is a valid block (the ledger connects it with the real core).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reservoir, ReservoirEntry } from '../../../services/node/reservoir/reservoir.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import type { DecodedTx, TxOutput } from '../../../shared/core/tx/types.ts';
import { out } from '../../helpers/chain.ts';
import { disconnect, type Env, makeEnv, mine, NOW, SUBSIDY, transfer } from '../../helpers/reservoir.ts';

/** xorshift32: a deterministic generator so a failure can be replayed. */
function rng(seed: number): (n: number) => number {
  let x = seed || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function closure(start: Iterable<ReservoirEntry>, next: (e: ReservoirEntry) => Iterable<ReservoirEntry>) {
  const seen = new Set<ReservoirEntry>();
  const stack = [...start];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    stack.push(...next(e));
  }
  return seen;
}

function checkInvariants(r: Reservoir): void {
  const entries = [...r.entries()];
  assert.equal(r.size, entries.length);
  let bytes = 0;
  let usage = 0;
  for (const e of entries) {
    bytes += e.size;
    usage += e.usage;
    assert.ok(r.get(e.txid) === e);
    const anc = closure(e.parents, (x) => x.parents);
    const desc = closure(e.children, (x) => x.children);
    assert.equal(e.ancestorCount, 1 + anc.size, 'ancestorCount');
    assert.equal(e.ancestorSize, e.size + [...anc].reduce((n, a) => n + a.size, 0), 'ancestorSize');
    assert.equal(e.ancestorFee, e.fee + [...anc].reduce((n, a) => n + a.fee, 0), 'ancestorFee');
    assert.equal(e.descendantCount, 1 + desc.size, 'descendantCount');
    assert.equal(e.descendantSize, e.size + [...desc].reduce((n, a) => n + a.size, 0), 'descendantSize');
    assert.equal(e.descendantFee, e.fee + [...desc].reduce((n, a) => n + a.fee, 0), 'descendantFee');
    for (const p of e.parents) {
      assert.ok(p.children.has(e) && r.get(p.txid) === p, 'parent link');
    }
    for (const c of e.children) {
      assert.ok(c.parents.has(e) && r.get(c.txid) === c, 'child link');
    }
    const t = e.tx.tx;
    if (t.kind !== 'coinbase') {
      for (const i of t.inputs) {
        assert.ok(r.spenderOf(i.prevTxid, i.vout) === e, 'spender index');
      }
    }
  }
  assert.equal(r.bytes, bytes);
  assert.equal(r.usage, usage);
  const all = r.selectForBlock(Number.MAX_SAFE_INTEGER);
  assert.equal(all.length, entries.length);
  const pos = new Map(all.map((d, i) => [toHex(d.txid), i]));
  for (const e of entries) {
    for (const p of e.parents) {
      assert.ok(pos.get(toHex(p.txid))! < pos.get(toHex(e.txid))!, 'selection is topological');
    }
  }
}

function run(seed: number, steps: number, capEntries: number | undefined) {
  const stats = { added: 0, replaced: 0, orphans: 0, refused: 0, maxSize: 0, removed: 0 };
  const rand = rng(seed);
  const probeUsage = 2100;
  const env: Env = makeEnv(
    capEntries === undefined
      ? { maxAncestors: 6, maxDescendants: 6, expirySeconds: 300 }
      : { maxBytes: capEntries * probeUsage, expirySeconds: 300 },
    12,
  );
  const { reservoir, alice } = env;
  const baseHeight = env.ledger.height;
  /** Outputs we may spend: confirmed funds and outputs of anything we created. */
  const outputs: Array<{ tx: DecodedTx; vout: number; amount: number }> = env.funds.map((tx) => ({
    tx,
    vout: 0,
    amount: SUBSIDY,
  }));
  let now = NOW;
  for (let step = 0; step < steps; step++) {
    const op = rand(100);
    now += rand(30);
    if (op < 65) {
      const n = 1 + rand(2);
      const picks = new Map<string, (typeof outputs)[number]>();
      const view = reservoir.view();
      const unspent = outputs.filter((o) => view.getCoin(o.tx.txid, o.vout) !== undefined).slice(-30);
      const poolSpent = outputs
        .filter((o) => reservoir.spenderOf(o.tx.txid, o.vout) !== undefined)
        .slice(-30);
      for (let k = 0; k < n; k++) {
        // Mostly spend what is spendable; sometimes double spend a pool transaction (replacement).
        const from = rand(5) === 0 && poolSpent.length > 0 ? poolSpent : unspent;
        if (from.length === 0) break;
        const o = from[rand(from.length)]!;
        picks.set(`${toHex(o.tx.txid)}:${o.vout}`, o);
      }
      if (picks.size === 0) continue;
      const ins = [...picks.values()];
      const total = ins.reduce((s, o) => s + o.amount, 0);
      const fee = 150 + rand(30_000);
      if (total <= fee + 10) continue;
      const parts = 1 + rand(3);
      const each = Math.floor((total - fee) / parts);
      const outs: TxOutput[] = [];
      for (let k = 0; k < parts; k++)
        outs.push(out(alice.owner, k === 0 ? total - fee - each * (parts - 1) : each));
      const d = transfer(
        alice,
        ins.map((o) => [o.tx, o.vout] as const),
        outs,
      );
      try {
        const res = reservoir.accept(d, now);
        if (res.status === 'added') {
          stats.added++;
          stats.replaced += res.replaced.length;
        } else stats.orphans++;
      } catch {
        stats.refused++;
        // Refusals are part of the game; invariants must hold either way.
      }
      if (reservoir.has(d.txid)) {
        outs.forEach((o, vout) => {
          outputs.push({ tx: d, vout, amount: o.amount });
        });
      }
    } else if (op < 78) {
      const picked = reservoir.selectForBlock(rand(3) === 0 ? 600 + rand(1500) : 1_000_000);
      mine(env, picked);
      for (const d of picked) assert.ok(!reservoir.has(d.txid));
    } else if (op < 83) {
      // A block with a rival spend of a confirmed output some pool transaction spends.
      const contested = outputs.filter(
        (o) =>
          reservoir.spenderOf(o.tx.txid, o.vout) !== undefined &&
          env.ledger.getCoin(o.tx.txid, o.vout) !== undefined,
      );
      if (contested.length > 0) {
        const o = contested[rand(contested.length)]!;
        const rival = transfer(alice, [[o.tx, o.vout]], [out(alice.owner, o.amount - 100)]);
        mine(env, [rival]);
        assert.equal(reservoir.spenderOf(o.tx.txid, o.vout), undefined);
        outputs.push({ tx: rival, vout: 0, amount: o.amount - 100 });
      }
    } else if (op < 91) {
      if (env.ledger.height > baseHeight) disconnect(env, now);
    } else {
      reservoir.expire(now + rand(400));
    }
    checkInvariants(reservoir);
    stats.maxSize = Math.max(stats.maxSize, reservoir.size);
    if (capEntries !== undefined) assert.ok(reservoir.usage <= capEntries * probeUsage);
  }
  stats.removed = env.events.filter((e) => e.type === 'removed').length;
  const reasons = new Set<string>();
  for (const e of env.events) {
    if (e.reason !== undefined) reasons.add(e.reason);
  }
  return { ...stats, reasons };
}

describe('reservoir invariants under random operations', () => {
  for (const seed of [1, 7, 42]) {
    it(`hold for seed ${seed}`, () => {
      const s = run(seed, 300, undefined);
      assert.ok(s.added > 100 && s.replaced > 0 && s.maxSize > 10, JSON.stringify(s));
      for (const reason of ['block', 'replaced', 'expiry', 'conflict'])
        assert.ok(s.reasons.has(reason), reason);
    });
  }
  it('hold with a small size cap', () => {
    const s = run(99, 300, 6);
    assert.ok(s.reasons.has('size') && s.added > 20, JSON.stringify(s));
  });
});
