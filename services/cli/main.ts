#!/usr/bin/env node
/**
 * cairn: the command-line client and wallet. `cairn --help`, `cairn COMMAND --help`.
 * Talks to cairnd over JSON-RPC (cookie found in the data directory) and its ZMQ feed; keeps the
 * wallet's keys on this side only (docs/cli.md).
 *
 * Exit codes: 0 ok, 1 unexpected failure, 2 no RPC credentials, 3 the node refused the request
 * (RPC error, or its feed refused our CURVE key), 5 wallet (wrong passphrase, damaged file, file exists), 6 funds (insufficient,
 * not owned), 64 usage, 69 node unreachable.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_COMMON, exitWithError } from '../../shared/cli/exit.ts';
import { CairnError, DecodeError } from '../../shared/core/errors.ts';
import { IdentityError } from '../../shared/identity/certificate.ts';
import { VERSION } from '../../shared/version.ts';
import { assetCommands } from './commands/asset.ts';
import { bitmarkCommands } from './commands/bitmark.ts';
import { Context, type GlobalArgs } from './commands/context.ts';
import { RPC_HELP_TOKEN, rpcCommand, rpcHandler } from './commands/rpc.ts';
import type { Runner } from './commands/run.ts';
import { shareCommands } from './commands/share.ts';
import { walletCommands } from './commands/wallet.ts';
import { watchCommand, watchHandler } from './commands/watch.ts';
import { CliUsageError, FeedError, FundsError, RpcClientError, WalletError } from './errors.ts';

export const EXIT = { ...EXIT_COMMON, rpc: 3, wallet: 5, funds: 6, unavailable: 69 } as const;

function exitCodeOf(e: unknown): number {
  if (e instanceof RpcClientError)
    return e.code === 'rpc-unreachable'
      ? EXIT.unavailable
      : e.code === 'rpc-no-credentials'
        ? EXIT.config
        : EXIT.rpc;
  if (e instanceof FeedError) return EXIT.rpc;
  if (e instanceof WalletError) return EXIT.wallet;
  if (e instanceof FundsError) return EXIT.funds;
  if (e instanceof IdentityError) return EXIT.identity;
  if (e instanceof CliUsageError || e instanceof DecodeError) return EXIT.usage;
  return EXIT.failure;
}

function fail(e: unknown, json: boolean): never {
  if (json && e instanceof CairnError) {
    const rpcCode = e instanceof RpcClientError && e.rpcCode !== undefined ? { rpccode: e.rpcCode } : {};
    process.stderr.write(`${JSON.stringify({ error: { code: e.code, message: e.message, ...rpcCode } })}\n`);
    process.exit(exitCodeOf(e));
  }
  if (e instanceof RpcClientError) {
    console.error(`cairn: ${e.message}`);
    process.exit(exitCodeOf(e));
  }
  return exitWithError('cairn', e, [
    [CliUsageError, EXIT.usage],
    [DecodeError, EXIT.usage],
    [FeedError, EXIT.rpc],
    [WalletError, EXIT.wallet],
    [FundsError, EXIT.funds],
    [IdentityError, EXIT.identity],
  ]);
}

function globalArgs(argv: Record<string, unknown>): GlobalArgs {
  const s = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  return {
    network: argv.network as GlobalArgs['network'],
    datadir: s('datadir'),
    rpcconnect: s('rpcconnect'),
    rpcport: argv.rpcport as number | undefined,
    rpcuser: s('rpcuser'),
    rpcpassword: s('rpcpassword'),
    rpccookiefile: s('rpccookiefile'),
    wallet: s('wallet'),
    'passphrase-file': s('passphrase-file'),
    'fee-rate': argv['fee-rate'] as number | undefined,
    json: argv.json === true,
  };
}

const run: Runner = (handler) => async (argv) => {
  const ctx = new Context(globalArgs(argv));
  try {
    await handler(ctx, argv);
  } catch (e) {
    ctx.close();
    fail(e, ctx.args.json);
  }
  ctx.close();
};

/** Global options that take a value (so their value is not mistaken for the command). */
const VALUED = new Set([
  '--network',
  '-n',
  '--datadir',
  '--rpcconnect',
  '--rpcport',
  '--rpcuser',
  '--rpcpassword',
  '--rpccookiefile',
  '--wallet',
  '-w',
  '--passphrase-file',
  '--fee-rate',
]);

