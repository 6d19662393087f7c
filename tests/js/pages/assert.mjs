// The part of node:assert/strict the compatibility suite uses, for running it in a browser page:
// equal (Object.is), deepEqual (deep strict: same prototypes' kinds, own enumerable keys,
// typed arrays by content), ok, match, rejects.

class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

const show = (v) => {
  try {
    return JSON.stringify(v, (k, x) => (ArrayBuffer.isView(x) ? `<${x.constructor.name} ${Array.from(x)}>` : x));
  } catch {
    return String(v);
  }
};

function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.length !== b.length) return false;
    return a.every((x, i) => x === b[i]);
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
}

export const assert = {
  equal(actual, expected, message) {
    if (!Object.is(actual, expected)) throw new AssertionError(message ?? `expected ${show(expected)}, got ${show(actual)}`);
  },
  deepEqual(actual, expected, message) {
    if (!same(actual, expected)) throw new AssertionError(message ?? `expected ${show(expected)}, got ${show(actual)}`);
  },
  ok(value, message) {
    if (!value) throw new AssertionError(message ?? `expected a truthy value, got ${show(value)}`);
  },
  match(text, re, message) {
    if (!re.test(text)) throw new AssertionError(message ?? `${show(text)} does not match ${re}`);
  },
  async rejects(promise, expected, message) {
    try {
      await (typeof promise === 'function' ? promise() : promise);
    } catch (e) {
      if (expected instanceof RegExp && !expected.test(String(e?.message ?? e))) {
        throw new AssertionError(message ?? `rejected with ${e?.message}, which does not match ${expected}`);
      }
      if (typeof expected === 'function') {
        const isErrorClass = expected === Error || expected.prototype instanceof Error;
        if (isErrorClass && !(e instanceof expected)) throw new AssertionError(message ?? `rejected with ${e?.name}, not ${expected.name}`);
        if (!isErrorClass && expected(e) !== true) throw new AssertionError(message ?? `the rejection (${e?.message}) did not pass ${expected}`);
      }
      if (typeof expected === 'object' && expected !== null && !(expected instanceof RegExp)) {
        for (const [k, v] of Object.entries(expected)) {
          if (!(v instanceof RegExp ? v.test(e?.[k]) : same(e?.[k], v))) throw new AssertionError(message ?? `rejected with ${k} ${show(e?.[k])}, expected ${show(v)}`);
        }
      }
      return;
    }
    throw new AssertionError(message ?? 'expected a rejection');
  },
};
