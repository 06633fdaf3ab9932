#!/usr/bin/env node
/**
 * cairnd: the Cairn node daemon. `cairnd --help`, `cairnd COMMAND --help`.
 * Exit codes: see exit-codes.ts.
 */
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exitWithError } from '../../shared/cli/exit.ts';
import { flagsFromArgv } from '../../shared/config/load.ts';
import { loadNodeConfig, NODE_SCHEMA, type NodeConfig } from '../../shared/config/node-config.ts';
import { ConfigError } from '../../shared/config/schema.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { generateIdentity, IdentityError } from '../../shared/identity/certificate.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { ChainState } from './chain-state.ts';
import { StorageError } from './db/errors.ts';
import { EXIT } from './exit-codes.ts';
import { CairnNode } from './node.ts';
import { AlreadyRunningError, acquirePidFile } from './pid-file.ts';
import { blockJson } from './render.ts';
import { generateRpcAuth } from './rpc/auth.ts';

/** Maps an error to an exit code (exit-codes.ts) and prints what to do about it. */
function fail(e: unknown, log?: Logger): never {
  return exitWithError(
    'cairnd',
    e,
    [
      [ConfigError, EXIT.config],
      [IdentityError, EXIT.identity],
      [StorageError, EXIT.storage],
      [AlreadyRunningError, EXIT.alreadyRunning],
    ],
    log,
  );
}

function config(argv: Record<string, unknown>): NodeConfig {
  const file = typeof argv.config === 'string' ? argv.config : undefined;
  const loaded = loadNodeConfig({
    ...(file === undefined ? {} : { file }),
    flags: flagsFromArgv(NODE_SCHEMA, argv),
  });
  for (const w of loaded.warnings) console.error(`cairnd: warning: ${w}`);
  return loaded.config;
}

const withConfig = (y: Argv) =>
  y
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: 'TOML config file (see config/cairnd.sample.toml)',
    })
    .strict(false);

async function start(argv: Record<string, unknown>): Promise<void> {
  const c = config(argv);
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairnd' });
  let release: () => void = () => undefined;
  let node: CairnNode | undefined;
  try {
    release = acquirePidFile(join(c.data_dir, 'cairnd.pid'));
    node = await CairnNode.start(c, log, undefined, () => void stop('rpc stop'));
  } catch (e) {
    release();
    fail(e, log);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without a clean stop`);
      process.exit(EXIT.failure);
    }
    stopping = true;
    log.info({ signal }, `${signal}: shutting down`);
    const watchdog = setTimeout(() => {
      log.error('clean stop took more than 30 s: exiting');
      process.exit(EXIT.failure);
    }, 30_000);
    watchdog.unref();
    await node?.stop();
    release();
    process.exit(EXIT.ok);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
}

function genIdentity(argv: Record<string, unknown>, role: string): void {
  const dir = String(argv.dir);
  const name = String(argv.name);
  try {
    const id = generateIdentity(dir, name, { force: argv.force === true, metadata: { role } });
    console.log(`public key: ${id.publicKey}`);
    console.log(`wrote ${id.publicPath} (share it with peers that must allow this node)`);
    console.log(`wrote ${id.secretPath} (mode 0600: keep it on this machine)`);
  } catch (e) {
    fail(e);
  }
}

/** Prints an rpcauth entry for the config and the password for the user (rpcauth.py's job). */
function genRpcAuth(argv: Record<string, unknown>): void {
  const user = String(argv.user);
  if (!/^[^:\s]+$/.test(user)) {
    console.error('cairnd: gen-rpcauth: USER must not be empty nor contain ":" or spaces');
    process.exit(EXIT.usage);
  }
  const { entry, password } = generateRpcAuth(user);
  console.log(`String to be appended to rpc.auth in cairnd.toml:\n  auth = ["${entry}"]`);
  console.log(`Your password:\n${password}`);
}

async function reindex(argv: Record<string, unknown>): Promise<void> {
  const c = config(argv);
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairnd' });
  let release: () => void = () => undefined;
  try {
    release = acquirePidFile(join(c.data_dir, 'cairnd.pid'));
    const state = await ChainState.open(
      { dataDir: c.data_dir, params: NETWORKS[c.network] },
      { logger: log },
    );
    const t0 = Date.now();
    state.chain.reindex((h) => log.info({ height: h }, `reindexed to height ${h}`));
    log.info(
      { height: state.chain.tipHeight(), seconds: (Date.now() - t0) / 1000 },
      `reindex done at height ${state.chain.tipHeight()}`,
    );
    await state.close();
  } catch (e) {
    release();
    fail(e, log);
  }
  release();
}

async function dumpBlock(argv: Record<string, unknown>): Promise<void> {
  const c = config(argv);
  const height = Number(argv.height);
  let release: () => void = () => undefined;
  try {
    release = acquirePidFile(join(c.data_dir, 'cairnd.pid'));
    const state = await ChainState.open(
      { dataDir: c.data_dir, params: NETWORKS[c.network], verifyWorkers: 0 },
      { logger: createLogger({ level: 'silent' }) },
    );
    const e = state.chain.entryAt(height);
    const b = e === undefined ? undefined : state.chain.getBlock(e.hash);
    await state.close();
    release();
    if (b === undefined) {
      console.error(`cairnd: no block at height ${height} (tip is ${state.chain.tipHeight()})`);
      process.exit(EXIT.usage);
    }
    console.log(JSON.stringify(blockJson(b, height, NETWORKS[c.network]), null, 2));
  } catch (e) {
    release();
    fail(e);
  }
}

await yargs(hideBin(process.argv))
  .scriptName('cairnd')
  .usage('$0 COMMAND [options]\n\nThe Cairn node daemon.')
  .command('start', 'run the node (stops cleanly on SIGINT/SIGTERM)', withConfig, (a) => start(a))
  .command(
    'gen-peer-identity <dir>',
    'create the node’s peer identity (CURVE key pair) in DIR',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true })
        .option('name', { type: 'string', default: 'peer' })
        .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing identity' }),
    (a) => genIdentity(a, 'peer'),
  )
  .command(
    'gen-proof-identity <dir>',
    'create the identity of the proof (mining) sockets in DIR',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true })
        .option('name', { type: 'string', default: 'proof' })
        .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing identity' }),
    (a) => genIdentity(a, 'proof'),
  )
  .command(
    'gen-rpcauth <user>',
    'print an rpcauth entry for rpc.auth and a new random password for USER',
    (y) => y.positional('user', { type: 'string', demandOption: true }),
    (a) => genRpcAuth(a),
  )
  .command('config-check', 'validate the configuration and print the result', withConfig, (a) => {
    try {
      console.log(JSON.stringify(config(a), null, 2));
    } catch (e) {
      fail(e);
    }
  })
  .command('reindex', 'rebuild the UTXO set and every index from the stored blocks', withConfig, (a) =>
    reindex(a),
  )
  .command(
    'dump-block <height>',
    'print the block at HEIGHT of the active chain as JSON',
    (y) => withConfig(y).positional('height', { type: 'number', demandOption: true }),
    (a) => dumpBlock(a),
  )
  .command('version', 'print the version', {}, () => console.log(`cairnd ${VERSION}`))
  .demandCommand(1, 'name a command (cairnd --help lists them)')
  .recommendCommands()
  .strictCommands()
  .fail((msg, err) => {
    if (err !== undefined && err !== null) fail(err);
    console.error(`cairnd: ${msg}\nrun 'cairnd --help' for usage`);
    process.exit(EXIT.usage);
  })
  .version(false)
  .help()
  .parseAsync();
