/** Test helpers for the RPC server: a real server on 127.0.0.1 (free port) and a small HTTP client. */
import { readFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { afterEach } from 'node:test';
import { MethodRegistry, RPC, RpcError } from '../../../services/node/rpc/method.ts';
import { RpcServer, type RpcServerOptions } from '../../../services/node/rpc/server.ts';
import { silentLogger } from '../../../shared/log.ts';
import { tempDir } from '../../helpers/node.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function http(
  url: string,
  opts: {
    method?: string;
    body?: string | Buffer;
    auth?: string;
    headers?: Record<string, string>;
    agent?: Agent;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    if (opts.auth !== undefined) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const req = request(
      url,
      { method: opts.method ?? 'POST', headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A registry with a few methods that exercise each path. */
export function testRegistry(): MethodRegistry {
  const r = new MethodRegistry();
  r.add(
    {
      name: 'echo',
      help: 'echo a value',
      params: [{ name: 'value', type: 'any' }],
      run: (a) => a.value,
    },
    {
      name: 'subtract',
      help: 'a - b',
      params: [
        { name: 'minuend', type: 'integer' },
        { name: 'subtrahend', type: 'integer' },
      ],
      run: (a) => (a.minuend as number) - (a.subtrahend as number),
    },
    {
      name: 'getblockhash',
      help: 'hash at height',
      params: [{ name: 'height', type: 'integer', min: 0 }],
      run: (a) => `${'0'.repeat(60)}${String(a.height).padStart(4, '0')}`,
    },
    {
      name: 'notfound',
      help: 'always -5',
      params: [],
      run: () => {
        throw new RpcError(RPC.INVALID_ADDRESS, 'Block not found', { hint: 'x' });
      },
    },
    {
      name: 'crash',
      help: 'throws a plain error',
      params: [],
      run: async () => {
        throw new Error('secret path /home/x/.cairn leaked?');
      },
    },
    {
      name: 'big',
      help: 'returns a bigint',
      params: [],
      run: () => ({ amount: 123456789012345678901234567890n }),
    },
    {
      name: 'whoami',
      help: 'the context',
      params: [],
      run: (_a, ctx) => ({ user: ctx.user, ip: ctx.ip }),
    },
    {
      name: 'nothing',
      help: 'returns undefined',
      params: [],
      run: () => undefined,
    },
  );
  return r;
}

export interface Running {
  server: RpcServer;
  url: string;
  dataDir: string;
  cookie: string;
  close(): Promise<void>;
}

export async function startServer(opts: Partial<RpcServerOptions> = {}): Promise<Running> {
  const dir = tempDir('cairn-rpc-');
  const server = new RpcServer(
    { listen: ['127.0.0.1:0'], dataDir: dir.path, authFailDelayMs: 20, ...opts },
    { registry: testRegistry(), logger: silentLogger() },
  );
  await server.start();
  const cookie = server.cookiePath === undefined ? '' : readFileSync(server.cookiePath, 'utf8');
  return {
    server,
    url: `http://${server.addresses()[0]}/`,
    dataDir: dir.path,
    cookie,
    close: async () => {
      await server.stop();
      dir.remove();
    },
  };
}

/**
 * For a test file: `started()` starts a server that is closed after the test; `cleanups` takes
 * more to undo after each test (run last first).
 */
export function serverPerTest(): {
  started: (opts?: Partial<RpcServerOptions>) => Promise<Running>;
  cleanups: (() => Promise<void> | void)[];
} {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  return {
    cleanups,
    started: async (opts = {}) => {
      const s = await startServer(opts);
      cleanups.push(() => s.close());
      return s;
    },
  };
}
