/**
 * The discovery registry with an injected clock: expiry and renewal, bounded random subsets of
 * fresh entries, address rules with their reasons, per-key rate limits, capacity, allow-list, and
 * restoring saved entries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, type RegistryOptions } from '../../../services/discovery/registry.ts';
import { addressProblem } from '../../../shared/discovery/address.ts';
import { MAX_PEERS_PER_REPLY } from '../../../shared/discovery/messages.ts';
import { curveKeys } from './keys.ts';

const T0 = 1_800_000_000_000;

function make(opts: Partial<RegistryOptions> = {}) {
  const clock = { ms: T0 };
  const reg = new Registry(
    {
      expirySeconds: 60,
      maxEntries: 1000,
      allowPrivate: false,
      registerPerMinute: 6,
      registerBurst: 6,
      ...opts,
    },
    { now: () => clock.ms },
  );
  return { reg, clock };
}

const key = () => curveKeys().publicKey;

describe('registry', () => {
  it('an entry expires without renewal and lives on when renewed', () => {
    const { reg, clock } = make();
    const a = key();
    const b = key();
    assert.equal(reg.register(a, ['1.2.3.4:2136'], 1).ok, true);
    assert.equal(reg.register(b, ['1.2.3.5:2136'], 1).ok, true);
    clock.ms += 40_000;
    const renewed = reg.register(a, ['1.2.3.4:2136'], 2);
    assert.ok(renewed.ok && !renewed.joined && !renewed.changed && renewed.expiresIn === 60);
    clock.ms += 30_000; // b is 70 s old, a 30 s
    assert.deepEqual(
      reg.query(32).map((e) => e.key),
      [a],
    );
    assert.deepEqual(
      reg.expire().map((e) => e.key),
      [b],
    );
    assert.equal(reg.size, 1);
    clock.ms += 31_000;
    assert.deepEqual(reg.query(32), []);
    assert.equal(reg.expire().length, 1);
    const back = reg.register(a, ['1.2.3.4:2136'], 3);
    assert.ok(back.ok && back.joined, 'a node registering after its entry expired joins again');
  });

  it('queries return a random subset of at most 32 distinct fresh entries', () => {
    const { reg } = make({ registerPerMinute: 100, registerBurst: 100 });
    const keys = Array.from({ length: 100 }, key);
    for (const [i, k] of keys.entries()) assert.ok(reg.register(k, [`1.2.${i}.4:2136`], i).ok);
    const seen = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const got = reg.query(1000);
      assert.equal(got.length, MAX_PEERS_PER_REPLY);
      assert.equal(new Set(got.map((e) => e.key)).size, got.length, 'distinct');
      for (const e of got) seen.add(e.key);
    }
    assert.ok(seen.size > 60, `20 samples of 32 out of 100 should cover most (${seen.size})`);
    assert.equal(reg.query(5).length, 5);
    assert.equal(reg.query(0).length, 0);
  });

  it('refuses bogus addresses with a reason', () => {
    const { reg } = make();
    const cases: [string[], string][] = [
      [[], 'no-addresses'],
      [Array.from({ length: 9 }, (_, i) => `1.2.3.${i}:2136`), 'too-many-addresses'],
      [['0.0.0.0:2136'], 'bad-address'],
      [['[::]:2136'], 'bad-address'],
      [['1.2.3.4:0'], 'bad-address'],
      [['1.2.3.4:65536'], 'bad-address'],
      [['1.2.3.4'], 'bad-address'],
      [['tcp://1.2.3.4:2136'], 'bad-address'],
      [['224.0.0.1:2136'], 'bad-address'],
      [['255.255.255.255:2136'], 'bad-address'],
      [['127.0.0.1:2136'], 'bad-address'],
      [['192.168.1.2:2136'], 'bad-address'],
      [['localhost:2136'], 'bad-address'],
      [['a'.repeat(120)], 'bad-address'],
    ];
    for (const [addresses, reason] of cases) {
      const r = make().reg.register(key(), addresses, 0);
      assert.ok(!r.ok, JSON.stringify(addresses));
      assert.equal(r.ok ? '' : r.reason, reason, JSON.stringify(addresses));
      assert.ok(!r.ok && r.message.length > 0);
    }
    assert.equal(reg.size, 0);
    // dialable public addresses (and names), deduplicated
    const ok = reg.register(
      key(),
      ['203.0.113.7:2136', '203.0.113.7:2136', 'node1.example.org:2136', '[2001:db8::1]:2136'],
      0,
    );
    assert.ok(ok.ok);
    assert.deepEqual(ok.ok ? ok.entry.addresses : [], [
      '203.0.113.7:2136',
      'node1.example.org:2136',
      '[2001:db8::1]:2136',
    ]);
  });

  it('loopback and private addresses are accepted when allowed (network local, private networks)', () => {
    assert.equal(addressProblem('127.0.0.1:22136', { allowPrivate: true }), undefined);
    assert.equal(addressProblem('10.1.2.3:2136', { allowPrivate: true }), undefined);
    assert.equal(addressProblem('[::1]:2136', { allowPrivate: true }), undefined);
    assert.equal(addressProblem('0.0.0.0:2136', { allowPrivate: true }), 'unroutable');
    assert.equal(addressProblem('10.1.2.3:2136', { allowPrivate: false }), 'private');
    assert.equal(addressProblem('172.20.0.1:2136', { allowPrivate: false }), 'private');
    assert.equal(addressProblem('172.32.0.1:2136', { allowPrivate: false }), undefined);
    const { reg } = make({ allowPrivate: true });
    assert.ok(reg.register(key(), ['127.0.0.1:22136'], 0).ok);
  });

  it('rate-limits registrations per key, and the limit refills with time', () => {
    const { reg, clock } = make({ registerPerMinute: 6, registerBurst: 3 });
    const a = key();
    const results = Array.from({ length: 5 }, () => reg.register(a, ['1.2.3.4:2136'], 0));
    assert.deepEqual(
      results.map((r) => (r.ok ? 'ok' : r.reason)),
      ['ok', 'ok', 'ok', 'rate-limited', 'rate-limited'],
    );
    assert.ok(reg.register(key(), ['1.2.3.5:2136'], 0).ok, 'another key is not limited');
    // a flood of bad registrations from one key is limited too
    const b = key();
    const bad = Array.from({ length: 5 }, () => reg.register(b, ['0.0.0.0:1'], 0));
    assert.deepEqual(
      bad.map((r) => (r.ok ? 'ok' : r.reason)),
      ['bad-address', 'bad-address', 'bad-address', 'rate-limited', 'rate-limited'],
    );
    clock.ms += 10_000; // 1 token per 10 s
    assert.ok(reg.register(a, ['1.2.3.4:2136'], 0).ok);
    assert.ok(!reg.register(a, ['1.2.3.4:2136'], 0).ok);
  });

  it('is bounded: when full only renewals are accepted; expired entries make room', () => {
    const { reg, clock } = make({ maxEntries: 2 });
    const [a, b, c] = [key(), key(), key()];
    assert.ok(reg.register(a, ['1.2.3.4:1'], 0).ok);
    assert.ok(reg.register(b, ['1.2.3.4:2'], 0).ok);
    const full = reg.register(c, ['1.2.3.4:3'], 0);
    assert.equal(full.ok ? '' : full.reason, 'full');
    assert.ok(reg.register(a, ['1.2.3.4:1'], 1).ok);
    clock.ms += 61_000;
    assert.ok(reg.register(c, ['1.2.3.4:3'], 0).ok);
  });

  it('an allow-list refuses other keys', () => {
    const a = key();
    const { reg } = make({ allow: new Set([a]) });
    assert.ok(reg.register(a, ['1.2.3.4:1'], 0).ok);
    const r = reg.register(key(), ['1.2.3.4:1'], 0);
    assert.equal(r.ok ? '' : r.reason, 'not-allowed');
  });

  it('restores saved entries that are well-formed, fresh and pass the address rules', () => {
    const { reg, clock } = make();
    const a = key();
    reg.register(a, ['1.2.3.4:1'], 5);
    const saved: unknown[] = reg.snapshot();
    const now = Math.floor(clock.ms / 1000);
    saved.push(
      { key: key(), addresses: ['1.2.3.4:2'], height: 1, firstSeen: now, lastSeen: now, expires: now - 1 },
      {
        key: 'not a key',
        addresses: ['1.2.3.4:2'],
        height: 1,
        firstSeen: now,
        lastSeen: now,
        expires: now + 9,
      },
      { key: key(), addresses: ['0.0.0.0:2'], height: 1, firstSeen: now, lastSeen: now, expires: now + 9 },
      { key: key(), addresses: 'x', height: 1, firstSeen: now, lastSeen: now, expires: now + 9 },
      { key: key(), addresses: ['1.2.3.4:3'], height: -1, firstSeen: now, lastSeen: now, expires: now + 9 },
      null,
      7,
    );
    const far = key();
    saved.push({
      key: far,
      addresses: ['1.2.3.4:4'],
      height: 1,
      firstSeen: now,
      lastSeen: now,
      expires: now + 99_999,
    });
    const { reg: fresh } = make();
    assert.equal(fresh.restore(saved), 2);
    assert.equal(fresh.get(a)?.height, 5);
    assert.equal(fresh.get(far)?.expires, now + 60, 'never longer than one expiry from now');
  });
});
