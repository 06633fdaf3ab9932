/**
 * `cairn watch`: subscribes to the node's feed (ZMQ SUB, Bitcoin Core's format) and prints blocks
 * and transactions as they come; `--json` prints one JSON object per line. A gap in a topic's
 * sequence numbers (messages the subscriber missed) is reported, not hidden.
 */
import type { Argv } from 'yargs';
import { Subscriber } from 'zeromq';
import { decodeBlock } from '../../../shared/core/block/codec.ts';
import { decodeTx } from '../../../shared/core/tx/codec.ts';
import { loadIdentity, loadPublicKey } from '../../../shared/identity/certificate.ts';
import { isZ85Key } from '../../../shared/identity/z85.ts';
import { clientOptions } from '../../../shared/zmq/curve.ts';
import { CliUsageError, FeedError } from '../errors.ts';
import type { Context } from './context.ts';
import type { Runner } from './run.ts';

const TOPICS = ['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence'] as const;
type Topic = (typeof TOPICS)[number];
/** Always subscribed; --topics adds to these. */
const DEFAULT_TOPICS: readonly Topic[] = ['hashblock', 'hashtx'];
/** Largest message accepted from the feed (a raw block is at most 8 MB). */
const MAX_MESSAGE = 16 << 20;

/**
 * The feed's endpoint: --feed, else what the node says it publishes (getzmqnotifications), else
 * the network's default port on 127.0.0.1.
 */
