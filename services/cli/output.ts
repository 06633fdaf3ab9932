/**
 * What a command prints: a human rendering by default, or the JSON value with `--json` (one
 * document on stdout, nothing else there, so scripts can parse it). Notes and warnings go to
 * stderr in both modes.
 */

import { MAIN } from '../../shared/core/params/networks.ts';
import { formatAmount } from './amount.ts';

/** Base units per coin (the same on every network: shared/core params). */
export const COIN = MAIN.coin;

/** "12.50000000 coins": always the coin's fixed number of decimals (exact, no floating point). */
export function coins(baseUnits: number): string {
  return `${formatAmount(baseUnits, COIN)} coins`;
}

export class Output {
  constructor(readonly json: boolean) {}

  /** Prints the command's result: `value` as JSON, or `human()` as text. */
  result(value: unknown, human: () => string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(`${human()}\n`);
  }

  /** One JSON line (streams: `cairn watch --json`) or one human line. */
  line(value: unknown, human: string): void {
    process.stdout.write(`${this.json ? JSON.stringify(value) : human}\n`);
  }

  note(message: string): void {
    if (!this.json) process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    process.stderr.write(`cairn: warning: ${message}\n`);
  }
}

/** Renders an RPC result as bitcoin-cli does: strings bare, everything else as indented JSON. */
export function rpcText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v, null, 2);
}
