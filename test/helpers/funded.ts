/**
 * A key with spendable coins on a running test node: `count` coinbases mined to it (plus the
 * maturity), and `pay` to build a signed one-input transfer of one of them back to the key.
 */
import { encodeAddress } from '../../shared/core/address.ts';
import { hashFromHex } from '../../shared/core/bytes.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../shared/core/tx/types.ts';
import { makeKey, out, signed, spend, type TestKey } from './chain.ts';
import type { NodeProcess } from './cluster.ts';
import { rpcResult } from './rpc.ts';

export interface Coinbase {
  readonly txid: Uint8Array;
  readonly value: number;
}

export interface FundedKey {
  readonly key: TestKey;
  /** The mature coinbases, oldest first. */
  readonly coins: Coinbase[];
  /** A transfer of `coin` (its whole value less `fee`) back to the key. */
  pay(coin: Coinbase, fee: number): DecodedTx;
}

export async function fundKey(node: NodeProcess, count: number): Promise<FundedKey> {
  const key = makeKey();
  const addr = encodeAddress(LOCAL.addressPrefix, key.owner);
  const mined = await rpcResult<string[]>(node, 'generatetoaddress', [LOCAL.coinbaseMaturity + count, addr]);
  const coins: Coinbase[] = [];
  for (const h of mined.slice(0, count)) {
    const b = await rpcResult<{ tx: { txid: string; vout: { value: number }[] }[] }>(node, 'getblock', [
      h,
      2,
    ]);
    coins.push({ txid: hashFromHex(b.tx[0]!.txid)!, value: b.tx[0]!.vout[0]!.value });
  }
  const pay = (c: Coinbase, fee: number): DecodedTx =>
    signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(key, c.txid, 0)],
      outputs: [out(key.owner, c.value - fee)],
    });
  return { key, coins, pay };
}
