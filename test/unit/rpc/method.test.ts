/** Parameter validation of the method registry: positional and named, every kind of mismatch. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type MethodDef,
  MethodRegistry,
  RpcError,
  validateParams,
} from '../../../services/node/rpc/method.ts';
import { UsageError } from '../../../shared/core/errors.ts';

const def: MethodDef = {
  name: 'm',
  help: '',
  params: [
    { name: 'height', type: 'integer', min: 0 },
    { name: 'verbose', type: 'boolean', optional: true },
    { name: 'label', type: 'string', optional: true, maxLength: 5 },
    { name: 'hash', type: 'hash', optional: true },
    { name: 'raw', type: 'hex', optional: true },
    { name: 'ratio', type: 'number', optional: true, min: 0, max: 1 },
    { name: 'list', type: 'array', optional: true, maxLength: 2 },
    { name: 'opts', type: 'object', optional: true },
  ],
  run: () => null,
};

function rejects(params: unknown, re: RegExp): void {
  assert.throws(
    () => validateParams(def, params),
    (e: unknown) =>
      e instanceof RpcError && e.rpcCode === -32602 && e.code === 'rpc--32602' && re.test(e.message),
  );
}

describe('validateParams', () => {
  it('takes positional and named params to the same arguments', () => {
    assert.deepEqual(validateParams(def, [5, true]), { height: 5, verbose: true });
    assert.deepEqual(validateParams(def, { verbose: true, height: 5 }), { height: 5, verbose: true });
    assert.deepEqual(
      validateParams(def, [5, null, 'ab']),
      { height: 5, label: 'ab' },
      'null = omitted optional',
    );
  });

  it('names the parameter in every refusal', () => {
    rejects([], /^height: missing required parameter$/);
    rejects({}, /^height: missing/);
    rejects(['x'], /^height: expected an integer ≥ 0, got "x"$/);
    rejects([-1], /^height: expected an integer ≥ 0, got -1$/);
    rejects([1.5], /^height: expected an integer/);
    rejects([null], /^height: expected an integer ≥ 0, got null$/);
    rejects([1, 'yes'], /^verbose: expected a boolean, got "yes"$/);
    rejects([1, true, 'toolong'], /^label: expected a string of at most 5 characters/);
    rejects({ height: 1, hash: 'ab' }, /^hash: expected a hash of 64 hex digits/);
    rejects({ height: 1, raw: 'abc' }, /^raw: expected a hex string/);
    rejects({ height: 1, raw: 'zz' }, /^raw: /);
    rejects({ height: 1, ratio: 2 }, /^ratio: expected a number between 0 and 1, got 2$/);
    rejects({ height: 1, list: [1, 2, 3] }, /^list: expected an array of at most 2 items/);
    rejects({ height: 1, opts: [] }, /^opts: expected an object, got \[\]$/);
    rejects({ height: 1, colour: 'red' }, /unknown parameter "colour"/);
    rejects(
      [1, true, 'a', undefined, undefined, undefined, undefined, undefined, 'extra'],
      /too many parameters/,
    );
    rejects({ height: 'x'.repeat(100) }, /got "x{30,}\.\.\.$/);
  });

  it('accepts the valid forms of each type', () => {
    const args = validateParams(def, {
      height: 0,
      hash: 'Ab'.repeat(32),
      raw: '',
      ratio: 0.5,
      list: [1],
      opts: { a: 1 },
    });
    assert.equal(args.hash, 'Ab'.repeat(32));
    assert.equal(args.raw, '');
  });
});

describe('MethodRegistry', () => {
  it('lists sorted names and refuses duplicates', () => {
    const r = new MethodRegistry();
    r.add({ ...def, name: 'b' }, { ...def, name: 'a' });
    assert.deepEqual(r.names(), ['a', 'b']);
    assert.equal(r.get('a')?.name, 'a');
    assert.equal(r.get('toString'), undefined);
    assert.throws(() => r.add({ ...def, name: 'a' }), UsageError);
  });
});
