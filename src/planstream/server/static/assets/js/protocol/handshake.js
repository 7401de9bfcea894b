/**
 * The handshake and close-code rules (pure): what to offer, what a `hello`
 * must say, and what a close code means (protocol §2 and §4).
 * @module protocol/handshake
 */

/** The one subprotocol this client speaks (protocol §2). */
export const SUBPROTOCOL = 'planstream.v1';
/** Prefix of the browser form of the bearer token (protocol §2, "Browsers"). */
export const BEARER_PREFIX = 'planstream.bearer.';
export const PROTOCOL_VERSION = 1;
export const SCHEMA_MAJOR = '1';
export const MIN_HEARTBEAT_S = 1;
export const MAX_HEARTBEAT_S = 300;
/** No frame at all for heartbeat_s times this: the link is dead (protocol §3). */
export const DEAD_LINK_FACTOR = 2.5;

/**
 * base64url of the token's UTF-8 bytes, without padding.
 * @param {string} token
 * @returns {string}
 */
export function base64url(token) {
  let binary = '';
  for (const byte of new TextEncoder().encode(token)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The subprotocols to offer, highest first: `planstream.v1`, then the token
 * (a browser cannot set the Authorization header on an upgrade).
 * @param {string|null} token
 * @returns {string[]}
 */
export function offeredSubprotocols(token) {
  return token ? [SUBPROTOCOL, BEARER_PREFIX + base64url(token)] : [SUBPROTOCOL];
}

/**
 * Checks the server's `hello` (protocol §2): protocol 1 and any minor of
 * schema major 1; `heartbeat_s` clamped into [1, 300].
 * @param {object} hello
 * @returns {{ok: true, heartbeatS: number, deadAfterS: number} | {ok: false, message: string}}
 */
export function checkHello(hello) {
  const schema = typeof hello.schema === 'string' ? hello.schema : String(hello.schema);
  const major = schema.split('.')[0];
  if (hello.protocol !== PROTOCOL_VERSION || major !== SCHEMA_MAJOR) {
    return {
      ok: false,
      message: `the server speaks protocol ${hello.protocol} with schema ${schema}; `
        + `this page speaks protocol ${PROTOCOL_VERSION} with schema ${SCHEMA_MAJOR}.x`,
    };
  }
  const offered = Number(hello.heartbeat_s);
  const heartbeatS = Number.isFinite(offered)
    ? Math.min(MAX_HEARTBEAT_S, Math.max(MIN_HEARTBEAT_S, offered)) : 15;
  return { ok: true, heartbeatS, deadAfterS: heartbeatS * DEAD_LINK_FACTOR };
}

/**
 * The `retry_after` of a close reason `{"retry_after": s}`, or null.
 * @param {string} reason
 * @returns {number|null}
 */
export function retryAfterOf(reason) {
  try {
    const value = JSON.parse(reason)?.retry_after;
    return typeof value === 'number' && value >= 0 ? value : null;
  } catch {
    return null;
  }
}

/**
 * What a close code asks of the client (protocol §4).
 * @param {number} code
 * @param {string} reason
 * @returns {{action: 'fatal', kind: string, message: string} | {action: 'retry', retryAfter: number|null}}
 */
export function closeVerdict(code, reason) {
  const said = reason ? ` (${reason})` : '';
  switch (code) {
    case 4001:
      return { action: 'fatal', kind: 'token_expired', message: `The token expired${said}. Enter a new token.` };
    case 4003:
      return { action: 'fatal', kind: 'forbidden', message: `The server refused access${said}.` };
    case 4006:
      return { action: 'fatal', kind: 'incompatible', message: `The server reported an incompatible protocol${said}.` };
    case 1008:
      return { action: 'fatal', kind: 'protocol', message: `The server closed the connection for a policy violation${said}.` };
    case 1009:
      return { action: 'fatal', kind: 'protocol', message: `The server closed the connection: a frame was too big${said}.` };
    case 1013:
    case 4029:
      return { action: 'retry', retryAfter: retryAfterOf(reason) };
    default:
      return { action: 'retry', retryAfter: null };
  }
}
