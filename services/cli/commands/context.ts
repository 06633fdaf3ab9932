/**
 * What every command shares: the global flags, the network, the RPC client (made on first use),
 * the output mode, and opening/saving the wallet.
 */
import { join } from 'node:path';
import { NETWORKS } from '../../../shared/core/params/networks.ts';
import type { NetworkName, NetworkParams } from '../../../shared/core/params/types.ts';
import { CliUsageError, RpcClientError, WalletError } from '../errors.ts';
import { Output } from '../output.ts';
import { getPassphrase } from '../passphrase.ts';
import { ProgressBar } from '../progress.ts';
import { defaultDataDir, RpcClient, resolveRpcOptions } from '../rpc-client.ts';
import { Keychain } from '../wallet/keychain.ts';
import { seedOf } from '../wallet/mnemonic.ts';
import { type Built, Wallet } from '../wallet/wallet.ts';
import { type OpenedWallet, openWalletFile, saveWalletFile } from '../wallet/wallet-file.ts';

export interface GlobalArgs {
  network: NetworkName;
  datadir?: string | undefined;
  rpcconnect?: string | undefined;
  rpcport?: number | undefined;
  rpcuser?: string | undefined;
  rpcpassword?: string | undefined;
  rpccookiefile?: string | undefined;
  wallet?: string | undefined;
  'passphrase-file'?: string | undefined;
  'fee-rate'?: number | undefined;
  json: boolean;
}

export class Context {
  readonly out: Output;
  readonly params: NetworkParams;
  #rpc: RpcClient | undefined;

  constructor(readonly args: GlobalArgs) {
    this.out = new Output(args.json);
    this.params = NETWORKS[args.network];
  }

  get walletPath(): string {
    return this.args.wallet ?? join(this.args.datadir ?? defaultDataDir(this.args.network), 'wallet.json');
  }

  get rpc(): RpcClient {
    this.#rpc ??= new RpcClient(resolveRpcOptions(this.args));
    return this.#rpc;
  }

  close(): void {
    this.#rpc?.close();
  }

  /** Opens the wallet (asking for the passphrase) and builds the Wallet over the RPC client. */
  async openWallet(): Promise<OpenedWalletHandle> {
    const file = openWalletFile(this.walletPath, await getPassphrase(this.args['passphrase-file']));
    if (file.network !== this.params.name)
      throw new WalletError(
        'wallet-network',
        `wallet ${file.path} is for network '${file.network}', not '${this.params.name}' (use --network ${file.network})`,
        file.path,
      );
    const keychain = new Keychain(seedOf(file.secrets.mnemonic, file.secrets.bip39Passphrase), this.params);
    const wallet = new Wallet(
      { params: this.params, feeRate: this.args['fee-rate'] },
      { rpc: () => this.rpc, keychain },
      file.secrets.next,
      file.secrets.pending,
    );
    return new OpenedWalletHandle(file, wallet, keychain);
  }

  /**
   * What every spending command does: open the wallet, check the node, build and sign with
   * `build`, save the wallet (its address indexes and pending spends) before anything leaves,
   * send (unless `dryRun`), and wait for `--wait` confirmations.
   */
  async spend<B extends Built>(
    argv: Record<string, unknown>,
    build: (w: Wallet) => Promise<B>,
    opts: { dryRun?: boolean } = {},
  ): Promise<{ built: B; sent: boolean; confirmations: number }> {
    const h = await this.openWallet();
    await h.wallet.checkNode();
    const built = await build(h.wallet);
    h.save();
    const sent = opts.dryRun !== true;
    if (sent) await h.wallet.broadcast(built);
    const confirmations = await this.waitConfirmations(
      built.txid,
      Number(argv.wait),
      Number(argv['wait-timeout']),
    );
    return { built, sent, confirmations };
  }

  /** Polls until `txid` has `n` confirmations, with a progress bar on a terminal. */
  async waitConfirmations(txid: string, n: number, timeoutS: number): Promise<number> {
    if (n <= 0) return 0;
    const bar = new ProgressBar(`waiting for ${n} confirmation${n === 1 ? '' : 's'}`, {
      json: this.args.json,
    });
    const end = Date.now() + timeoutS * 1000;
    try {
      for (;;) {
        let conf = 0;
        try {
          const t = await this.rpc.call<{ confirmations?: number }>('getrawtransaction', [txid, true]);
          conf = t.confirmations ?? 0;
        } catch (e) {
          if (!(e instanceof RpcClientError && e.code === 'rpc-error')) throw e;
          throw new RpcClientError('rpc-error', `transaction ${txid} left the mempool without being mined`);
        }
        bar.update(Math.min(conf, n), n, txid.slice(0, 16));
        if (conf >= n) return conf;
        if (Date.now() > end)
          throw new CliUsageError(
            `gave up waiting after ${timeoutS} s: ${txid} has ${conf} of ${n} confirmations`,
          );
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      bar.finish();
    }
  }
}

/** An opened wallet: save() writes back the address indexes the command advanced. */
export class OpenedWalletHandle {
  constructor(
    public file: OpenedWallet,
    readonly wallet: Wallet,
    readonly keychain: Keychain,
  ) {}

  /** Saves only when something moved (a read-only command never rewrites the file). */
  save(): void {
    const { receive, change } = this.wallet.next;
    const s = this.file.secrets;
    const pending = this.wallet.pending;
    if (
      receive === s.next.receive &&
      change === s.next.change &&
      JSON.stringify(pending) === JSON.stringify(s.pending ?? [])
    )
      return;
    const { pending: _old, ...rest } = s;
    this.file = saveWalletFile(this.file, {
      ...rest,
      next: { receive, change },
      ...(pending.length === 0 ? {} : { pending }),
    });
  }
}
