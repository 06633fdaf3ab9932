/** Helpers shared by the RPC method modules: parsing hashes and addresses into RpcErrors. */
import { decodeAddress } from '../../../../shared/core/address.ts';
import { fromHex, hashFromHex } from '../../../../shared/core/bytes.ts';
import { DecodeError } from '../../../../shared/core/errors.ts';
import type { NetworkParams } from '../../../../shared/core/params/types.ts';
import { RPC, RpcError } from '../method.ts';

export function hashArg(name: string, v: unknown): Uint8Array {
  const h = typeof v === 'string' ? hashFromHex(v) : null;
  if (h === null) throw new RpcError(RPC.INVALID_PARAMETER, `${name}: expected a 64-character hex hash`);
  return h;
}

export function hexArg(name: string, v: unknown): Uint8Array {
  const b = typeof v === 'string' ? fromHex(v) : null;
  if (b === null) throw new RpcError(RPC.INVALID_PARAMETER, `${name}: expected hex`);
  return b;
}

/**
 * Hex that must decode as `what` (a transaction, a block): not hex at all is a decode failure too,
 * Core's -22 RPC_DESERIALIZATION_ERROR ("TX decode failed"), not -8.
 */
export function rawHexArg(name: string, v: unknown, what: 'TX' | 'Block'): Uint8Array {
  const b = typeof v === 'string' ? fromHex(v) : null;
  if (b === null) throw new RpcError(RPC.DESERIALIZATION, `${what} decode failed: ${name} is not hex`);
  return b;
}

export function addressArg(name: string, v: unknown, p: NetworkParams): Uint8Array {
  try {
    return decodeAddress(p.addressPrefix, String(v));
  } catch (e) {
    if (e instanceof DecodeError) throw new RpcError(RPC.INVALID_ADDRESS, `${name}: ${e.message}`);
    throw e;
  }
}
