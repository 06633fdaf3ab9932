#!/usr/bin/env node
/**
 * cairnd: the Cairn node daemon. `cairnd --help`, `cairnd COMMAND --help`.
 * Exit codes: see exit-codes.ts.
 */
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  configFromArgv,
  failFor,
  holdSignals,
  identityCommand,
  runCommands,
  stopOnSignals,
  withConfig as withConfigOption,
} from '../../shared/cli/program.ts';
import { loadNodeConfig, NODE_SCHEMA, type NodeConfig } from '../../shared/config/node-config.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { exportCommand, importCommand } from './archive/commands.ts';
import { ArchiveError, ArchiveUsageError } from './archive/errors.ts';
import { PruneError } from './chain/prune-errors.ts';
import { isPruned } from './chain/pruner.ts';
import { ChainState } from './chain-state.ts';
import { StorageError } from './db/errors.ts';
import { EXIT } from './exit-codes.ts';
import { CairnNode, PortInUseError } from './node.ts';
import { AlreadyRunningError, acquirePidFile } from './pid-file.ts';
import { blockJson } from './render.ts';
import { generateRpcAuth } from './rpc/auth.ts';

/** Maps an error to an exit code (exit-codes.ts) and prints what to do about it. */
const fail: (e: unknown, log?: Logger) => never = failFor('cairnd', [
  [StorageError, EXIT.storage],
  [AlreadyRunningError, EXIT.alreadyRunning],
  [ArchiveUsageError, EXIT.usage],
  [ArchiveError, EXIT.archive],
  // what a pruned node cannot do (reindex, dump a pruned block): the message says what instead
  [PruneError, EXIT.usage],
]);

const config = (argv: Record<string, unknown>): NodeConfig =>
  configFromArgv('cairnd', NODE_SCHEMA, loadNodeConfig, argv);

const withConfig = withConfigOption('config/cairnd.sample.toml');

async function start(argv: Record<string, unknown>): Promise<void> {
  const c = config(argv);
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairnd' });
  const held = holdSignals(log, 30_000);
  let release: () => void = () => undefined;
  let node: CairnNode | undefined;
  let requestStop: (reason: string, exitCode?: number) => void = () => undefined;
  try {
    release = acquirePidFile(join(c.data_dir, 'cairnd.pid'));
    node = await CairnNode.start(c, log, undefined, (reason, code) => requestStop(reason, code));
  } catch (e) {
    release();
    if (e instanceof PortInUseError) {
      // one line for a human, not a log record with a stack: the fix is in the configuration
      console.error(`cairnd: ${e.message}`);
      process.exit(EXIT.config);
    }
    fail(e, log);
  }
  requestStop = stopOnSignals({
    held,
    log,
    graceMs: 30_000,
    stop: async () => {
      await node?.stop();
      release();
    },
    fail,
  });
  // Nothing a subsystem throws may end the process without a clean stop: after a failed write the
  // storage error shows up again wherever the chain is touched (exit 3, said once); anything else
  // is a bug, logged with its stack, and still a clean stop (exit 1).
  const onFault = (e: unknown) => {
    const failed = node?.state.db.failed;
    if (e instanceof StorageError || failed !== undefined) {
      log.debug({ err: e }, 'error after the storage failure');
      requestStop('storage failure', EXIT.storage);
      return;
    }
    log.fatal({ err: e }, `unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
    requestStop('unexpected failure', EXIT.failure);
  };
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
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
    const pruned = e !== undefined && isPruned(state.chain, e);
    await state.close();
    release();
    if (pruned)
      throw new PruneError(
        'block-pruned',
        `block pruned: the data of the block at height ${height} was deleted by pruning (blocks up to ${state.chain.pruneHeight}); headers and the ledger indexes stay (cairn provenance, getrawtransaction location)`,
      );
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

/** export-blocks / import-blocks (archive/commands.ts): the exit code they return, or the error's. */
async function archive(argv: Record<string, unknown>, run: (c: NodeConfig, log: Logger) => Promise<number>) {
  const c = config(argv);
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairnd' });
  let code: number;
  try {
    code = await run(c, log);
  } catch (e) {
    fail(e, log);
  }
  process.exit(code);
}

const height = (v: unknown) => (v === undefined ? undefined : Number(v));

await runCommands(
  yargs(hideBin(process.argv))
    .scriptName('cairnd')
    .usage('$0 COMMAND [options]\n\nThe Cairn node daemon.')
    .command('start', 'run the node (stops cleanly on SIGINT/SIGTERM)', withConfig, (a) => start(a))
    .command(
      identityCommand({
        command: 'gen-peer-identity',
        describe: 'create the node’s peer identity (CURVE key pair) in DIR',
        name: 'peer',
        role: 'peer',
        share: 'share it with peers that must allow this node',
        fail,
      }),
    )
    .command(
      identityCommand({
        command: 'gen-proof-identity',
        describe: 'create the identity of the proof (mining) sockets in DIR',
        name: 'proof',
        role: 'proof',
        share: 'give it to the recorders: their [[nodes]] key',
        fail,
      }),
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
    .command(
      'export-blocks <file>',
      'write blocks of the active chain to FILE, a checksummed archive (the node must be stopped)',
      (y) =>
        withConfig(y)
          .positional('file', { type: 'string', demandOption: true })
          .option('from', { type: 'number', describe: 'first height (default 1)' })
          .option('to', { type: 'number', describe: 'last height (default: the tip)' })
          .option('force', { type: 'boolean', default: false, describe: 'replace FILE if it exists' }),
      (a) =>
        archive(a, (c, log) =>
          exportCommand(c, log, String(a.file), {
            ...(a.from === undefined ? {} : { from: height(a.from) }),
            ...(a.to === undefined ? {} : { to: height(a.to) }),
            force: a.force === true,
          }),
        ),
    )
    .command(
      'import-blocks <file>',
      'validate and connect the blocks of an archive FILE, as if a peer sent them (resumes when run again)',
      (y) => withConfig(y).positional('file', { type: 'string', demandOption: true }),
      (a) => archive(a, (c, log) => importCommand(c, log, String(a.file))),
    )
    .command('version', 'print the version', {}, () => console.log(`cairnd ${VERSION}`)),
  'cairnd',
  fail,
);
