// The browser calls of the session store (src/web/persist.rs): IndexedDB's requests, transactions
// and events. Rust decides what is written and when (proto/stored.rs); this file only carries it
// out, in JavaScript because these calls cost several times their size as wasm-bindgen imports.
// Every function returns a promise; every failure rejects it with the browser's error.

const SESSIONS = 'sessions'; // a session's index, by session key
const MESSAGES = 'messages'; // segments of message records, by [session key, segment number]

const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

// Resolves once the transaction has committed: a quota error at commit rejects it.
const committed = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error || new Error('the transaction was aborted'));
  });

const segments = (key) => IDBKeyRange.bound([key, 0], [key, Infinity]);

const stores = (db, mode) => {
  const tx = db.transaction([SESSIONS, MESSAGES], mode);
  return [tx, tx.objectStore(SESSIONS), tx.objectStore(MESSAGES)];
};

/** Opens (creating or upgrading) the database; resolves with null where there is no IndexedDB. */
export async function idbOpen(name, version) {
  const factory = globalThis.indexedDB; // may throw (a sandboxed frame): a rejection
  if (!factory) return null;
  const req = factory.open(name, version);
  req.onupgradeneeded = () => {
    for (const s of [SESSIONS, MESSAGES]) {
      if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s);
    }
  };
  return done(req);
}

/** Resolves with [the index or null, ...every segment of the session]. */
export async function idbLoad(db, key) {
  const [, sessions, messages] = stores(db, 'readonly');
  const [index, all] = await Promise.all([done(sessions.get(key)), done(messages.getAll(segments(key)))]);
  return [index ?? null, ...all];
}

/**
 * Deletes the segments numbered `deletes`, puts segment `numbers[i]` (its bytes the next
 * `lengths[i]` of `bytes`) and the index, in one transaction. The arrays are views of wasm
 * memory: they are copied before this function first waits.
 */
export async function idbSave(db, key, deletes, numbers, lengths, bytes, index) {
  const [tx, sessions, messages] = stores(db, 'readwrite');
  for (const n of deletes) messages.delete([key, n]);
  let at = 0;
  numbers.forEach((n, i) => messages.put(bytes.slice(at, (at += lengths[i])), [key, n]));
  sessions.put(index.slice(), key);
  return committed(tx);
}

/** Forgets the session: its index and its segments, in one transaction. */
export async function idbClear(db, key) {
  const [tx, sessions, messages] = stores(db, 'readwrite');
  sessions.delete(key);
  messages.delete(segments(key));
  return committed(tx);
}
