/**
 * Mempool acceptance by RPC as the benches measure it (bench/rpc.ts, bench/vs-bcoin.ts), the same
 * for cairnd and bcoin:
 * - every `sendrawtransaction` request (headers and body) is encoded before the clock starts and
 *   sent over `lanes` keep-alive connections by a minimal HTTP/1.1 client (pre-built bytes out,
 *   Content-Length framing in, one request in flight per connection): the clients share the
 *   machine's cores with the node, so they should cost it as little as possible;
 * - what they still cost is measured: CPU of this process (the clients) per transaction, beside the
 *   node's (its whole process tree, and its main thread) from /proc over the same span.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { JsonRpcTarget } from './rpc-client.ts';
import { ProcessWatch, ticksPerSecond } from './sync-profile.ts';

const HEADER_END = Buffer.from('\r\n\r\n');

/** One complete HTTP request for one JSON-RPC call: built once, sent as is. */
export function encodeRpcRequest(target: JsonRpcTarget, method: string, params: unknown[]): Buffer {
  const body = Buffer.from(
    JSON.stringify(
      target.version === '2.0' ? { jsonrpc: '2.0', id: 1, method, params } : { method, params, id: 1 },
    ),
  );
  const head =
    'POST / HTTP/1.1\r\n' +
    `Host: 127.0.0.1:${target.port}\r\n` +
    `Authorization: Basic ${Buffer.from(target.credentials).toString('base64')}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A keep-alive connection sending one request at a time and reading its Content-Length-framed answer. */
class Lane {
  #buf: Buffer = Buffer.alloc(0);
  #waiting:
    | { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void }
    | undefined;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#parse();
    });
    const fail = (e: Error) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('rpc connection closed by the server')));
  }

  static open(port: number): Promise<Lane> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new Lane(s));
      });
      s.once('error', reject);
    });
  }

  send(request: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  #parse(): void {
    const end = this.#buf.indexOf(HEADER_END);
    if (end < 0 || this.#waiting === undefined) return;
    const head = this.#buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const length = m === null ? 0 : Number(m[1]);
    if (m === null && status !== 204 && status !== 304) {
      this.#waiting.reject(new Error(`rpc answer without Content-Length: ${head.split('\r\n')[0]}`));
      this.#waiting = undefined;
      return;
    }
    if (this.#buf.length < end + 4 + length) return;
    const body = this.#buf.subarray(end + 4, end + 4 + length);
    this.#buf = this.#buf.subarray(end + 4 + length);
    const w = this.#waiting;
    this.#waiting = undefined;
    w.resolve({ status, body });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * CPU ticks of a process's threads by `name:tid` (the name from /proc/PID/task/TID/comm; Node's
 * main thread, worker threads, V8's and libuv's all say "node": the tid tells them apart, the main
 * thread's tid is the pid).
 */
export function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = `${Number(tid) === pid ? 'main' : name}:${tid}`;
      out.set(key, Number(f[11]) + Number(f[12]));
      // the kernel's part (system calls: socket writes, waking threads) apart
      out.set(`${key} (sys)`, Number(f[12]));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

export interface SubmitFigures {
  /** transactions over the wall time from the first request to `settled` resolving */
  rate: number;
  seconds: number;
  /** CPU of the node's process tree (utime + stime) per transaction over that span, µs */
  nodeCpuUs: number;
  /** the same, of the node's main thread alone */
  nodeMainCpuUs: number;
  /** CPU of this process (the clients) per transaction, µs */
  clientCpuUs: number;
  /** the node's CPU per transaction by thread (`name:tid`; main thread, workers, libuv, ZeroMQ, GC), µs */
  threads: Map<string, number>;
}

/**
 * Sends `requests` (from encodeRpcRequest) over `lanes` connections, each taking the next as soon
 * as its previous is answered; an error answer throws. Then awaits `settled` (bcoin answers before
 * its mempool has checked the transaction: the caller polls getmempoolinfo). `pid`: the node.
 */
export async function submitRound(o: {
  target: JsonRpcTarget;
  requests: readonly Buffer[];
  lanes: number;
  pid: number;
  settled: () => Promise<void>;
}): Promise<SubmitFigures> {
  const lanes = await Promise.all(Array.from({ length: o.lanes }, () => Lane.open(o.target.port)));
  // sampled at the start and the end only: sampling costs this process CPU too
  const watch = new ProcessWatch(o.pid, 3_600_000);
  try {
    const threads0 = threadTicks(o.pid);
    const node0 = watch.cpuSeconds();
    const main0 = watch.mainThreadCpuSeconds();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        for (let i = next++; i < o.requests.length; i = next++) {
          const { status, body } = await lane.send(o.requests[i]!);
          const j = JSON.parse(body.toString()) as { error?: { message?: string } | null };
          if (status !== 200 || (j.error !== undefined && j.error !== null))
            throw new Error(`sendrawtransaction #${i}: HTTP ${status} ${j.error?.message ?? ''}`);
        }
      }),
    );
    await o.settled();
    const seconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(client0);
    const n = o.requests.length;
    const threads = new Map<string, number>();
    for (const [name, t] of threadTicks(o.pid)) {
      const us = ((t - (threads0.get(name) ?? 0)) / ticksPerSecond()) * (1e6 / n);
      if (us > 0) threads.set(name, us);
    }
    return {
      threads,
      rate: n / seconds,
      seconds,
      nodeCpuUs: ((watch.cpuSeconds() - node0) / n) * 1e6,
      nodeMainCpuUs: ((watch.mainThreadCpuSeconds() - main0) / n) * 1e6,
      clientCpuUs: (client.user + client.system) / n,
    };
  } finally {
    watch.stop();
    for (const l of lanes) l.close();
  }
}
