// MQTT.js's message identifier providers. A client given one of these as `messageIdProvider`
// has its identifiers given in that order by the Rust core (which never gives one in use);
// they also work on their own, with MQTT.js's interface.

/** Identifiers in sequence from a random start, wrapping after 65535 (MQTT.js's default). */
export class DefaultMessageIdProvider {
  constructor() {
    this.nextId = Math.max(1, Math.floor(Math.random() * 65535));
  }

  allocate() {
    const id = this.nextId++;
    if (this.nextId === 65536) this.nextId = 1;
    return id;
  }

  getLastAllocated() {
    return this.nextId === 1 ? 65535 : this.nextId - 1;
  }

  register(_id) {
    return true;
  }

  deallocate(_id) {}

  clear() {}
}

/** The lowest identifier not in use; never one in use. */
export class UniqueMessageIdProvider {
  constructor() {
    this._used = new Set();
    this._last = null;
  }

  allocate() {
    for (let id = 1; id <= 65535; id++) {
      if (!this._used.has(id)) {
        this._used.add(id);
        this._last = id;
        return id;
      }
    }
    return null;
  }

  getLastAllocated() {
    return this._last;
  }

  register(id) {
    if (this._used.has(id)) return false;
    this._used.add(id);
    return true;
  }

  deallocate(id) {
    this._used.delete(id);
  }

  clear() {
    this._used.clear();
  }
}

/**
 * How the core gives identifiers for `provider`: 'lowest' (UniqueMessageIdProvider, wasmqtt's
 * or MQTT.js's), 'sequence' (DefaultMessageIdProvider, or none), or null for a provider of the
 * application's own, which the core cannot consult.
 */
export function idOrder(provider) {
  if (provider == null) return 'sequence';
  const name = provider.constructor?.name;
  if (provider instanceof UniqueMessageIdProvider || name === 'UniqueMessageIdProvider') return 'lowest';
  if (provider instanceof DefaultMessageIdProvider || name === 'DefaultMessageIdProvider') return 'sequence';
  return null;
}
