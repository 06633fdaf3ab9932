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
import { CliUsageError } from '../errors.ts';
import type { Context } from './context.ts';
import type { Runner } from './run.ts';

const TOPICS = ['hashblock', 'hashtx', 'rawblock', 'rawtx', 'sequence'] as const;
type Topic = (typeof TOPICS)[number];
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
): ReturnType<typeof clientOptions> | object {
  if (secretFile === undefined && feedKey === undefined) return {};
  if (secretFile === undefined || feedKey === undefined)
    throw new CliUsageError('--curve-secret and --feed-key go together (a CURVE feed needs both)');
  const server = isZ85Key(feedKey) ? feedKey : loadPublicKey(feedKey);
  const me = loadIdentity(secretFile);
  return clientOptions({ publicKey: me.publicKey, secretKey: me.secretKey }, server);
}

/** What one message says, for humans and for JSON lines. */
function describe(topic: Topic, body: Buffer): { human: string; json: Record<string, unknown> } {
  switch (topic) {
    case 'hashblock':
      return { human: `block ${body.toString('hex')}`, json: { hash: body.toString('hex') } };
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
        return {
          human: `block ${hash} ${b.txs.length} tx, ${body.length} bytes`,
          json: { hash, txs: b.txs.length, size: body.length },
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
      default: ['hashblock', 'hashtx'],
      describe: `Topics: ${TOPICS.join(', ')}`,
    })
    .option('blocks', { type: 'number', describe: 'Exit after this many blocks' })
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
      for (const t of a.topics as string[])
        if (!TOPICS.includes(t as Topic))
          throw new Error(`--topics: unknown topic '${t}' (${TOPICS.join(', ')})`);
      return true;
    });
}

export const watchHandler = (run: Runner) =>
  run(async (ctx, argv) => {
    const endpoint = await endpointOf(ctx, argv.feed as string | undefined);
    const topics = argv.topics as Topic[];
    const stopAfter = argv.blocks as number | undefined;
    const sub = new Subscriber({
      maxMessageSize: MAX_MESSAGE,
      receiveHighWaterMark: 100_000,
      ...curveOf(argv['curve-secret'] as string | undefined, argv['feed-key'] as string | undefined),
    });
    sub.connect(endpoint);
    for (const t of topics) sub.subscribe(t);
    // on stderr in both modes: stdout carries only the messages
    process.stderr.write(`watching ${endpoint} (${topics.join(', ')}); Ctrl-C to stop\n`);
    let stop = false;
    const onSignal = () => {
      stop = true;
      sub.close();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const last = new Map<string, number>();
    let blocks = 0;
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
        const d = describe(topic, frames[1]!);
        ctx.out.line({ topic, seq, ...d.json }, `${d.human}  (#${seq})`);
        if (topic === (topics.includes('hashblock') ? 'hashblock' : 'rawblock')) blocks++;
        if (stopAfter !== undefined && blocks >= stopAfter) break;
      }
    } catch (e) {
      if (!stop) throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!sub.closed) sub.close();
    }
  });
