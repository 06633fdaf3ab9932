/** Amounts as bitcoin-cli users write and read them: exact decimal parsing and fixed-decimal printing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decimalsOf, formatAmount, parseAmount } from '../../../services/cli/amount.ts';
import { CliUsageError } from '../../../services/cli/errors.ts';
import { NETWORKS } from '../../../shared/core/params/networks.ts';

const p = NETWORKS.local;

function refused(text: string, pattern: RegExp, opts = {}): void {
  assert.throws(
    () => parseAmount(text, p, opts),
    (e: unknown) => {
      assert.ok(e instanceof CliUsageError, `${text}: a usage error`);
      assert.match(e.message, pattern);
      if (!/NaN|Infinity/.test(text)) assert.doesNotMatch(e.message, /NaN|undefined|Infinity/);
      return true;
    },
  );
}

describe('amounts', () => {
  it('the coin has 8 decimals on every network (from params.coin)', () => {
    for (const n of Object.values(NETWORKS)) assert.equal(decimalsOf(n.coin), 8);
    assert.equal(decimalsOf(1), 0);
    assert.throws(() => decimalsOf(250));
  });

  it('parses coins with decimals exactly', () => {
    assert.equal(parseAmount('1.5', p), 150_000_000);
    assert.equal(parseAmount('1', p), 100_000_000);
    assert.equal(parseAmount('0.1', p), 10_000_000);
    assert.equal(parseAmount('0.3', p), 30_000_000); // 0.1+0.2 style float errors cannot happen
    assert.equal(parseAmount('0.00000001', p), 1);
    assert.equal(parseAmount('.5', p), 50_000_000);
    assert.equal(parseAmount('2.', p), 200_000_000);
    assert.equal(parseAmount(' 3.14159265 ', p), 314_159_265);
    assert.equal(parseAmount('52560000', p), p.maxMoney);
    assert.equal(parseAmount('21000000.12345678', p), 2_100_000_012_345_678);
  });

  it('takes base units only with the sat suffix or the flag', () => {
    assert.equal(parseAmount('150000000sat', p), 150_000_000);
    assert.equal(parseAmount('1sat', p), 1);
    assert.equal(parseAmount('150000000', p, { baseUnits: true }), 150_000_000);
    assert.equal(parseAmount('15', p), 15 * 100_000_000); // coins without the flag
    refused('1.5sat', /whole number of base units/);
    refused('1.5', /whole number of base units/, { baseUnits: true });
    refused('sat', /whole number of base units/);
  });

  it('refuses garbage with a clear message that never says NaN', () => {
    for (const bad of [
      'abc',
      '',
      ' ',
      '.',
      '-1',
      '+1',
      '1e5',
      '0x10',
      '1,5',
      '1.2.3',
      'NaN',
      'Infinity',
      '1 000',
      '1.5 coins',
    ])
      refused(bad, /expected coins as a decimal number/);
    refused('x'.repeat(200), /"x{37}\.\.\."/);
  });

  it('refuses more decimals than the coin has, zero, and more than all the money', () => {
    refused('0.000000001', /a coin has 8 decimals, this has 9/);
    refused('1.123456789', /8 decimals/);
    refused('0', /more than zero/);
    refused('0.00000000', /more than zero/);
    refused('0sat', /more than zero/);
    assert.equal(parseAmount('0', p, { allowZero: true }), 0);
    refused('52560000.00000001', /more than all the coins/);
    refused('99999999999999999999999', /more than all the coins/);
  });

  it('prints one fixed number of decimals', () => {
    assert.equal(formatAmount(150_000_000, p.coin), '1.50000000');
    assert.equal(formatAmount(0, p.coin), '0.00000000');
    assert.equal(formatAmount(1, p.coin), '0.00000001');
    assert.equal(formatAmount(226, p.coin), '0.00000226');
    assert.equal(formatAmount(p.maxMoney, p.coin), '52560000.00000000');
    assert.equal(formatAmount(-5, p.coin), '-0.00000005');
    assert.equal(formatAmount(7n, 1), '7');
  });

  it('format then parse is the identity on every amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: p.maxMoney }), (v) => {
        assert.equal(parseAmount(formatAmount(v, p.coin), p), v);
        assert.equal(parseAmount(`${v}sat`, p), v);
      }),
    );
  });
});
