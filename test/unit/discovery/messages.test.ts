/**
 * The discovery wire format: every request and reply round-trips; a registration's proof binds
 * the key it names (another key's holder cannot make it) and every field; malformed frames are
 * DecodeErrors naming the field, never anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../../../shared/core/errors.ts';
import { LOCAL, MAIN } from '../../../shared/core/params/networks.ts';
import {
  DECODE_MAX_ADDRESSES,
  DISCOVERY_VERSION,
  decodeEvent,
  decodeReply,
  decodeRequest,
  encodeEvent,
  encodeReply,
  encodeStatsRequest,
  MAX_FRAME_BYTES,
  proofContext,
  REFUSALS,
  type RefusalReason,
  type Reply,
  registerSigned,
  withProof,
} from '../../../shared/discovery/messages.ts';
import { encodeQuery, makeLeave, makeRegister } from '../../../shared/discovery/requests.ts';
import { z85Decode, z85Encode } from '../../../shared/identity/z85.ts';
import { verifyKeyProof } from '../../../shared/zmq/curve.ts';
import { curveKeys } from './keys.ts';

const service = curveKeys();
const node = curveKeys();
const fields = {
  genesis: LOCAL.genesisHash,
  addresses: ['127.0.0.1:22136', '[::1]:22136'],
  height: 42,
  time: 1_800_000_000,
};

function verifies(frame: Uint8Array, serviceKeys = service): boolean {
  const req = decodeRequest(frame);
  assert.ok(req.kind === 'register' || req.kind === 'leave');
  return verifyKeyProof(
    serviceKeys.secretKey,
    z85Encode(req.nodeKey),
    proofContext(req.kind, z85Decode(serviceKeys.publicKey), req.signed),
    req.proof,
  );
}

function decodeFails(b: Uint8Array, field?: RegExp): void {
  assert.throws(
    () => decodeRequest(b),
    (e: unknown) => e instanceof DecodeError && (field === undefined || field.test(e.field)),
  );
}

describe('discovery requests', () => {
  it('a registration round-trips and its proof verifies for the key it names', () => {
    const frame = makeRegister(node, service.publicKey, fields);
    const req = decodeRequest(frame);
    assert.equal(req.kind, 'register');
    if (req.kind !== 'register') return;
    assert.equal(z85Encode(req.nodeKey), node.publicKey);
    assert.deepEqual(req.addresses, fields.addresses);
    assert.equal(req.height, 42);
    assert.equal(req.time, fields.time);
    assert.deepEqual([...req.genesis], [...LOCAL.genesisHash]);
    assert.equal(req.nonce.length, 16);
    assert.ok(verifies(frame));
  });

  it('a registration naming another key does not verify (impersonation)', () => {
    const victim = curveKeys();
    assert.equal(verifies(makeRegister(node, service.publicKey, fields, victim.publicKey)), false);
  });

  it('a proof made for another service does not verify at this one', () => {
    const other = curveKeys();
    assert.equal(verifies(makeRegister(node, other.publicKey, fields)), false);
  });

  it('the proof covers every field: any changed byte before it breaks it', () => {
    const frame = makeRegister(node, service.publicKey, fields);
    for (const i of [2, 40, 70, 75, 90, frame.length - 40]) {
      const bent = Uint8Array.from(frame);
      bent[i]! ^= 1;
      let ok: boolean;
      try {
        ok = verifies(bent);
      } catch {
        ok = false; // the change broke the encoding itself
      }
      assert.equal(ok, false, `byte ${i}`);
    }
  });

  it('leave, query and stats round-trip', () => {
    const leave = decodeRequest(makeLeave(node, service.publicKey, MAIN.genesisHash, 5));
    assert.equal(leave.kind, 'leave');
    assert.ok(verifies(makeLeave(node, service.publicKey, MAIN.genesisHash, 5)));
    const q = decodeRequest(encodeQuery({ genesis: MAIN.genesisHash, max: 32 }));
    assert.deepEqual(q.kind === 'query' ? q.max : -1, 32);
    assert.equal(decodeRequest(encodeStatsRequest()).kind, 'stats');
  });

  it('malformed requests are DecodeErrors naming the field', () => {
    decodeFails(new Uint8Array(0), /^version$/);
    decodeFails(Uint8Array.of(DISCOVERY_VERSION + 1, 1), /^version$/);
    decodeFails(Uint8Array.of(DISCOVERY_VERSION, 99), /^kind$/);
    decodeFails(Uint8Array.of(DISCOVERY_VERSION, 4, 0), /^stats$/);
    const frame = makeRegister(node, service.publicKey, fields);
    for (let n = 0; n < frame.length; n++) decodeFails(frame.subarray(0, n));
    decodeFails(Uint8Array.from([...frame, 0]), /^register$/);
    decodeFails(new Uint8Array(MAX_FRAME_BYTES + 1), /^request$/);
  });

  it('a list of addresses beyond the decode cap is malformed; up to it decodes (the service refuses > 8)', () => {
    const many = (n: number) =>
      withProof(
        registerSigned({
          nodeKey: z85Decode(node.publicKey),
          genesis: LOCAL.genesisHash,
          addresses: Array.from({ length: n }, (_, i) => `10.0.0.${i % 250}:2136`),
          height: 0,
          time: 1,
          nonce: new Uint8Array(16),
        }),
        new Uint8Array(32),
      );
    const ok = decodeRequest(many(DECODE_MAX_ADDRESSES));
    assert.equal(ok.kind === 'register' ? ok.addresses.length : 0, DECODE_MAX_ADDRESSES);
    decodeFails(many(DECODE_MAX_ADDRESSES + 1), /addresses\.count/);
  });

  it('random bytes never throw anything but DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 4 }), (tail, kind) => {
        for (const b of [tail, Uint8Array.from([DISCOVERY_VERSION, kind, ...tail])]) {
          try {
            decodeRequest(b);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('discovery replies and events', () => {
  it('every reply kind round-trips', () => {
    const replies: Reply[] = [
      { kind: 'registered', expiresIn: 600, joined: true },
      {
        kind: 'peers',
        eventsPort: 22141,
        peers: [
          { key: z85Decode(node.publicKey), addresses: ['1.2.3.4:2136'], height: 7, lastSeen: 1_800_000_000 },
        ],
      },
      { kind: 'peers', eventsPort: 0, peers: [] },
      { kind: 'left', removed: false },
      { kind: 'stats', json: '{"entries":1}' },
      ...(Object.keys(REFUSALS) as RefusalReason[]).map(
        (reason): Reply => ({ kind: 'refused', reason, message: `because ${reason}` }),
      ),
    ];
    for (const r of replies) {
      const back = decodeReply(encodeReply(r));
      assert.deepEqual(
        JSON.stringify(back, (_k, v) => (v instanceof Uint8Array ? [...v] : v)),
        JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? [...v] : v)),
      );
    }
  });

  it('a long refusal message is cut to the cap, not an error', () => {
    const r = decodeReply(
      encodeReply({ kind: 'refused', reason: 'bad-address', message: 'x'.repeat(10_000) }),
    );
    assert.equal(r.kind, 'refused');
    assert.ok(r.kind === 'refused' && r.message.length <= 200);
  });

  it('events round-trip; malformed events are DecodeErrors', () => {
    const e = { nodeKey: z85Decode(node.publicKey), addresses: ['1.2.3.4:2136'], height: 3 };
    const back = decodeEvent(encodeEvent(e));
    assert.deepEqual(back.addresses, e.addresses);
    assert.equal(back.height, 3);
    assert.throws(() => decodeEvent(encodeEvent(e).subarray(0, 20)), DecodeError);
  });
});
