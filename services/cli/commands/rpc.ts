/**
 * `cairn rpc METHOD [PARAMS...]`: any node RPC, raw. Each parameter is parsed as JSON when it
 * parses (numbers, true/false, null, arrays, objects, quoted strings), else passed as a string,
 * as bitcoin-cli does; `-named` passes `key=value` pairs by name.
 */
import type { Argv } from 'yargs';
import { CliUsageError } from '../errors.ts';
import { rpcText } from '../output.ts';
import type { Runner } from './run.ts';

/** What main.ts passes instead of a last `help` (yargs would take that word for --help). */
export const RPC_HELP_TOKEN = '\u0000help';
const unhelp = (s: string) => (s === RPC_HELP_TOKEN ? 'help' : s);

export function parseParam(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export function parseParams(raw: readonly string[], named: boolean): unknown[] | Record<string, unknown> {
  if (!named) return raw.map(parseParam);
  const out: Record<string, unknown> = {};
  for (const p of raw) {
    const at = p.indexOf('=');
    if (at <= 0) throw new CliUsageError(`-named: '${p}' is not key=value`);
    out[p.slice(0, at)] = parseParam(p.slice(at + 1));
  }
  return out;
}

export function rpcCommand(y: Argv): Argv {
  return y
    .positional('method', { type: 'string', demandOption: true, describe: "RPC method ('help' lists them)" })
    .positional('params', { type: 'string', array: true, describe: 'Parameters (JSON where they parse)' })
    .option('named', { type: 'boolean', default: false, describe: 'Parameters are key=value pairs' })
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false });
}

export const rpcHandler = (run: Runner) =>
  run(async (ctx, argv) => {
    // main.ts renames a last `help` so that yargs does not take it for --help
    const method = unhelp(String(argv.method));
    const raw = ((argv.params as unknown[]) ?? []).map((p) => unhelp(String(p)));
    const params = parseParams(raw, argv.named === true);
    const result = await ctx.rpc.call(method, params);
    ctx.out.result(result, () => rpcText(result));
  });
