/** Asset fingerprint and metadata shown as text where they are UTF-8 text, hex only for binary. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assetText } from '../../../services/cli/commands/asset.ts';
import { topicsOf } from '../../../services/cli/commands/watch.ts';
import { CliUsageError } from '../../../services/cli/errors.ts';
import { assetBytesJson, textOf } from '../../../services/node/render.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('asset bytes as text', () => {
  it('text where the bytes are UTF-8 text, null where binary', () => {
    assert.equal(textOf(enc('photographer: Alice')), 'photographer: Alice');
    assert.equal(textOf(enc('Zoë, 東京\n\ttab')), 'Zoë, 東京\n\ttab');
    assert.equal(textOf(new Uint8Array()), '');
    assert.equal(textOf(new Uint8Array([1, 2])), null, 'control characters');
    assert.equal(textOf(new Uint8Array([0xff, 0xfe])), null, 'not UTF-8');
    assert.equal(textOf(new Uint8Array([0xc3])), null, 'truncated sequence');
    assert.equal(textOf(enc('a\u0000b')), null);
    assert.equal(textOf(enc('a\u0085b')), null, 'C1 control');
  });

  it('JSON: text fields plus _hex always', () => {
    assert.deepEqual(assetBytesJson(enc('sha256:ab'), enc('photographer: Alice')), {
      fingerprint: 'sha256:ab',
      fingerprint_hex: '7368613235363a6162',
      metadata: 'photographer: Alice',
      metadata_hex: '70686f746f677261706865723a20416c696365',
    });
    assert.deepEqual(assetBytesJson(new Uint8Array([0, 1]), new Uint8Array([1, 2])), {
      fingerprint: null,
      fingerprint_hex: '0001',
      metadata: null,
      metadata_hex: '0102',
    });
  });

  it('the CLI prints text as text and binary as (hex)', () => {
    const a = { id: 'ab', name: 'n', ...assetBytesJson(enc('sha256:ab'), new Uint8Array([1, 2])) };
    assert.equal(assetText(a), 'id: ab\nname: n\nfingerprint: sha256:ab\nmetadata (hex): 0102');
    const b = { ...assetBytesJson(new Uint8Array([0]), enc('photographer: Alice')) };
    assert.equal(assetText(b), 'fingerprint (hex): 00\nmetadata: photographer: Alice');
  });
});

describe('cairn watch --topics', () => {
  it('adds to hashblock and hashtx, comma or space separated; refuses unknown topics', () => {
    assert.deepEqual(topicsOf([]), ['hashblock', 'hashtx']);
    assert.deepEqual(topicsOf(['rawblock']), ['hashblock', 'hashtx', 'rawblock']);
    assert.deepEqual(topicsOf(['rawtx,sequence', 'rawblock']), [
      'hashblock',
      'hashtx',
      'rawblock',
      'rawtx',
      'sequence',
    ]);
    assert.throws(() => topicsOf(['blocks']), CliUsageError);
  });
});
