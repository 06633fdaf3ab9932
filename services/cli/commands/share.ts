/** `cairn share split | grant | balance | holders | provenance | key | offer | accept`. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Argv } from 'yargs';
import { hashFromHex, toHex } from '../../../shared/core/bytes.ts';
import { MAX_SHARES } from '../../../shared/core/limits.ts';
import { loadVerifier } from '../../../shared/crypto/load.ts';
import { parseAmount } from '../amount.ts';
import { CliUsageError, SwapError } from '../errors.ts';
import { coins } from '../output.ts';
import {
  completeOffer,
  counterpartyKey,
  type Leg,
  makeOffer,
  readOffer,
  type SwapTerms,
} from '../wallet/share-swap.ts';
import type { Context } from './context.ts';
import { type Runner, waitOptions } from './run.ts';

interface Move {
  txid: string;
  height: number;
  from: { address: string; quantity: number }[];
  to: { vout: number; address: string; quantity: number }[];
}

interface Kind {
  bitmark: string;
  asset: string;
  total: number;
  split: { txid: string; height: number; owner: string };
}

export function shareCommands(y: Argv, run: Runner): Argv {
  return y
    .command(
      'split <bitmarkid> <total>',
      'Convert a bitmark this wallet holds into TOTAL shares, for ever (they go to a new address of this wallet)',
      (c) =>
        c
          .positional('bitmarkid', { type: 'string', demandOption: true })
          .positional('total', { type: 'string', demandOption: true, describe: `Shares, 1 to ${MAX_SHARES}` })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const total = quantityArg('total', argv.total);
        const { built: b, confirmations } = await ctx.spend(argv, (w) =>
          w.splitBitmark(String(argv.bitmarkid), total),
        );
        ctx.out.result(
          {
            txid: b.txid,
            bitmark: String(argv.bitmarkid),
            total,
            from: b.from,
            to: b.to,
            fee: b.fee,
            confirmations,
          },
          () =>
            `bitmark ${argv.bitmarkid} is now ${total} shares\n  held by ${b.to}\n  in ${b.txid} (fee ${coins(b.fee)})`,
        );
      }),
    )
    .command(
      'grant <bitmarkid> <quantity> <address>',
      'Send QUANTITY shares of a bitmark to ADDRESS',
      (c) =>
        c
          .positional('bitmarkid', { type: 'string', demandOption: true })
          .positional('quantity', { type: 'string', demandOption: true })
          .positional('address', { type: 'string', demandOption: true })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const quantity = quantityArg('quantity', argv.quantity);
        const { built: b, confirmations } = await ctx.spend(argv, (w) =>
          w.grantShares(String(argv.bitmarkid), quantity, String(argv.address)),
        );
        ctx.out.result(
          {
            txid: b.txid,
            bitmark: String(argv.bitmarkid),
            quantity,
            to: String(argv.address),
            change: b.change,
            fee: b.fee,
            confirmations,
          },
          () =>
            `${quantity} shares of ${argv.bitmarkid}\n  -> ${argv.address}\n  in ${b.txid} (fee ${coins(b.fee)})`,
        );
      }),
    )
    .command(
      'balance',
      'Shares this wallet holds (confirmed), per bitmark',
      (c) => c,
      run(async (ctx) => {
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const utxos = await h.wallet.unspent();
        h.save();
        const byKind = new Map<string, number>();
        for (const u of utxos)
          if (u.shares !== undefined)
            byKind.set(u.shares.bitmark, (byKind.get(u.shares.bitmark) ?? 0) + u.shares.quantity);
        const list = [...byKind].map(([bitmark, quantity]) => ({ bitmark, quantity }));
        ctx.out.result(list, () =>
          list.length === 0
            ? 'no shares'
            : list.map((s) => `${s.quantity} shares of ${s.bitmark}`).join('\n'),
        );
      }),
    )
    .command(
      'holders <bitmarkid>',
      'Who holds the shares of a bitmark (first 1000)',
      (c) => c.positional('bitmarkid', { type: 'string', demandOption: true }),
      run(async (ctx, argv) => {
        const r = await ctx.rpc.call<Kind & { holders: { address: string; quantity: number }[] }>(
          'listshareholders',
          [String(argv.bitmarkid), 1000],
        );
        ctx.out.result(r, () =>
          [
            `${r.total} shares of bitmark ${r.bitmark}`,
            ...r.holders.map((hd) => `  ${hd.address}  ${hd.quantity}  (${percent(hd.quantity, r.total)})`),
          ].join('\n'),
        );
      }),
    )
    .command(
      'provenance <bitmarkid>',
      'The split of a bitmark and every move of its shares',
      (c) => c.positional('bitmarkid', { type: 'string', demandOption: true }),
      run(async (ctx, argv) => {
        const r = await ctx.rpc.call<Kind & { moves: Move[] }>('getshareprovenance', [
          String(argv.bitmarkid),
        ]);
        ctx.out.result(r, () =>
          [
            `bitmark ${r.bitmark} of asset ${r.asset}: split into ${r.total} shares by ${r.split.owner} at height ${r.split.height}`,
            ...r.moves.map((m, i) =>
              [
                `  height ${m.height}  ${m.txid}${i === 0 ? '  (the split)' : ''}`,
                ...m.from.map((f) => `    from ${f.address}  ${f.quantity}`),
                ...m.to.map((t) => `    to   ${t.address}  ${t.quantity}`),
              ].join('\n'),
            ),
          ].join('\n'),
        );
      }),
    )
    .command(
      'key [address]',
      'The public key of an address of this wallet, for the other side of a swap (default: the address with the most coins)',
      (c) => c.positional('address', { type: 'string' }),
      run(async (ctx, argv) => {
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const used = await h.wallet.scan();
        h.save();
        let address = argv.address === undefined ? undefined : String(argv.address);
        if (address === undefined) {
          if (used.length === 0) throw new CliUsageError('this wallet has no used address yet: give one');
          address = used.reduce((a, b) => (b.balance > a.balance ? b : a)).key.address;
        }
        const k = await h.wallet.keyOf(address);
        if (k === undefined) throw new CliUsageError(`${address} is not an address of this wallet`);
        ctx.out.result({ address, pubkey: toHex(k.pubkey) }, () => `${toHex(k.pubkey)}  (${address})`);
      }),
    )
    .command(
      'offer',
      'Make a swap: a transaction giving one thing for another, signed by this wallet only; the other side completes it with cairn share accept',
      (c) =>
        c
          .option('give-shares', { type: 'string', describe: 'BITMARKID:QUANTITY this wallet gives' })
          .option('give-coins', {
            type: 'string',
            describe: 'Coins this wallet gives (e.g. 1.5, or 150000000sat)',
          })
          .option('want-shares', { type: 'string', describe: 'BITMARKID:QUANTITY this wallet gets' })
          .option('want-coins', { type: 'string', describe: 'Coins this wallet gets' })
          .option('with', {
            type: 'string',
            demandOption: true,
            describe: 'Public key of the other side (it prints it with cairn share key)',
          })
          .option('out', {
            type: 'string',
            describe: 'Write the offer to this file (default: print its hex)',
          }),
      run(async (ctx, argv) => {
        const give = legArg(ctx, 'give', argv['give-shares'], argv['give-coins']);
        const want = legArg(ctx, 'want', argv['want-shares'], argv['want-coins']);
        const pubkey = counterpartyKey(String(argv.with));
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const offer = await makeOffer(h.wallet, ctx.rpc, { give, want, pubkey });
        h.save();
        if (argv.out !== undefined) writeFileSync(String(argv.out), `${offer.hex}\n`, { mode: 0o600 });
        ctx.out.result(
          { ...offer, give, want, ...(argv.out === undefined ? {} : { file: String(argv.out) }) },
          () =>
            [
              `offer to ${offer.counterparty}: you give ${legWords(give)}, you get ${legWords(want)} (you pay the fee, ${coins(offer.fee)})`,
              argv.out === undefined
                ? offer.hex
                : `written to ${argv.out}: the other side runs  cairn share accept ${argv.out}`,
            ].join('\n'),
        );
      }),
    )
    .command(
      'accept <offer>',
      'Complete a swap offer (a file, or its hex): shows what you give and get, asks, signs and sends',
      (c) =>
        c
          .positional('offer', { type: 'string', demandOption: true })
          .option('yes', { type: 'boolean', default: false, describe: 'Do not ask for confirmation' })
          .options(waitOptions),
      run(async (ctx, argv) => {
        const text = String(argv.offer);
        const hex = existsSync(text) ? readFileSync(text, 'utf8') : text;
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const { verifier } = loadVerifier('auto');
        const { tx, terms } = await readOffer(h.wallet, ctx.rpc, hex, verifier);
        const words = await termsInWords(ctx, terms);
        process.stderr.write(`${words}\n`);
        if (argv.yes !== true && !(await confirm('Sign and send this swap? [y/N] ')))
          throw new SwapError('swap-declined', 'not confirmed: nothing signed, nothing sent');
        const done = await completeOffer(h.wallet, tx, terms.toSign);
        h.save();
        const txid = await ctx.rpc.call<string>('sendrawtransaction', [toHex(done.raw)]);
        const confirmations = await ctx.waitConfirmations(
          txid,
          Number(argv.wait),
          Number(argv['wait-timeout']),
        );
        ctx.out.result(
          {
            txid,
            coins: terms.coins,
            shares: Object.fromEntries(terms.shares),
            bitmarksin: terms.bitmarksIn,
            bitmarksout: terms.bitmarksOut,
            fee: terms.fee,
            confirmations,
          },
          () => `sent ${txid}`,
        );
      }),
    )
    .demandCommand(1, 'name a share command (cairn share --help)');
}

function quantityArg(name: string, v: unknown): number {
  const t = String(v);
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_SHARES)
    throw new CliUsageError(`${name} ${t}: expected a whole number of shares from 1 to ${MAX_SHARES}`);
  return Number(t);
}

/** One side of an offer from its two options: exactly one of them. */
function legArg(ctx: Context, side: 'give' | 'want', sharesOpt: unknown, coinsOpt: unknown): Leg {
  if ((sharesOpt === undefined) === (coinsOpt === undefined))
    throw new CliUsageError(`name exactly one of --${side}-shares and --${side}-coins`);
  if (coinsOpt !== undefined)
    return { kind: 'coins', amount: parseAmount(String(coinsOpt), ctx.params, { what: `--${side}-coins` }) };
  const m = /^([0-9a-fA-F]{64}):(\d+)$/.exec(String(sharesOpt));
  if (m === null || hashFromHex(m[1]!) === null)
    throw new CliUsageError(`--${side}-shares ${String(sharesOpt)}: expected BITMARKID:QUANTITY`);
  return {
    kind: 'shares',
    bitmark: m[1]!.toLowerCase(),
    quantity: quantityArg(`--${side}-shares quantity`, m[2]),
  };
}

