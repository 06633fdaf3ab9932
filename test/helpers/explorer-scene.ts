/**
 * A real chain for the explorer's browser tests and screenshots: a cairnd on `local` with a
 * cairn-recorder mining for it, and a user's story through the `cairn` CLI only (two wallets, a
 * payment, an asset registered with metadata, bitmarks issued, one transferred to the second
 * wallet, another split into 1000 shares and 250 of them granted to the second wallet), plus one
 * payment left waiting in the mempool.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cairnArgv,
  eventually,
  makeNode,
  makeRecorder,
  makeRecorderIdentity,
  type NodeProcess,
} from './cluster.ts';
import { tempDir } from './node.ts';

export interface SceneIds {
  /** Wallet 1's first address: it mined, registered and issued. */
  address: string;
  /** Wallet 2's address that received the bitmark. */
  receiver: string;
  assetId: string;
  assetName: string;
  registerTxid: string;
  issueTxid: string;
  bitmarks: string[];
  /** The bitmark moved to `receiver` by `transferTxid`. */
  bitmark: string;
  transferTxid: string;
  paymentTxid: string;
  /** Split into 1000 shares by `splitTxid`; 250 of them granted to `receiver` by `grantTxid`. */
  sharedBitmark: string;
  splitTxid: string;
  grantTxid: string;
  /** Left unconfirmed. */
  pendingTxid: string;
}

export interface Scene {
  readonly node: NodeProcess;
  readonly recorder: NodeProcess;
  readonly url: string;
  readonly ids: SceneIds;
  /** Runs `cairn ARGS --json` against the node; rejects on a non-zero exit. */
  cairn<T = Record<string, unknown>>(args: string[], env?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

/** Builds the scene. `recorderCpu`: the recorder's cpu_percent (how fast blocks come). */
export async function explorerScene(opts: { recorderCpu?: number } = {}): Promise<Scene> {
  const root = tempDir('cairn-explorer-');
  const children: ChildProcess[] = [];
  const recorderId = makeRecorderIdentity(root.path, 'rec');
  const node = await makeNode({ name: 'n', root: root.path, recorders: [recorderId.publicKey] });
  let recorder: NodeProcess | undefined;
  const stop = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await recorder?.kill();
    await node.kill();
    root.remove();
  };
  try {
    await node.start();
    const cairn = async <T>(args: string[], env: Record<string, string> = {}): Promise<T> => {
      const proc = spawn(process.execPath, cairnArgv(node, [...args, '--json']), {
        stdio: ['ignore', 'pipe', 'pipe'],
        // TEST ONLY: a cheap scrypt for the wallet opens
        env: { ...process.env, CAIRN_WALLET_TEST_SCRYPT_N: '1024', ...env },
      });
      children.push(proc);
      let stdout = '';
      let stderr = '';
      proc.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      proc.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
      if (code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${code}: ${stderr}${stdout}`);
      return JSON.parse(stdout) as T;
    };

    const pp = join(root.path, 'pp');
    writeFileSync(pp, 'explorer scene passphrase\n', { mode: 0o600 });
    const w1 = ['--wallet', join(root.path, 'w1.json'), '--passphrase-file', pp];
    const w2 = ['--wallet', join(root.path, 'w2.json'), '--passphrase-file', pp];
    const address = (await cairn<{ firstaddress: string }>([...w1, 'wallet', 'create', '--words', '12']))
      .firstaddress;
    const receiver = (await cairn<{ firstaddress: string }>([...w2, 'wallet', 'create', '--words', '12']))
      .firstaddress;

    // the recorder earns blocks to wallet 2 while the story goes on
    recorder = makeRecorder({
      name: 'rec',
      root: root.path,
      payout: receiver,
      nodes: [{ node, network: 'local' }],
      cpuPercent: opts.recorderCpu ?? 20,
    });
    await recorder.start();
    const height = async () => cairn<number>(['rpc', 'getblockcount']);
    await eventually('the recorder mined a block', async () => (await height()) >= 1, 60_000);

    const mine = (n: number) => cairn<string[]>(['rpc', 'generatetoaddress', String(n), address]);
    await mine(12); // coinbase maturity on local: 10
    const payment = await cairn<{ txid: string }>([...w1, 'wallet', 'send', receiver, '2.5']);
    const file = join(root.path, 'sunset.jpg');
    writeFileSync(file, 'not really a photo, but bytes all the same');
    const assetName = 'Sunset over the harbour';
    const reg = await cairn<{ assetid: string; txid: string }>([
      ...w1,
      'asset',
      'register',
      '--name',
      assetName,
      '--file',
      file,
      '--metadata',
      'photographer: Alice Example\nlicence: CC BY 4.0\nshot: 2024-06-01, Lisbon',
    ]);
    await mine(1);
    const iss = await cairn<{ txid: string; bitmarks: string[] }>([
      ...w1,
      'bitmark',
      'issue',
      reg.assetid,
      '--count',
      '3',
    ]);
    await mine(1);
    const bitmark = iss.bitmarks[0]!;
    const t1 = await cairn<{ txid: string }>([...w1, 'bitmark', 'transfer', bitmark, receiver]);
    await mine(1);
    const sharedBitmark = iss.bitmarks[1]!;
    const split = await cairn<{ txid: string }>([...w1, 'share', 'split', sharedBitmark, '1000']);
    await mine(1);
    const grant = await cairn<{ txid: string }>([...w1, 'share', 'grant', sharedBitmark, '250', receiver]);
    await mine(1);
    const pending = await cairn<{ txid: string }>([...w1, 'wallet', 'send', receiver, '0.75']);
    return {
      node,
      recorder,
      url: `http://127.0.0.1:${node.rpcPort}`,
      ids: {
        address,
        receiver,
        assetId: reg.assetid,
        assetName,
        registerTxid: reg.txid,
        issueTxid: iss.txid,
        bitmarks: iss.bitmarks,
        bitmark,
        transferTxid: t1.txid,
        paymentTxid: payment.txid,
        sharedBitmark,
        splitTxid: split.txid,
        grantTxid: grant.txid,
        pendingTxid: pending.txid,
      },
      cairn,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
