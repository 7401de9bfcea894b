/**
 * One WebSocket connection attempt (I/O only): opens with the offered
 * subprotocols, checks the selected one and the `hello` (protocol §2), parses
 * frames, and watches the link (no frame for heartbeat_s × 2.5: dead, §3).
 * It decides nothing about reconnecting: it reports how it ended.
 * @module protocol/stream_socket
 */

import { SUBPROTOCOL, checkHello, offeredSubprotocols } from './handshake.js';

/**
 * How a connection ended.
 * @typedef {object} SocketEnd
 * @property {number} code - the close code (1006 when the link died or the upgrade failed)
 * @property {string} reason
 * @property {boolean} helloSeen - whether the server's hello arrived on this socket
 * @property {boolean} dead - no frame for too long (the socket was dropped by us)
 * @property {{kind: string, message: string}|null} fatal - an incompatibility found here
 */

/** One WebSocket to `/v1/stream`; call `close()` to end it (1000). */
export class StreamSocket {
  /**
   * @param {object} options
   * @param {URL|string} options.url - the ws(s):// URL of /v1/stream
   * @param {string|null} options.token
   * @param {number} options.helloTimeoutS - seconds to wait for the open and the hello
   * @param {(hello: object) => void} options.onHello
   * @param {(frame: object) => void} options.onFrame - every frame after the hello
   * @param {(end: SocketEnd) => void} options.onEnd - called once, unless `close()` was called first
   */
  constructor({ url, token, helloTimeoutS, onHello, onFrame, onEnd }) {
    this.onHello = onHello;
    this.onFrame = onFrame;
    this.onEnd = onEnd;
    this.helloSeen = false;
    this.deadAfterS = helloTimeoutS;
    this.ended = false;
    this.watchdog = null;
    this.ws = new WebSocket(url, offeredSubprotocols(token));
    this.ws.onopen = () => this.#opened();
    this.ws.onmessage = (message) => this.#received(message.data);
    this.ws.onclose = (close) => this.#end({ code: close.code, reason: close.reason });
    // An error event is always followed by a close event, which carries the code.
    this.ws.onerror = () => {};
    this.#watch();
  }

  /** Whether frames can be sent (the hello arrived and the socket is open). */
  get ready() {
    return this.helloSeen && !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one frame as JSON.
   * @param {object} frame
   */
  send(frame) {
    if (this.ready) this.ws.send(JSON.stringify(frame));
  }

  /**
   * Ends the connection without reporting it (the owner knows).
   * @param {number} [code=1000]
   * @param {string} [reason]
   */
  close(code = 1000, reason = '') {
    this.ended = true;
    this.#detach();
    try {
      this.ws.close(code, reason);
    } catch {
      // closing a socket that never opened may throw: it is gone either way
    }
  }

  #opened() {
    if (this.ws.protocol !== SUBPROTOCOL) {
      const message = `the server selected the subprotocol "${this.ws.protocol}"; this page speaks ${SUBPROTOCOL}`;
      this.#fail({ kind: 'incompatible', message });
    }
  }

  #received(data) {
    if (this.ended) return;
    this.#watch();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn('planstream: ignored a frame that is not JSON');
      return;
    }
    if (frame === null || typeof frame !== 'object' || typeof frame.type !== 'string') {
      console.warn('planstream: ignored a frame without a type');
      return;
    }
    if (!this.helloSeen) {
      if (frame.type !== 'hello') {
        this.#fail({ kind: 'protocol', message: `the server's first frame was "${frame.type}", not hello` });
        return;
      }
      const verdict = checkHello(frame);
      if (!verdict.ok) {
        this.#fail({ kind: 'incompatible', message: verdict.message });
        return;
      }
      this.helloSeen = true;
      this.deadAfterS = verdict.deadAfterS;
      this.#watch();
      this.onHello(frame);
      return;
    }
    this.onFrame(frame);
  }

  /** Restarts the dead-link deadline: any frame proves the link alive. */
  #watch() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.#died(), this.deadAfterS * 1000);
  }

  #died() {
    if (this.ended) return;
    // Do not wait for the browser's close handshake on a dead link: drop it now.
    this.close(1000, 'no frame from the server');
    this.onEnd({ code: 1006, reason: 'dead link', helloSeen: this.helloSeen, dead: true, fatal: null });
  }

  #fail(fatal) {
    if (this.ended) return;
    this.close(4006, fatal.kind === 'incompatible' ? 'incompatible' : 'protocol error');
    this.onEnd({ code: 4006, reason: fatal.message, helloSeen: this.helloSeen, dead: false, fatal });
  }

  #end({ code, reason }) {
    if (this.ended) return;
    this.ended = true;
    this.#detach();
    this.onEnd({ code, reason, helloSeen: this.helloSeen, dead: false, fatal: null });
  }

  #detach() {
    clearTimeout(this.watchdog);
    this.watchdog = null;
    this.ws.onopen = null;
    this.ws.onmessage = null;
    this.ws.onclose = null;
    this.ws.onerror = null;
  }
}
