/**
 * A steady transaction load. The recorders pay a key the sim holds; once their coinbases mature,
 * each is split into `LANES_PER_COINBASE` outputs to a second key, and every such output becomes a
 * lane: a chain of transfers, each spending the lane's last output, paying it back (less a fee)
 * plus `outputs − 1` small outputs that only make the transaction bigger (the block-size knob).
 * A lane stays on the node its coinbase split went to (its parent is there already, no orphans)
 * and moves only when that node stops. Lanes are taken round robin, so each one is a short unconfirmed chain at most.
 */
import { encodeAddress, ownerOf } from '../../shared/core/address.ts';
import { hashFromHex, hashToHex, toHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { toDecodedTx } from '../../shared/core/tx/codec.ts';
import { NO_BITMARK, TX_VERSION } from '../../shared/core/tx/types.ts';
import { generatePrivateKey, publicKeyOf } from '../../shared/crypto/keys.ts';
import { type InputToSign, signTx } from '../../shared/crypto/sign-tx.ts';
import { now } from './collect.ts';

const LANES_PER_COINBASE = 50;
const DUST = 1000;

export interface LoadOptions {
  /** Transactions per second to send. */
  readonly rate: number;
  /** Outputs per transaction (1 = a plain transfer; more = a bigger transaction). */
  readonly outputs: number;
  /** Nodes up now (lanes are spread over them). */
  readonly nodes: () => readonly string[];
  /** A node that stays up, read for mature coinbases. */
  readonly home: string;
  readonly call: <T>(node: string, method: string, params?: unknown[]) => Promise<T | undefined>;
  readonly rpcError: <T>(
    node: string,
    method: string,
    params: unknown[],
  ) => Promise<{ ok: T } | { err: string }>;
}

interface Lane {
  txid: Uint8Array;
  vout: number;
  amount: number;
  node: string;
}

interface Key {
  readonly privateKey: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly owner: Uint8Array;
}

function makeKey(): Key {
  const privateKey = generatePrivateKey();
  const pubkey = publicKeyOf(privateKey);
  return { privateKey, pubkey, owner: ownerOf(pubkey) };
}

export function keyAddress(k: Key): string {
  return encodeAddress(LOCAL.addressPrefix, k.owner);
}

export class Load {
  /** The recorders' payout: coinbases only. */
  readonly miner = makeKey();
  readonly #spender = makeKey();
  readonly #lanes: Lane[] = [];
  readonly #usedCoinbases = new Set<string>();
  /**
   * Splits not yet in a block: their lanes wait, because every spend of a lane is a descendant of
   * the split and the mempool allows 25 descendants (the 26th spend would be refused).
   */
  readonly #pending: { txid: string; node: string; lanes: Lane[] }[] = [];
  #fundTimer: NodeJS.Timeout | undefined;
  /** txid (display hex) → when it was sent (ms). */
  readonly submitted = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  sendErrors = 0;
  skippedTicks = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #funding = false;
  #stopped = false;

  constructor(readonly o: LoadOptions) {}

  /** Lanes ready to send (0 until the first splits are in a block). */
  get lanes(): number {
    return this.#lanes.length;
  }

  /** Serialized size of one load transaction (the rate for a block size is computed from it). */
  txBytes(): number {
    return this.#build({ txid: new Uint8Array(32), vout: 0, amount: 25e8, node: '' }).raw.length;
  }

  #build(l: Lane): { raw: Uint8Array; txid: Uint8Array; amount: number } {
    const input: InputToSign = {
      prevTxid: l.txid,
      vout: l.vout,
      pubkey: this.#spender.pubkey,
      privateKey: this.#spender.privateKey,
    };
    const extra = this.o.outputs - 1;
    // ~150 bytes + ~33 per output at 3 units/byte: above the 1/byte relay floor with room
    const fee = 3 * (150 + 33 * this.o.outputs);
    const amount = l.amount - fee - extra * DUST;
    const outs = [{ owner: this.#spender.owner, amount, bitmark: NO_BITMARK }];
    for (let i = 0; i < extra; i++)
      outs.push({ owner: this.#spender.owner, amount: DUST, bitmark: NO_BITMARK });
    const tx = toDecodedTx(
      signTx({ version: TX_VERSION, kind: 'transfer', inputs: [input], outputs: outs }, LOCAL.genesisHash),
    );
    return { raw: tx.raw, txid: tx.txid, amount };
  }

  start(): void {
    const period = 1000 / this.o.rate;
    let next = now();
    const tick = () => {
      if (this.#stopped) return;
      // catch up after a late timer, but never in a burst of more than a second's worth
      const t = now();
      if (t - next > 1000) next = t - 1000;
      while (next <= t) {
        next += period;
        this.#send();
      }
      this.#timer = setTimeout(tick, Math.max(1, next - now()));
    };
    void this.#fund();
    // each block matures one more coinbase and may confirm the splits waiting
    this.#fundTimer = setInterval(() => void this.#fund(), 2000);
    tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#fundTimer) clearInterval(this.#fundTimer);
  }

  /** Lanes of splits that left the mempool (confirmed) join the rotation. */
  async #release(): Promise<void> {
    for (const p of [...this.#pending]) {
      const r = await this.o.rpcError<unknown>(p.node, 'getmempoolentry', [p.txid]);
      if ('ok' in r || !/not in (the )?mempool|-5/i.test(r.err)) continue;
      this.#pending.splice(this.#pending.indexOf(p), 1);
      this.#lanes.push(...p.lanes);
    }
  }

  /** Splits every newly mature coinbase into lanes. */
  async #fund(): Promise<void> {
    if (this.#funding || this.#stopped) return;
    this.#funding = true;
    try {
      await this.#release();
      const utxos = await this.o.call<
        { txid: string; vout: number; amount: number; confirmations: number; coinbase: boolean }[]
      >(this.o.home, 'listunspent', [keyAddress(this.miner), 1000]);
      for (const u of utxos ?? []) {
        const id = `${u.txid}:${u.vout}`;
        // two blocks beyond maturity: a coinbase a short reorg takes back is not spent yet
        if (!u.coinbase || u.confirmations < LOCAL.coinbaseMaturity + 2 || this.#usedCoinbases.has(id))
          continue;
        this.#usedCoinbases.add(id);
        const share = Math.floor((u.amount - 10_000) / LANES_PER_COINBASE);
        const tx = toDecodedTx(
          signTx(
            {
              version: TX_VERSION,
              kind: 'transfer',
              inputs: [
                {
                  prevTxid: hashFromHex(u.txid)!,
                  vout: u.vout,
                  pubkey: this.miner.pubkey,
                  privateKey: this.miner.privateKey,
                },
              ],
              outputs: Array.from({ length: LANES_PER_COINBASE }, () => ({
                owner: this.#spender.owner,
                amount: share,
                bitmark: NO_BITMARK,
              })),
            },
            LOCAL.genesisHash,
          ),
        );
        // the split goes to a random node, and its lanes stay there: their first spends find the
        // parent in that node's mempool (elsewhere they would wait in an orphan pool)
        const up = this.o.nodes();
        const at = up[Math.floor(Math.random() * up.length)] ?? this.o.home;
        const r = await this.o.rpcError<string>(at, 'sendrawtransaction', [toHex(tx.raw)]);
        if ('err' in r) {
          this.#reject(`fund: ${r.err}`);
          continue;
        }
        for (let i = 0; i < LANES_PER_COINBASE; i++)
          this.#lanes.push({ txid: tx.txid, vout: i, amount: share, node: at });
        // without more lanes than one block's worth of sends, chains would grow past the ancestor limit
        if (this.#lanes.length + this.#pending.length * LANES_PER_COINBASE >= this.o.rate * 8) break;
      }
    } finally {
      this.#funding = false;
    }
  }

  #reject(why: string): void {
    const k = why.replace(/[0-9a-f]{64}/g, '…').slice(0, 120);
    this.rejected.set(k, (this.rejected.get(k) ?? 0) + 1);
  }

  #send(): void {
    const lane = this.#lanes.shift();
    if (lane === undefined || this.#inFlight > 200) {
      if (lane) this.#lanes.unshift(lane);
      this.skippedTicks++;
      return;
    }
    if (lane.amount < 100_000 + this.o.outputs * DUST * 2) return; // spent down: drop the lane
    const up = this.o.nodes();
    if (!up.includes(lane.node) && up.length > 0) lane.node = up[Math.floor(Math.random() * up.length)]!;
    const tx = this.#build(lane);
    const hex = hashToHex(tx.txid);
    this.#inFlight++;
    const t = now();
    void this.o.rpcError<string>(lane.node, 'sendrawtransaction', [toHex(tx.raw)]).then((r) => {
      this.#inFlight--;
      // held in the orphan pool (the lane moved off a stopped node before its parent spread):
      // accepted, valid once the parent arrives; the time it waits is part of its propagation
      if ('ok' in r || /orphan pool/.test(r.err)) {
        this.submitted.set(hex, t);
        this.#lanes.push({ txid: tx.txid, vout: 0, amount: tx.amount, node: lane.node });
      } else if (
        /ECONNREFUSED|ECONNRESET|refused|cannot reach|timed? ?out|socket|cookie|EHOSTUNREACH/i.test(r.err)
      ) {
        this.sendErrors++;
        this.#lanes.push(lane); // the node went away: same output, another node next time
      } else if (/too-long-mempool-chain/.test(r.err)) {
        this.#reject(r.err);
        setTimeout(() => this.#lanes.push(lane), 5000); // its chain is long: rest until a block
      } else {
        this.#reject(r.err); // the lane's chain is broken (a reorg, a conflict): drop it
      }
    });
  }
}
