// Sockets for Node: what the Rust driver opens instead of a page's WebSocket. It speaks to
// them through the WebSocket interface (`binaryType`, `readyState`, `bufferedAmount`,
// `send`, `close`, `onopen` / `onmessage` / `onclose`), so the same driver, and every
// decision in the core, serve Node too:
// - ws:// and wss:// through the `ws` package when it is installed (as MQTT.js does; it takes
//   `wsOptions`), else Node's own WebSocket (Node 22 and later);
// - mqtt:// and tcp:// over TCP, mqtts://, ssl:// and tls:// over TLS (`net`, `tls`), with
//   MQTT.js's TLS options (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, ...).

import net from 'node:net';
import tls from 'node:tls';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let wsPackage;

function webSocketClass() {
  if (wsPackage === undefined) {
    try {
      wsPackage = require('ws');
    } catch {
      wsPackage = null;
    }
  }
  const WS = wsPackage?.WebSocket ?? wsPackage ?? globalThis.WebSocket;
  if (typeof WS !== 'function') {
    throw new Error('this Node has no WebSocket: install the `ws` package (npm install ws), or use Node 22 or later, or an mqtt:// URL');
  }
  return WS;
}

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'ALPNProtocols', 'checkServerIdentity', 'minVersion', 'maxVersion'];

/** The socket for `url` (constructed with `new`, as the driver does). */
export function nodeSocket(url, protocol, options) {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'ws' || scheme === 'wss') {
    const WS = webSocketClass();
    if (WS !== wsPackage?.WebSocket && WS !== wsPackage) return new WS(url, protocol);
    const ws = new WS(url, protocol, options.wsOptions);
    // The ws package throws an 'error' nobody listens to (a refused upgrade, a reset): the
    // close event that follows is what the driver reports.
    ws.on('error', () => {});
    return ws;
  }
  if (scheme === 'mqtt' || scheme === 'tcp') return new StreamSocket(url, false, options);
  if (scheme === 'mqtts' || scheme === 'ssl' || scheme === 'tls') return new StreamSocket(url, true, options);
  throw new Error(`cannot connect to ${url}: use ws://, wss://, mqtt:// or mqtts://`);
}

/** An MQTT connection over TCP or TLS, shaped as a WebSocket for the driver. */
class StreamSocket {
  constructor(url, secure, options) {
    const u = new URL(url);
    this.url = url;
    this.protocol = '';
    this.binaryType = 'arraybuffer';
    this.readyState = 0;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(u.port) || (secure ? 8883 : 1883);
    let socket;
    if (secure) {
      const opts = { host, port };
      for (const k of TLS_OPTIONS) if (options[k] !== undefined) opts[k] = options[k];
      if (opts.servername === undefined && !net.isIP(host)) opts.servername = host;
      socket = tls.connect(opts);
    } else {
      socket = net.connect({ host, port });
    }
    socket.setNoDelay(true);
    this._socket = socket;
    this._error = null;
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
    });
    // A Buffer is a Uint8Array: the driver copies it into wasm memory as it is.
    socket.on('data', (data) => this.onmessage?.({ type: 'message', data }));
    socket.on('error', (e) => {
      this._error = e;
    });
    socket.on('close', () => {
      const error = this._error;
      const closing = this.readyState === 2;
      this.readyState = 3;
      const transport = secure ? 'TLS' : 'TCP';
      this.onclose?.({
        type: 'close',
        code: error ? 1006 : 1000,
        // No WebSocket here: `transport` tells the driver so, and the reason says it all.
        transport,
        reason: error ? `${transport} connection to ${host}:${port} failed: ${error.message}` : closing ? `${transport} connection closed` : `the server closed the ${transport} connection`,
        wasClean: !error,
      });
    });
  }

  get bufferedAmount() {
    return this._socket.writableLength;
  }

  send(data) {
    // `data` is a view of wasm memory, reused once this call returns: Node may queue it.
    if (this.readyState === 1) this._socket.write(Buffer.from(data));
  }

  close() {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this._socket.end();
    // A peer that never answers the FIN must not keep the socket open.
    setTimeout(() => this._socket.destroy(), 1000).unref?.();
  }
}