async function endpointOf(ctx: Context, feed: string | undefined): Promise<string> {
  if (feed !== undefined) {
    if (/^(tcp|ipc):\/\//.test(feed)) return feed;
    if (/^[^/]+:\d+$/.test(feed)) return `tcp://${feed}`;
    throw new CliUsageError(`--feed ${feed}: expected HOST:PORT or tcp://HOST:PORT`);
  }
  const fallback = `tcp://127.0.0.1:${ctx.params.ports.feed}`;
  try {
    const n = await ctx.rpc.call<{ type: string; address: string }[]>('getzmqnotifications');
    const hit = n.find((x) => x.type === 'pubhashblock') ?? n[0];
    if (hit === undefined) {
      ctx.out.warn(`the node publishes no feed (feed.listen is empty); trying ${fallback}`);
      return fallback;
    }
    // a node listening on every interface is reached on loopback from here
    return hit.address.replace('tcp://0.0.0.0:', 'tcp://127.0.0.1:').replace('tcp://[::]:', 'tcp://[::1]:');
  } catch (e) {
    ctx.out.warn(`cannot ask the node where its feed is (${(e as Error).message}); trying ${fallback}`);
    return fallback;
  }
}

/** CURVE client options for a feed with an allow-list; none for the plain loopback feed. */
function curveOf(
  secretFile: string | undefined,
  feedKey: string | undefined,
): { options: ReturnType<typeof clientOptions> | object; publicKey?: string } {
  if (secretFile === undefined && feedKey === undefined) return { options: {} };
  if (secretFile === undefined || feedKey === undefined)
    throw new CliUsageError('--curve-secret and --feed-key go together (a CURVE feed needs both)');
  const server = isZ85Key(feedKey) ? feedKey : loadPublicKey(feedKey);
  const me = loadIdentity(secretFile);
  return {
    options: clientOptions({ publicKey: me.publicKey, secretKey: me.secretKey }, server),
    publicKey: me.publicKey,
  };
}

/** `height 12  ` (padded so hashes line up), or nothing when the height is not known. */
function heightText(height: number | undefined): string {
  return height === undefined ? '' : `${`height ${height}`.padEnd(14)}`;
}

/** The topics to subscribe to: hashblock and hashtx always, and those of --topics (comma or space separated). */
export function topicsOf(given: readonly string[]): Topic[] {
  const out = new Set<Topic>(DEFAULT_TOPICS);
  for (const t of given.flatMap((x) => x.split(',')).map((x) => x.trim())) {
    if (t === '') continue;
    if (!TOPICS.includes(t as Topic))
      throw new CliUsageError(`--topics: unknown topic '${t}' (${TOPICS.join(', ')})`);
    out.add(t as Topic);
  }
  return TOPICS.filter((t) => out.has(t));
}

/** What one message says, for humans and for JSON lines (`height` of a hashblock comes from the RPC). */
function describe(
  topic: Topic,
  body: Buffer,
  height?: number,
): { human: string; json: Record<string, unknown> } {
  switch (topic) {
    case 'hashblock':
      return {
        human: `block ${heightText(height)}${body.toString('hex')}`,
        json: { hash: body.toString('hex'), ...(height === undefined ? {} : { height }) },
      };
    case 'hashtx':
      return { human: `tx    ${body.toString('hex')}`, json: { hash: body.toString('hex') } };
    case 'sequence': {
      const hash = body.subarray(0, 32).toString('hex');
      const label = body.subarray(32, 33).toString('latin1');
      const mempool = body.length >= 41 ? body.readBigUInt64LE(33).toString() : undefined;
      return {
        human: `seq   ${label} ${hash}${mempool === undefined ? '' : ` mempool#${mempool}`}`,
        json: { hash, label, ...(mempool === undefined ? {} : { mempoolsequence: Number(mempool) }) },
      };
    }
    case 'rawblock': {
      try {
        const b = decodeBlock(body);
        const hash = Buffer.from(b.hash).reverse().toString('hex');
        const cb = b.txs[0]?.tx;
        const height = cb?.kind === 'coinbase' ? cb.height : undefined;
        return {
          human: `block ${heightText(height)}${hash}  ${b.txs.length} tx, ${body.length} bytes`,
          json: { hash, ...(height === undefined ? {} : { height }), txs: b.txs.length, size: body.length },
        };
      } catch (e) {
        return {
          human: `rawblock that does not decode: ${(e as Error).message}`,
          json: { error: (e as Error).message },
        };
      }
    }
    case 'rawtx': {
      try {
        const d = decodeTx(body);
        const txid = Buffer.from(d.txid).reverse().toString('hex');
        return {
          human: `tx    ${txid} ${d.tx.kind}, ${d.tx.outputs.length} outputs`,
          json: { txid, kind: d.tx.kind, outputs: d.tx.outputs.length, size: body.length },
        };
      } catch (e) {
        return {
          human: `rawtx that does not decode: ${(e as Error).message}`,
          json: { error: (e as Error).message },
        };
      }
    }
  }
}

export function watchCommand(y: Argv): Argv {
  return y
    .option('feed', {
      type: 'string',
      describe: "Feed address HOST:PORT (default: the node's, from getzmqnotifications)",
    })
    .option('topics', {
      type: 'array',
      string: true,
      default: [],
      describe: `Topics to add to hashblock and hashtx (comma or space separated): rawblock, rawtx, sequence`,
    })
    .option('blocks', { type: 'number', describe: 'Exit after this many blocks (whatever the topics)' })
    .option('curve-secret', {
      type: 'string',
      describe:
        "For a CURVE feed (the node's feed.subscribers): your identity's .key_secret file (make one with `cairnd gen-peer-identity DIR --name subscriber`)",
    })
    .option('feed-key', {
      type: 'string',
      describe: "For a CURVE feed: the node's peer public key (Z85), or its peer.key file",
    })
    .check((a) => {
      topicsOf(a.topics as string[]);
      const n = a.blocks;
      if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) > 0))
        throw new Error('--blocks: expected a whole number of blocks, at least 1');
      return true;
    });
}

