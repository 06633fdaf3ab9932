/**
 * What a command prints: a human rendering by default, or the JSON value with `--json` (one
 * document on stdout, nothing else there, so scripts can parse it). Notes and warnings go to
 * stderr in both modes.
 */

export const COIN = 100_000_000;

/** "12.5 coins (1250000000)": coins with up to 8 decimals, and the base units. */
export function coins(baseUnits: number): string {
  const whole = Math.floor(baseUnits / COIN);
  const frac = String(baseUnits % COIN)
    .padStart(8, '0')
    .replace(/0+$/, '');
  return `${whole}${frac === '' ? '' : `.${frac}`} coins (${baseUnits})`;
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
