#!/usr/bin/env node
/**
 * cairn-discovery: the peer registry nodes bootstrap from (the role of a DNS seed / bootstrap node).
 * `cairn-discovery --help`, `cairn-discovery COMMAND --help`.
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
  DISCOVERY_SCHEMA,
  type DiscoveryConfig,
  discoveryAllowList,
  discoveryIdentityPaths,
  discoveryStatePath,
  loadDiscoveryConfig,
} from '../../shared/config/discovery-config.ts';
import { NETWORKS } from '../../shared/core/params/networks.ts';
import { IdentityError, loadIdentity } from '../../shared/identity/certificate.ts';
import { createLogger, type Logger, type LogLevel } from '../../shared/log.ts';
import { VERSION } from '../../shared/version.ts';
import { ZapHandler } from '../../shared/zmq/zap.ts';
import { DiscoveryService } from './discovery.ts';

const fail: (e: unknown, log?: Logger) => never = failFor('cairn-discovery');

const config = (argv: Record<string, unknown>): DiscoveryConfig =>
  configFromArgv('cairn-discovery', DISCOVERY_SCHEMA, loadDiscoveryConfig, argv);

const withConfig = withConfigOption('config/cairn-discovery.sample.toml');

async function start(argv: Record<string, unknown>): Promise<void> {
  let c: DiscoveryConfig;
  try {
    c = config(argv);
  } catch (e) {
    fail(e);
  }
  const log = createLogger({ level: c.log.level as LogLevel, name: 'cairn-discovery' });
  const held = holdSignals(log, 10_000);
  const zap = new ZapHandler({ logger: log.child({ module: 'zap' }) });
  let service: DiscoveryService;
  try {
    const identity = loadIdentity(discoveryIdentityPaths(c).secretPath);
    const allow = discoveryAllowList(c);
    // the ZAP handler runs before any server socket: without it libzmq admits every CURVE key
    await zap.start();
    service = new DiscoveryService(
      {
        params: NETWORKS[c.network],
        listen: [...c.listen],
        eventsListen: [...c.events_listen],
        statePath: discoveryStatePath(c),
        expirySeconds: c.expiry_seconds,
        maxEntries: c.max_entries,
        registerPerMinute: c.register_per_minute,
        requestsPerSecond: c.requests_per_second,
        allowPrivate: c.allow_private,
        ...(allow === null ? {} : { allow }),
      },
      { identity, zap, logger: log.child({ module: 'discovery' }) },
    );
    await service.start();
    log.info(
      { network: c.network, key: identity.publicKey, listen: c.listen, events: c.events_listen },
      `cairn-discovery ${VERSION} started on ${c.network}: requests on ${c.listen.join(', ')}, events on ${c.events_listen.join(', ') || '(none)'}, key ${identity.publicKey}`,
    );
  } catch (e) {
    await zap.stop().catch(() => undefined);
    if (e instanceof IdentityError && e.code === 'identity-not-found')
      log.error(
        `create the service identity first: cairn-discovery generate-identity ${c.identity.dir}` +
          (c.identity.name === 'discovery' ? '' : ` --name ${c.identity.name}`),
      );
    fail(e, log);
  }
  stopOnSignals({
    held,
    log,
    graceMs: 10_000,
    stop: async () => {
      await service.stop();
      await zap.stop();
      log.info('stopped');
    },
    fail,
  });
}

await runCommands(
  yargs(hideBin(process.argv))
    .scriptName('cairn-discovery')
    .usage(
      '$0 COMMAND [options]\n\nThe Cairn peer discovery service: nodes register where they can be reached and ask for peers.',
    )
    .command('start', 'serve (stops cleanly on SIGINT/SIGTERM, saving the registry)', withConfig, (a) =>
      start(a),
    )
    .command(
      identityCommand({
        command: 'generate-identity',
        describe: 'create the service’s identity (CURVE key pair) in DIR',
        name: 'discovery',
        role: 'discovery',
        share: 'give the key to the nodes: their [[discovery.servers]] key',
        fail,
      }),
    )
    .command('config-check', 'validate the configuration and print the result', withConfig, (a) => {
      try {
        const c = config(a);
        discoveryAllowList(c);
        console.log(JSON.stringify(c, null, 2));
      } catch (e) {
        fail(e);
      }
    })
    .command('version', 'print the version', {}, () => console.log(`cairn-discovery ${VERSION}`)),
  'cairn-discovery',
  fail,
);
