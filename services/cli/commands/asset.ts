/** `cairn asset register | show | list`. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Argv } from 'yargs';
import { CliUsageError } from '../errors.ts';
import { coins } from '../output.ts';
import { type Runner, waitOptions } from './run.ts';

/**
 * An asset's fingerprint from a file: the UTF-8 text `sha256:<hex of the file's SHA-256>`
 * (self-describing, so another hash can be used later without ambiguity).
 */
export async function fileFingerprint(path: string): Promise<{ fingerprint: Uint8Array; text: string }> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    throw new CliUsageError(`--file ${path}: ${(e as Error).message}`);
  }
  const text = `sha256:${h.digest('hex')}`;
  return { fingerprint: new TextEncoder().encode(text), text };
}

/**
 * An asset (getasset's JSON) for humans: one `key: value` line each, fingerprint and metadata as
 * text where they are text (`metadata: photographer: Alice`), as `(hex)` where they are binary.
 */
export function assetText(a: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (k.endsWith('_hex')) continue;
    if ((k === 'fingerprint' || k === 'metadata') && v === null) lines.push(`${k} (hex): ${a[`${k}_hex`]}`);
    else lines.push(`${k}: ${String(v).replaceAll('\n', '\n  ')}`);
  }
  return lines.join('\n');
}

export function assetCommands(y: Argv, run: Runner): Argv {
  return y
    .command(
      'register',
      'Register an asset whose fingerprint is the SHA-256 of a file',
      (c) =>
        c
          .option('name', { type: 'string', demandOption: true, describe: 'Asset name (1-64 bytes)' })
          .option('file', { type: 'string', demandOption: true, describe: 'The file the asset stands for' })
          .option('metadata', { type: 'string', default: '', describe: 'Free text stored with the asset' })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const { fingerprint, text } = await fileFingerprint(String(argv.file));
        const { built: b, confirmations } = await ctx.spend(argv, (w) =>
          w.registerAsset(String(argv.name), fingerprint, new TextEncoder().encode(String(argv.metadata))),
        );
        ctx.out.result(
          {
            assetid: b.assetId,
            txid: b.txid,
            fingerprint: text,
            metadata: String(argv.metadata),
            registrant: b.registrant,
            fee: b.fee,
            confirmations,
          },
          () =>
            [
              `asset ${b.assetId}`,
              `registered by ${b.registrant} in ${b.txid}`,
              `fingerprint ${text}`,
              ...(argv.metadata === '' ? [] : [`metadata ${String(argv.metadata)}`]),
              `fee ${coins(b.fee)}`,
            ].join('\n'),
        );
      }),
    )
    .command(
      'show <assetid>',
      'A registered asset',
      (c) => c.positional('assetid', { type: 'string', demandOption: true }),
      run(async (ctx, argv) => {
        const a = await ctx.rpc.call<Record<string, unknown>>('getasset', [String(argv.assetid)]);
        ctx.out.result(a, () => assetText(a));
      }),
    )
    .command(
      'list',
      'Registered assets (paged)',
      (c) =>
        c
          .option('registrant', { type: 'string', describe: 'Only assets registered by this address' })
          .option('count', { type: 'number', default: 100 })
          .option('after', { type: 'string', describe: 'Asset id to continue after (paging)' }),
      run(async (ctx, argv) => {
        const r = await ctx.rpc.call<{
          assets: { id: string; name: string; registrant: string }[];
          next?: string;
        }>('listassets', {
          count: Number(argv.count),
          ...(argv.registrant === undefined ? {} : { registrant: String(argv.registrant) }),
          ...(argv.after === undefined ? {} : { after: String(argv.after) }),
        });
        ctx.out.result(r, () =>
          [
            ...r.assets.map((a) => `${a.id}  ${a.name}  (${a.registrant})`),
            ...(r.next ? [`more: --after ${r.next}`] : []),
          ].join('\n'),
        );
      }),
    )
    .demandCommand(1, 'name an asset command (cairn asset --help)');
}