function legWords(l: Leg): string {
  return l.kind === 'coins' ? coins(l.amount) : `${l.quantity} shares of bitmark ${l.bitmark}`;
}

function percent(q: number, total: number): string {
  return `${((100 * q) / total).toPrecision(3)}%`;
}

/** What the swap does for this wallet, in words: each thing given and got, and the fee. */
async function termsInWords(ctx: Context, t: SwapTerms): Promise<string> {
  const gives: string[] = [];
  const gets: string[] = [];
  if (t.coins < 0) gives.push(coins(-t.coins));
  if (t.coins > 0) gets.push(coins(t.coins));
  for (const [bitmark, q] of t.shares) {
    const kind = await ctx.rpc.call<Kind>('getshareprovenance', [bitmark, 1]);
    const asset = await ctx.rpc.call<{ name: string }>('getasset', [kind.asset]);
    const what = `${Math.abs(q)} shares of bitmark ${bitmark} (${percent(Math.abs(q), kind.total)} of its ${kind.total} shares; asset "${asset.name}")`;
    (q < 0 ? gives : gets).push(what);
  }
  for (const b of t.bitmarksIn) gives.push(`bitmark ${b}`);
  for (const b of t.bitmarksOut) gets.push(`bitmark ${b}`);
  return [
    'This swap, once you sign it:',
    `  you give:    ${gives.length === 0 ? 'nothing' : gives.join('; ')}`,
    `  you receive: ${gets.length === 0 ? 'nothing' : gets.join('; ')}`,
    `  network fee of the whole transaction: ${coins(t.fee)} (included above where it is yours)`,
  ].join('\n');
}

/** Asks on stderr and reads one line of stdin (a terminal or a pipe); only y or yes confirms. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: process.stdin.isTTY === true,
  });
  try {
    const answer = await Promise.race([
      rl.question(question),
      new Promise<string>((resolve) => rl.once('close', () => resolve(''))),
    ]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