function cli(args: string[]): Argv {
  const envNetwork = process.env.CAIRN_NETWORK;
  return yargs(args)
    .scriptName('cairn')
    .usage(
      '$0 <command> [options]\n\nThe Cairn client: wallet, assets, bitmarks, feed and raw RPC (docs/cli.md).',
    )
    .option('network', {
      alias: 'n',
      choices: ['main', 'test', 'local'] as const,
      default: envNetwork === 'test' || envNetwork === 'local' ? envNetwork : 'main',
      describe: 'Network (env CAIRN_NETWORK): sets the default ports, data directory and address prefix',
      global: true,
    })
    .option('datadir', {
      type: 'string',
      default: process.env.CAIRN_DATA_DIR,
      defaultDescription: '~/.cairn/<network> (env CAIRN_DATA_DIR)',
      describe: "The node's data directory: its RPC cookie, and the default wallet place",
      global: true,
    })
    .option('rpcconnect', { type: 'string', describe: 'RPC host (default 127.0.0.1)', global: true })
    .option('rpcport', {
      type: 'number',
      describe: 'RPC port (default 2131, +10000 test, +20000 local)',
      global: true,
    })
    .option('rpcuser', { type: 'string', describe: 'RPC user (instead of the cookie)', global: true })
    .option('rpcpassword', { type: 'string', describe: 'RPC password (instead of the cookie)', global: true })
    .option('rpccookiefile', {
      type: 'string',
      describe: 'Cookie file (default <datadir>/.cookie)',
      global: true,
    })
    .option('wallet', {
      alias: 'w',
      type: 'string',
      describe: 'Wallet file (default <datadir>/wallet.json)',
      global: true,
    })
    .option('passphrase-file', {
      type: 'string',
      describe:
        'File whose first line is the wallet passphrase (else env CAIRN_WALLET_PASSPHRASE, else a prompt)',
      global: true,
    })
    .option('fee-rate', {
      type: 'number',
      describe: 'Fee in base units per byte (default: the node estimate)',
      global: true,
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Machine-readable JSON output',
      global: true,
    })
    .check((a) => {
      const r = a['fee-rate'];
      if (r !== undefined && !(typeof r === 'number' && Number.isFinite(r) && r > 0))
        throw new Error('--fee-rate: expected a positive number of base units per byte (e.g. 2)');
      return true;
    })
    .command('wallet', 'Create, restore and use the wallet', (y) => walletCommands(y, run))
    .command('asset', 'Register and look up assets', (y) => assetCommands(y, run))
    .command('bitmark', 'Issue, transfer and trace bitmarks', (y) => bitmarkCommands(y, run))
    .command('share', 'Split bitmarks into shares, grant and swap them', (y) => shareCommands(y, run))
    .command(
      'watch',
      "Print the node's blocks and transactions live (ZMQ feed)",
      (y) => watchCommand(y),
      watchHandler(run),
    )
    .command(
      'rpc <method> [params..]',
      'Call any node RPC (cairn rpc help)',
      (y) => rpcCommand(y),
      rpcHandler(run),
    )
    .command('version', 'Print the version', {}, () => console.log(`cairn ${VERSION}`))
    .demandCommand(1, 'name a command (cairn --help)')
    .strict()
    .version(`cairn ${VERSION}`)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) fail(err, args.includes('--json'));
      console.error(`cairn: ${msg}\n(see cairn --help)`);
      process.exit(EXIT.usage);
    });
}

/**
 * yargs reads a last positional `help` as --help: `cairn rpc help` must call the node's `help`
 * method instead (as `bitcoin-cli help` does), so that word is passed under another name.
 */
const argv = hideBin(process.argv);
const command = argv.find((a, i) => !a.startsWith('-') && !VALUED.has(argv[i - 1] ?? ''));
if (command === 'rpc' && argv.length > 1 && argv[argv.length - 1] === 'help')
  argv[argv.length - 1] = RPC_HELP_TOKEN;

await cli(argv).parseAsync();
