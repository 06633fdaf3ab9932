/** `cairn bitmark issue | transfer | provenance | list | show`. */
import type { Argv } from 'yargs';
import { coins } from '../output.ts';
import { type Runner, waitOptions } from './run.ts';

interface Hop {
  txid: string;
  /** null for the last hop of a split bitmark: its split into shares. */
  vout: number | null;
  owner: string;
  height: number;
  split?: { total: number };
}

export function bitmarkCommands(y: Argv, run: Runner): Argv {
  return y
    .command(
      'issue <assetid>',
      'Mint bitmarks of an asset this wallet registered',
      (c) =>
        c
          .positional('assetid', { type: 'string', demandOption: true })
          .option('count', { type: 'number', default: 1, describe: 'How many bitmarks (1-1000)' })
          .option('to', {
            type: 'string',
            describe: 'Owner of the new bitmarks (default: a new address of this wallet)',
          })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const { built: b, confirmations } = await ctx.spend(argv, (w) =>
          w.issue(
            String(argv.assetid),
            Number(argv.count),
            argv.to === undefined ? undefined : String(argv.to),
          ),
        );
        ctx.out.result({ txid: b.txid, bitmarks: b.bitmarks, owner: b.to, fee: b.fee, confirmations }, () =>
          [`issued in ${b.txid} to ${b.to} (fee ${coins(b.fee)}):`, ...b.bitmarks.map((m) => `  ${m}`)].join(
            '\n',
          ),
        );
      }),
    )
    .command(
      'transfer <bitmarkid> <address>',
      'Give a bitmark this wallet holds to ADDRESS',
      (c) =>
        c
          .positional('bitmarkid', { type: 'string', demandOption: true })
          .positional('address', { type: 'string', demandOption: true })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const { built: b, confirmations } = await ctx.spend(argv, (w) =>
          w.transferBitmark(String(argv.bitmarkid), String(argv.address)),
        );
        ctx.out.result(
          {
            txid: b.txid,
            bitmark: String(argv.bitmarkid),
            from: b.from,
            to: String(argv.address),
            fee: b.fee,
            confirmations,
          },
          () =>
            `bitmark ${argv.bitmarkid}\n  ${b.from} -> ${argv.address}\n  in ${b.txid} (fee ${coins(b.fee)})`,
        );
      }),
    )
    .command(
      'provenance <bitmarkid>',
      'Every owner of a bitmark from its issue to now',
      (c) => c.positional('bitmarkid', { type: 'string', demandOption: true }),
      run(async (ctx, argv) => {
        const id = String(argv.bitmarkid);
        const [hops, where] = await Promise.all([
          ctx.rpc.call<Hop[]>('getprovenance', [id]),
          ctx.rpc.call<{ asset: string }>('getbitmark', [id]),
        ]);
        ctx.out.result({ bitmark: id, asset: where.asset, hops }, () =>
          [
            `bitmark ${id} of asset ${where.asset}`,
            ...hops.map((hp, i) =>
              hp.split !== undefined
                ? `  split by   ${hp.owner} into ${hp.split.total} shares  height ${hp.height}  ${hp.txid} (cairn share provenance)`
                : `  ${i === 0 ? 'issued to ' : 'then to   '} ${hp.owner}  height ${hp.height}  ${hp.txid}:${hp.vout}`,
            ),
          ].join('\n'),
        );
      }),
    )
    .command(
      'show <bitmarkid>',
      'Where a bitmark is now',
      (c) => c.positional('bitmarkid', { type: 'string', demandOption: true }),
      run(async (ctx, argv) => {
        const b = await ctx.rpc.call<Record<string, unknown>>('getbitmark', [String(argv.bitmarkid)]);
        ctx.out.result(b, () =>
          Object.entries(b)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n'),
        );
      }),
    )
    .command(
      'list',
      'Bitmarks this wallet holds (confirmed)',
      (c) => c.option('asset', { type: 'string', describe: 'Only bitmarks of this asset' }),
      run(async (ctx, argv) => {
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const used = await h.wallet.scan();
        h.save();
        const replies = await ctx.rpc.batch(
          used
            .filter((u) => u.bitmarks.length > 0)
            .map((u) => ({
              method: 'listbitmarks',
              params: {
                owner: u.key.address,
                ...(argv.asset === undefined ? {} : { asset: String(argv.asset) }),
              },
            })),
        );
        const list: { id: string; asset: string; owner: string; txid: string; vout: number }[] = [];
        for (const r of replies) {
          if (!r.ok) throw r.error;
          list.push(...(r.result as { bitmarks: typeof list }).bitmarks);
        }
        ctx.out.result(list, () =>
          list.length === 0
            ? 'no bitmarks'
            : list.map((b) => `${b.id}  asset ${b.asset}  at ${b.owner}`).join('\n'),
        );
      }),
    )
    .demandCommand(1, 'name a bitmark command (cairn bitmark --help)');
}
