/** `cairn wallet create | restore | address | balance | send | info`. */
import { existsSync, readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { parseAmount } from '../amount.ts';
import { CliUsageError, RpcClientError, WalletError } from '../errors.ts';
import { coins } from '../output.ts';
import { getNewPassphrase, promptHidden } from '../passphrase.ts';
import { accountPath, Keychain, RECEIVE } from '../wallet/keychain.ts';
import { checkMnemonic, newMnemonic, seedOf } from '../wallet/mnemonic.ts';
import { Wallet } from '../wallet/wallet.ts';
import { createWalletFile } from '../wallet/wallet-file.ts';
import type { Context } from './context.ts';
import { type Runner, waitOptions } from './run.ts';

async function create(
  ctx: Context,
  mnemonic: string,
  restored: boolean,
  bip39Passphrase: string,
): Promise<void> {
  // refuse before asking anything (createWalletFile checks again, atomically)
  if (existsSync(ctx.walletPath))
    throw new WalletError(
      'wallet-exists',
      `${ctx.walletPath} already exists: refusing to overwrite a wallet (choose another --wallet)`,
      ctx.walletPath,
    );
  const passphrase = await getNewPassphrase(ctx.args['passphrase-file']);
  const keychain = new Keychain(seedOf(mnemonic, bip39Passphrase), ctx.params);
  // a new wallet shows its first receive address, so the next one handed out is index 1
  let next = { receive: restored ? 0 : 1, change: 0 };
  let scanned: number | undefined;
  if (restored) {
    // find what the chain knows about this seed; without a node, the wallet is still written
    try {
      const w = new Wallet({ params: ctx.params }, { rpc: () => ctx.rpc, keychain }, next);
      await w.checkNode();
      scanned = (await w.scan()).length;
      next = { ...w.next };
    } catch (e) {
      if (!(e instanceof RpcClientError)) throw e;
      ctx.out.warn(`could not scan the chain (${e.message}); run 'cairn wallet balance' later`);
    }
  }
  const file = createWalletFile(
    ctx.walletPath,
    ctx.params.name,
    { mnemonic, bip39Passphrase, createdAt: Math.floor(Date.now() / 1000), next },
    passphrase,
  );
  const first = keychain.key(RECEIVE, 0).address;
  ctx.out.result(
    {
      wallet: file.path,
      network: ctx.params.name,
      ...(restored ? { usedaddresses: scanned ?? null } : { mnemonic }),
      path: `${accountPath(ctx.params)}/0/i (receive), /1/i (change)`,
      xpub: keychain.xpub,
      firstaddress: first,
      kdf: { name: file.kdf.name, n: file.kdf.n, r: file.kdf.r, p: file.kdf.p },
    },
    () =>
      [
        `wallet written to ${file.path} (network ${ctx.params.name}, mode 0600, scrypt N=${file.kdf.n})`,
        ...(restored
          ? [`restored; addresses in use found on the chain: ${scanned ?? 'not scanned'}`]
          : ['', 'WRITE DOWN THESE WORDS (the only way to recover the wallet):', `  ${mnemonic}`, '']),
        `first receive address: ${first}`,
      ].join('\n'),
  );
}

function readMnemonic(file: string | undefined): Promise<string> {
  if (file !== undefined) {
    try {
      return Promise.resolve(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new CliUsageError(`--mnemonic-file ${file}: ${(e as Error).message}`);
    }
  }
  if (process.env.CAIRN_WALLET_MNEMONIC !== undefined)
    return Promise.resolve(process.env.CAIRN_WALLET_MNEMONIC);
  return promptHidden('mnemonic (words separated by spaces): ');
}

export function walletCommands(y: Argv, run: Runner): Argv {
  return y
    .command(
      'create',
      'Create a new wallet (prints its BIP39 mnemonic once)',
      (c) =>
        c
          .option('words', { type: 'number', choices: [12, 24], default: 24, describe: 'Mnemonic length' })
          .option('bip39-passphrase', {
            type: 'string',
            default: '',
            describe: 'Optional BIP39 passphrase ("25th word"); needed again to restore',
          }),
      run(async (ctx, argv) =>
        create(ctx, newMnemonic(argv.words as 12 | 24), false, String(argv['bip39-passphrase'])),
      ),
    )
    .command(
      'restore',
      'Recreate a wallet from its mnemonic and find its addresses on the chain',
      (c) =>
        c
          .option('mnemonic-file', {
            type: 'string',
            describe: 'File holding the words (else env CAIRN_WALLET_MNEMONIC, else a prompt)',
          })
          .option('bip39-passphrase', {
            type: 'string',
            default: '',
            describe: 'The BIP39 passphrase, if any',
          }),
      run(async (ctx, argv) => {
        const m = checkMnemonic(await readMnemonic(argv['mnemonic-file'] as string | undefined));
        await create(ctx, m, true, String(argv['bip39-passphrase']));
      }),
    )
    .command(
      'address',
      'A new receive address',
      (c) => c,
      run(async (ctx) => {
        const h = await ctx.openWallet();
        const k = h.wallet.newReceiveKey();
        h.save();
        ctx.out.result({ address: k.address, path: k.path }, () => k.address);
      }),
    )
    .command(
      'balance',
      'Confirmed coins (spendable and immature) and bitmarks of the wallet',
      (c) => c,
      run(async (ctx) => {
        const h = await ctx.openWallet();
        await h.wallet.checkNode();
        const b = await h.wallet.balance();
        h.save();
        ctx.out.result(b, () =>
          [
            `spendable: ${coins(b.spendable)}`,
            `immature:  ${coins(b.immature)}`,
            `total:     ${coins(b.total)}`,
            `bitmarks:  ${b.bitmarks.length}`,
            `addresses in use: ${b.addresses}`,
          ].join('\n'),
        );
      }),
    )
    .command(
      'send <address> <amount>',
      'Send AMOUNT coins (decimals allowed: 1.5; base units with the suffix sat: 150000000sat) to ADDRESS',
      (c) =>
        c
          .positional('address', { type: 'string', demandOption: true })
          .positional('amount', {
            type: 'string',
            demandOption: true,
            describe: 'Coins, e.g. 1.5 (at most 8 decimals); or base units: 150000000sat',
          })
          .option('base-units', {
            type: 'boolean',
            default: false,
            describe: 'AMOUNT is a whole number of base units (1 coin = 100000000)',
          })
          .options(waitOptions)
          .option('dry-run', { type: 'boolean', default: false, describe: 'Build and sign, do not send' }),
      run(async (ctx, argv) => {
        const amount = parseAmount(String(argv.amount), ctx.params, {
          baseUnits: argv['base-units'] === true,
        });
        const {
          built: b,
          sent,
          confirmations,
        } = await ctx.spend(argv, (w) => w.send(String(argv.address), amount), {
          dryRun: argv['dry-run'] === true,
        });
        ctx.out.result(
          {
            txid: b.txid,
            sent,
            amount,
            fee: b.fee,
            feerate: b.feeRate,
            size: b.size,
            confirmations,
          },
          () =>
            `${sent ? 'sent' : 'built (not sent)'} ${coins(amount)} in ${b.txid}\nfee ${coins(b.fee)}, ${b.size} bytes` +
            (confirmations > 0 ? `\nconfirmations: ${confirmations}` : ''),
        );
      }),
    )
    .command(
      'info',
      'Wallet file, network, derivation path, account xpub, address indexes (no node needed)',
      (c) => c,
      run(async (ctx) => {
        const h = await ctx.openWallet();
        const v = {
          wallet: h.file.path,
          network: h.file.network,
          path: `${accountPath(ctx.params)}/{0,1}/i`,
          xpub: h.keychain.xpub,
          nextreceive: h.wallet.next.receive,
          nextchange: h.wallet.next.change,
          kdf: { name: h.file.kdf.name, n: h.file.kdf.n, r: h.file.kdf.r, p: h.file.kdf.p },
        };
        ctx.out.result(v, () =>
          Object.entries(v)
            .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : x}`)
            .join('\n'),
        );
      }),
    )
    .demandCommand(1, 'name a wallet command (cairn wallet --help)');
}
