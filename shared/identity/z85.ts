/**
 * Z85 (ZeroMQ RFC 32): 4 bytes ↔ 5 printable characters. CURVE keys are 32 bytes = 40 characters.
 */
import { CairnError } from '../core/errors.ts';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export class Z85Error extends CairnError {
  readonly code = 'z85-invalid';
}

export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new Z85Error(`Z85 encodes multiples of 4 bytes, not ${data.length}`);
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let v = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!;
    const chunk = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      chunk[k] = ALPHABET[v % 85]!;
      v = Math.floor(v / 85);
    }
    out += chunk.join('');
  }
  return out;
}

export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0)
    throw new Z85Error(`Z85 text length must be a multiple of 5, not ${text.length}`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const c = text.charCodeAt(i + k);
      const d = c < 128 ? DECODE[c]! : -1;
      if (d < 0) throw new Z85Error(`'${text[i + k]}' is not a Z85 character`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new Z85Error('Z85 group out of range');
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}

/** A CURVE key in Z85: exactly 40 characters decoding to 32 bytes. */
export function isZ85Key(text: string): boolean {
  if (text.length !== 40) return false;
  try {
    z85Decode(text);
    return true;
  } catch {
    return false;
  }
}
