/**
 * Amounts as users of bitcoin-cli write and read them: coins with decimals (`1.5`), parsed
 * exactly (digits only, no floating point), printed with the coin's fixed number of decimals
 * (`1.50000000`). Base units only with an explicit suffix (`150000000sat`) or `--base-units`.
 * The number of decimals comes from the network's `coin` (base units per coin, shared/core params).
 */
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { CliUsageError } from './errors.ts';

/** Decimals of a coin of `coin` base units (100000000 → 8); `coin` must be a power of ten. */
export function decimalsOf(coin: number): number {
  const s = String(coin);
  if (!/^10*$/.test(s)) throw new Error(`coin ${coin} is not a power of ten`);
  return s.length - 1;
}

/** The suffix that marks base units (Bitcoin's "sat"). */
export const BASE_SUFFIX = 'sat';

/** What a user wrote, quoted for an error message (never a NaN, bounded in length). */
function quoted(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return JSON.stringify(t);
}

/**
 * Parses an amount to base units. `text` is coins with at most the coin's decimals (`1.5`,
 * `0.00000001`, `.5`, `2.`), or base units with the `sat` suffix (`150000000sat`), or base units
 * when `baseUnits` is set (then a plain integer). Refuses anything else, zero unless `allowZero`,
 * and amounts above `maxMoney`, with a message naming what was given and what is expected.
 */
export function parseAmount(
  text: string,
  p: Pick<NetworkParams, 'coin' | 'maxMoney'>,
  opts: { baseUnits?: boolean; allowZero?: boolean; what?: string } = {},
): number {
  const what = opts.what ?? 'amount';
  const decimals = decimalsOf(p.coin);
  const t = text.trim();
  let units: bigint;
  const sat = t.endsWith(BASE_SUFFIX) ? t.slice(0, -BASE_SUFFIX.length) : undefined;
  if (opts.baseUnits === true || sat !== undefined) {
    const digits = sat ?? t;
    if (!/^\d+$/.test(digits))
      throw new CliUsageError(
        `${what} ${quoted(text)}: expected a whole number of base units (e.g. 150000000${BASE_SUFFIX})`,
      );
    units = BigInt(digits);
  } else {
    const m = /^(\d*)(?:\.(\d*))?$/.exec(t);
    if (m === null || (m[1] === '' && (m[2] ?? '') === ''))
      throw new CliUsageError(
        `${what} ${quoted(text)}: expected coins as a decimal number (e.g. 1.5), or base units with the suffix ${BASE_SUFFIX} (e.g. 150000000${BASE_SUFFIX})`,
      );
    const frac = m[2] ?? '';
    if (frac.length > decimals)
      throw new CliUsageError(
        `${what} ${quoted(text)}: a coin has ${decimals} decimals, this has ${frac.length} (the smallest amount is 0.${'0'.repeat(decimals - 1)}1)`,
      );
    units = BigInt(m[1] || '0') * BigInt(p.coin) + BigInt(frac.padEnd(decimals, '0') || '0');
  }
  if (units === 0n && opts.allowZero !== true)
    throw new CliUsageError(`${what} ${quoted(text)}: must be more than zero`);
  if (units > BigInt(p.maxMoney))
    throw new CliUsageError(
      `${what} ${quoted(text)}: more than all the coins there can ever be (${formatAmount(p.maxMoney, p.coin)})`,
    );
  return Number(units);
}

/** Base units as coins with the coin's fixed decimals: 150000000 → "1.50000000". Exact. */
export function formatAmount(baseUnits: number | bigint, coin: number): string {
  const decimals = decimalsOf(coin);
  const v = BigInt(baseUnits);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const c = BigInt(coin);
  const frac = (a % c).toString().padStart(decimals, '0');
  return `${neg ? '-' : ''}${a / c}${decimals === 0 ? '' : `.${frac}`}`;
}
