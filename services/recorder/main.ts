#!/usr/bin/env node
/**
 * cairn-recorder: the standalone miner. `cairn-recorder --help`, `cairn-recorder COMMAND --help`.
 * Exit codes (shared/cli/exit.ts): 0 ok, 1 failure, 2 config, 4 identity, 64 usage.
 */
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
import {
  loadRecorderConfig,
  RECORDER_SCHEMA,
  type RecorderConfig,
  recorderIdentityPaths,
  recorderNodes,
} from '../../shared/config/recorder-config.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { loadIdentity } from '../../shared/identity/certificate.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { Recorder } from './recorder.ts';

const fail: (e: unknown, log?: Logger) => never = failFor('cairn-recorder');

const config = (argv: Record<string, unknown>): RecorderConfig =>
  configFromArgv('cairn-recorder', RECORDER_SCHEMA, loadRecorderConfig, argv);

const withConfig = withConfigOption('config/cairn-recorder.sample.toml');

async function start(argv: Record<string, unknown>): Promise<void> {
  let c: RecorderConfig;
  try {
    c = config(argv);
  } catch (e) {
    fail(e);
  }
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairn-recorder' });
  const held = holdSignals(log, 10_000);
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
  stopOnSignals({ held, log, graceMs: 10_000, stop: () => recorder.stop(), fail });
}

await runCommands(
  yargs(hideBin(process.argv))
    .scriptName('cairn-recorder')
    .usage('$0 COMMAND [options]\n\nThe Cairn standalone miner: hashes the jobs of one or more nodes.')
    .command('start', 'mine (stops cleanly on SIGINT/SIGTERM)', withConfig, (a) => start(a))
    .command(
      identityCommand({
        command: 'generate-identity',
        describe: 'create the recorder’s identity (CURVE key pair) in DIR',
        name: 'recorder',
        role: 'recorder',
        share: 'give it, or the key, to the nodes: their proof.recorders',
        fail,
      }),
    )
    .command('config-check', 'validate the configuration and print the result', withConfig, (a) => {
      try {
        console.log(JSON.stringify(config(a), null, 2));
      } catch (e) {
        fail(e);
      }
    })
    .command('version', 'print the version', {}, () => console.log(`cairn-recorder ${VERSION}`)),
  'cairn-recorder',
  fail,
);
