#!/usr/bin/env node
/**
 * cairn-recorder: the standalone miner. `cairn-recorder --help`, `cairn-recorder COMMAND --help`.
 * Exit codes: see exit-codes.ts (0 ok, 1 failure, 2 config, 4 identity, 64 usage).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { exitWithError } from '../../shared/cli/exit.ts';
import { flagsFromArgv } from '../../shared/config/load.ts';
import {
  loadRecorderConfig,
  RECORDER_SCHEMA,
  type RecorderConfig,
  recorderIdentityPaths,
  recorderNodes,
} from '../../shared/config/recorder-config.ts';
import { ConfigError } from '../../shared/config/schema.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { generateIdentity, IdentityError, loadIdentity } from '../../shared/identity/certificate.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { EXIT } from './exit-codes.ts';
import { Recorder } from './recorder.ts';

/** Maps an error to an exit code and prints what to do about it. */
function fail(e: unknown, log?: Logger): never {
  return exitWithError(
    'cairn-recorder',
    e,
    [
      [ConfigError, EXIT.config],
      [IdentityError, EXIT.identity],
    ],
    log,
  );
}

function config(argv: Record<string, unknown>): RecorderConfig {
  const file = typeof argv.config === 'string' ? argv.config : undefined;
  const loaded = loadRecorderConfig({
    ...(file === undefined ? {} : { file }),
    flags: flagsFromArgv(RECORDER_SCHEMA, argv),
  });
  for (const w of loaded.warnings) console.error(`cairn-recorder: warning: ${w}`);
  return loaded.config;
}

const withConfig = (y: Argv) =>
  y
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: 'TOML config file (see config/cairn-recorder.sample.toml)',
    })
    .strict(false);

async function start(argv: Record<string, unknown>): Promise<void> {
  let c: RecorderConfig;
  try {
    c = config(argv);
  } catch (e) {
    fail(e);
  }
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairn-recorder' });
  let recorder: Recorder;
  try {
    const identity = loadIdentity(recorderIdentityPaths(c).secretPath);
    log.info({ key: identity.publicKey }, `recorder key ${identity.publicKey}`);
    recorder = new Recorder(
      {
        nodes: recorderNodes(c).map((n) => ({
          name: n.name,
          jobsEndpoint: n.jobsEndpoint,
          submitEndpoint: n.submitEndpoint,
          nodeKey: n.nodeKey,
          params: NETWORKS[n.network],
          payout: n.payout,
          identity,
        })),
        workers: c.workers,
        cpuPercent: c.cpu_percent,
        strategy: c.strategy,
      },
      { logger: log },
    );
    await recorder.start();
  } catch (e) {
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
      log.error('clean stop took more than 10 s: exiting');
      process.exit(EXIT.failure);
    }, 10_000);
    watchdog.unref();
    try {
      await recorder.stop();
    } catch (e) {
      fail(e, log);
    }
    process.exit(EXIT.ok);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
}

function genIdentity(argv: Record<string, unknown>): void {
  const dir = String(argv.dir);
  const name = String(argv.name);
  try {
    const id = generateIdentity(dir, name, { force: argv.force === true, metadata: { role: 'recorder' } });
    console.log(`public key: ${id.publicKey}`);
    console.log(`wrote ${id.publicPath} (give it, or the key, to the nodes: their proof.recorders)`);
    console.log(`wrote ${id.secretPath} (mode 0600: keep it on this machine)`);
  } catch (e) {
    fail(e);
  }
}

await yargs(hideBin(process.argv))
  .scriptName('cairn-recorder')
  .usage('$0 COMMAND [options]\n\nThe Cairn standalone miner: hashes the jobs of one or more nodes.')
  .command('start', 'mine (stops cleanly on SIGINT/SIGTERM)', withConfig, (a) => start(a))
  .command(
    'generate-identity <dir>',
    'create the recorder’s identity (CURVE key pair) in DIR',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true })
        .option('name', { type: 'string', default: 'recorder' })
        .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing identity' }),
    (a) => genIdentity(a),
  )
  .command('config-check', 'validate the configuration and print the result', withConfig, (a) => {
    try {
      console.log(JSON.stringify(config(a), null, 2));
    } catch (e) {
      fail(e);
    }
  })
  .command('version', 'print the version', {}, () => console.log(`cairn-recorder ${VERSION}`))
  .demandCommand(1, 'name a command (cairn-recorder --help lists them)')
  .recommendCommands()
  .strictCommands()
  .fail((msg, err) => {
    if (err !== undefined && err !== null) fail(err);
    console.error(`cairn-recorder: ${msg}\nrun 'cairn-recorder --help' for usage`);
    process.exit(EXIT.usage);
  })
  .version(false)
  .help()
  .parseAsync();
