/**
 * What every Cairn daemon's command line has in common (cairnd, cairn-recorder, cairn-discovery):
 * `--config FILE` with every setting also a flag, loading with warnings, `generate-identity`,
 * the clean stop on signals, and yargs' usage errors. Each program keeps only what is its own.
 */
import type { Argv, CommandModule } from 'yargs';
import { flagsFromArgv, type Loaded, type LoadOptions } from '../config/load.ts';
import type { ConfigOf, Schema } from '../config/schema.ts';
import { ConfigError } from '../config/schema.ts';
import { generateIdentity, IdentityError } from '../identity/certificate.ts';
import type { Logger } from '../log.ts';
import { type ErrorClass, EXIT_COMMON, exitWithError } from './exit.ts';

/**
 * The error exit of a daemon: config errors exit 2, identity errors 4, the program's own classes
 * their codes, anything else 1 (shared/cli/exit.ts).
 */
export function failFor(
  program: string,
  own: readonly (readonly [ErrorClass, number])[] = [],
): (e: unknown, log?: Logger) => never {
  return (e, log) =>
    exitWithError(
      program,
      e,
      [[ConfigError, EXIT_COMMON.config], [IdentityError, EXIT_COMMON.identity], ...own],
      log,
    );
}

/** The `--config FILE` option; other flags (dotted setting names) pass through to the loader. */
export function withConfig(sample: string): (y: Argv) => Argv {
  return (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: `TOML config file (see ${sample})` })
      .strict(false);
}

/** Loads file < env < flags for `schema`, printing the loader's warnings on stderr. */
export function configFromArgv<S extends Schema>(
  program: string,
  schema: S,
  load: (o: LoadOptions) => Loaded<S>,
  argv: Record<string, unknown>,
): ConfigOf<S> {
  const file = typeof argv.config === 'string' ? argv.config : undefined;
  const loaded = load({ ...(file === undefined ? {} : { file }), flags: flagsFromArgv(schema, argv) });
  for (const w of loaded.warnings) console.error(`${program}: warning: ${w}`);
  return loaded.config;
}

/** `COMMAND <dir> [--name N] [--force]`: writes a CURVE key pair (secret 0600), never over one unless --force. */
export function identityCommand(o: {
  command: string;
  describe: string;
  name: string;
  role: string;
  /** Who needs the public key, e.g. "give it to the nodes: their proof.recorders". */
  share: string;
  fail: (e: unknown) => never;
}): CommandModule {
  return {
    command: `${o.command} <dir>`,
    describe: o.describe,
    builder: (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true })
        .option('name', { type: 'string', default: o.name })
        .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing identity' }),
    handler: (a) => {
      try {
        const id = generateIdentity(String(a.dir), String(a.name), {
          force: a.force === true,
          metadata: { role: o.role },
        });
        console.log(`public key: ${id.publicKey}`);
        console.log(`wrote ${id.publicPath} (${o.share})`);
        console.log(`wrote ${id.secretPath} (mode 0600: keep it on this machine)`);
      } catch (e) {
        o.fail(e);
      }
    },
  };
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What holdSignals caught while the program started. */
export interface HeldSignals {
  /** Stops holding; the first signal that arrived meanwhile, if any. */
  release(): string | undefined;
}

/**
 * Holds SIGINT, SIGTERM and SIGHUP while a daemon starts (storage opening, sockets binding, workers
 * spawning), for stopOnSignals to act on once the program can stop cleanly. Without it a signal
 * then took Node's default action, ending the process in the middle of its start-up, and a
 * container's PID 1 ignored it until the runtime's kill. A second signal exits at once (1), and
 * so does a start still not done `graceMs` after the signal.
 */
export function holdSignals(log: Logger, graceMs: number): HeldSignals {
  let first: string | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  const hold = (signal: string) => {
    if (first !== undefined) {
      log.warn(`${signal} again while starting: exiting without a clean stop`);
      process.exit(EXIT_COMMON.failure);
    }
    first = signal;
    log.info({ signal }, `${signal} while starting: stopping once started`);
    // a start that never ends must not keep a stop request waiting for ever
    watchdog = setTimeout(() => {
      log.error(`${signal} while starting: the start did not end within ${graceMs / 1000} s: exiting`);
      process.exit(EXIT_COMMON.failure);
    }, graceMs);
    watchdog.unref();
  };
  for (const s of STOP_SIGNALS) process.on(s, hold);
  return {
    release: () => {
      for (const s of STOP_SIGNALS) process.off(s, hold);
      clearTimeout(watchdog);
      return first;
    },
  };
}

/**
 * SIGINT, SIGTERM and SIGHUP run `stop` once and exit 0; a second signal exits at once (1), and
 * so does a stop that takes longer than `graceMs` (a service manager then sees the failure).
 * A signal `held` while the program started stops it now. Returns the same stop for other
 * reasons (RPC `stop`; a storage failure, with its exit code).
 */
export function stopOnSignals(o: {
  log: Logger;
  graceMs: number;
  stop: () => Promise<void>;
  fail: (e: unknown, log?: Logger) => never;
  held?: HeldSignals;
}): (reason: string, exitCode?: number) => void {
  let stopping = false;
  const stop = async (signal: string, exitCode: number = EXIT_COMMON.ok) => {
    if (stopping) {
      o.log.warn(`${signal} again: exiting without a clean stop`);
      process.exit(EXIT_COMMON.failure);
    }
    stopping = true;
    o.log.info({ signal }, `${signal}: shutting down`);
    const watchdog = setTimeout(() => {
      o.log.error(`clean stop took more than ${o.graceMs / 1000} s: exiting`);
      process.exit(EXIT_COMMON.failure);
    }, o.graceMs);
    watchdog.unref();
    try {
      await o.stop();
    } catch (e) {
      o.fail(e, o.log);
    }
    process.exit(exitCode);
  };
  for (const s of STOP_SIGNALS) process.on(s, () => void stop(s));
  const early = o.held?.release();
  if (early !== undefined) void stop(early);
  return (reason, exitCode) => void stop(reason, exitCode);
}

/** The end of every program's yargs chain: one command required, usage errors exit 64 with a hint. */
export function runCommands(y: Argv, program: string, fail: (e: unknown) => never): Promise<unknown> {
  return y
    .demandCommand(1, `name a command (${program} --help lists them)`)
    .recommendCommands()
    .strictCommands()
    .fail((msg, err) => {
      if (err !== undefined && err !== null) fail(err);
      console.error(`${program}: ${msg}\nrun '${program} --help' for usage`);
      process.exit(EXIT_COMMON.usage);
    })
    .version(false)
    .help()
    .parseAsync();
}