export const watchHandler = (run: Runner) =>
  run(async (ctx, argv) => {
    const topics = topicsOf(argv.topics as string[]);
    const endpoint = await endpointOf(ctx, argv.feed as string | undefined);
    const stopAfter = argv.blocks as number | undefined;
    const curve = curveOf(argv['curve-secret'] as string | undefined, argv['feed-key'] as string | undefined);
    const sub = new Subscriber({
      maxMessageSize: MAX_MESSAGE,
      receiveHighWaterMark: 100_000,
      ...curve.options,
    });
    // A refused key or a mechanism mismatch is final (the socket would wait silently for ever):
    // say so and stop. Failed CURVE handshakes look like broken connections: warn once.
    let refused: FeedError | undefined;
    const refuse = (e: FeedError) => {
      if (refused !== undefined || sub.closed) return;
      refused = e;
      sub.close();
    };
    sub.events.on('handshake:error:auth', () =>
      refuse(
        new FeedError(
          'feed-key-refused',
          `the feed at ${endpoint} refused our key ${curve.publicKey}: ask the node's operator to add it to feed.subscribers`,
        ),
      ),
    );
    sub.events.on('handshake:error:protocol', () =>
      refuse(
        new FeedError(
          'feed-mechanism',
          curve.publicKey === undefined
            ? `the feed at ${endpoint} speaks CURVE: pass --curve-secret and --feed-key`
            : `the feed at ${endpoint} does not speak CURVE: leave out --curve-secret and --feed-key`,
        ),
      ),
    );
    // on stderr in both modes (stdout carries only the messages): "watching" once the handshake is
    // done, so what is published from then on is seen; losses and reconnections as they happen
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const what = `${endpoint} (${topics.join(', ')})`;
    let handshakes = 0;
    let failedHandshakes = 0;
    sub.events.on('handshake', () => {
      if (handshakes++ === 0) say(`watching ${what}; Ctrl-C to stop`);
      else say(`reconnected to the feed at ${endpoint}`);
    });
    sub.events.on('disconnect', () => {
      if (handshakes > 0 && !sub.closed)
        ctx.out.warn(`lost the feed at ${endpoint}; reconnecting (what it publishes meanwhile is missed)`);
    });
    sub.events.on('handshake:error:other', (ev) => {
      if (handshakes > 0 || ++failedHandshakes !== 3) return;
      ctx.out.warn(
        `no handshake with the feed at ${endpoint} after 3 tries (${ev.error.message})${
          curve.publicKey === undefined ? '' : ": is --feed-key the node's peer public key?"
        }; still trying`,
      );
    });
    const silent = setTimeout(() => {
      if (handshakes === 0 && failedHandshakes === 0 && !sub.closed)
        ctx.out.warn(`no answer from the feed at ${endpoint} yet (is the node up?); still trying`);
    }, 5_000);
    silent.unref();
    sub.connect(endpoint);
    for (const t of topics) sub.subscribe(t);
    say(`connecting to ${what}`);
    let stop = false;
    const onSignal = () => {
      stop = true;
      sub.close();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const last = new Map<string, number>();
    let blocks = 0;
    // the last message the feed sends for a block (feed.ts: sequence C, its txs, hashblock, rawblock)
    const blockEnd: Topic = topics.includes('rawblock') ? 'rawblock' : 'hashblock';
    // a hashblock's height from the node's RPC; given up (with one warning) when the RPC cannot answer
    let askHeight = true;
    const heightOf = async (hashHex: string): Promise<number | undefined> => {
      if (!askHeight) return undefined;
      try {
        return (await ctx.rpc.call<{ height: number }>('getblockheader', [hashHex, true])).height;
      } catch (e) {
        askHeight = false;
        ctx.out.warn(`block heights not shown: the node's RPC did not answer (${(e as Error).message})`);
        return undefined;
      }
    };
    try {
      for await (const frames of sub) {
        if (frames.length !== 3 || frames[2]!.length !== 4) {
          ctx.out.warn(`ignored a message of ${frames.length} frames (not the feed format)`);
          continue;
        }
        const topic = frames[0]!.toString('latin1') as Topic;
        if (!TOPICS.includes(topic)) continue;
        const seq = frames[2]!.readUInt32LE(0);
        const prev = last.get(topic);
        if (prev !== undefined && seq !== (prev + 1) >>> 0) {
          const missed = (seq - prev - 1) >>> 0;
          ctx.out.warn(`${topic}: ${missed} message(s) missed (sequence ${prev} -> ${seq})`);
          if (ctx.args.json) ctx.out.line({ topic, gap: missed, from: prev, to: seq }, '');
        }
        last.set(topic, seq);
        const height = topic === 'hashblock' ? await heightOf(frames[1]!.toString('hex')) : undefined;
        const d = describe(topic, frames[1]!, height);
        ctx.out.line({ topic, seq, ...d.json }, d.human);
        if (topic === blockEnd) blocks++;
        if (stopAfter !== undefined && blocks >= stopAfter) break;
      }
      if (refused !== undefined) throw refused;
    } catch (e) {
      if (refused !== undefined) throw refused;
      if (!stop) throw e;
    } finally {
      clearTimeout(silent);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!sub.closed) sub.close();
    }
  });
