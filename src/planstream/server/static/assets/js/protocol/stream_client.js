/**
 * The browser's protocol client: one multiplexed WebSocket to `v1/stream`
 * (protocol §2-4), reconnects with full-jitter backoff and resumes every plan
 * from its last delivered event_id, and falls back to HTTP long-polling (§6)
 * when the WebSocket is blocked.
 *
 * The pieces: {@link StreamSocket} moves frames, {@link Sequencer} (pure)
 * decides what is delivered and what must be repaired, `handshake.js` (pure)
 * judges hellos and close codes, {@link PlanPoller} is the fallback; this
 * class wires them and owns every timer.
 *
 * When a socket closes before its hello, `refusal_probe.js` asks the HTTP
 * API why: a refused token is fatal, a server that is down is retried, and
 * a WebSocket blocked on the way twice in a row switches to long-polling,
 * while the WebSocket is retried with the backoff until a hello arrives.
 * @module protocol/stream_client
 */

import { BackoffSchedule, normalizeBackoff } from './backoff.js';
import { closeVerdict } from './handshake.js';
import { PlanApi } from './http.js';
import { PlanPoller, pollFailureVerdict } from './plan_poller.js';
import { diagnoseRefusal } from './refusal_probe.js';
import { Sequencer } from './sequencer.js';
import { StreamSocket } from './stream_socket.js';

/** Failures before hello with an HTTP API that answers, before polling starts. */
const BLOCKED_BEFORE_POLLING = 2;

const now = () => performance.now() / 1000;

/** Calls a user callback; its exception is reported, not allowed to break the client. */
function callBack(callback, value) {
  if (typeof callback !== 'function') return;
  try {
    callback(value);
  } catch (error) {
    reportError(error);
  }
}

/** Streams plan events to the page over one connection. */
export class StreamClient {
  #api; #streamUrl; #token; #schedule; #random; #backoff; #pollWait; #healthyAfterS; #helloTimeoutS;
  #sequencer; #subscriptions = new Map(); #pollers = new Map();
  #stateListeners = new Set(); #fatalListeners = new Set();
  #state = { state: null, retryInSeconds: null, attempt: 0, reason: null }; // null: not started
  #started = false; #over = false; #socket = null; #transport = null; #helloCount = 0;
  #blockedInARow = 0; #probe = null; #retryTimer = null; #healthyTimer = null; #tickTimer = null;
  #requestId = 0;

  /**
   * @param {object} options
   * @param {string|URL} options.baseUrl - the app root (ends with '/'); v1/... is relative to it
   * @param {string|null} [options.token]
   * @param {{initial?: number, factor?: number, max?: number}} [options.backoff]
   * @param {() => number} [options.random] - [0, 1) for the jitter
   * @param {number} [options.pollWait=25] - seconds a long-poll may be held
   * @param {number} [options.healthyAfter=10] - seconds after a hello that reset the backoff
   * @param {number} [options.helloTimeout=10] - seconds to wait for a socket's hello
   * @param {object} [options.sequencer] - Sequencer options (windows, timeouts)
   */
  constructor({
    baseUrl, token = null, backoff = { initial: 0.5, factor: 2, max: 30 }, random = Math.random,
    pollWait = 25, healthyAfter = 10, helloTimeout = 10, sequencer = {},
  }) {
    const root = new URL(String(baseUrl));
    this.#api = new PlanApi({ baseUrl: root, token });
    this.#streamUrl = new URL('v1/stream', root);
    this.#streamUrl.protocol = root.protocol === 'https:' ? 'wss:' : 'ws:';
    this.#token = token || null;
    this.#backoff = normalizeBackoff(backoff);
    this.#random = random;
    this.#schedule = new BackoffSchedule(this.#backoff, random);
    this.#pollWait = pollWait;
    this.#healthyAfterS = healthyAfter;
    this.#helloTimeoutS = helloTimeout;
    this.#sequencer = new Sequencer(sequencer);
  }

  /** The current connection state (one of the states given to `onState` listeners). */
  get state() {
    return this.#state.state ?? 'connecting';
  }

  /**
   * Counters for the page and its tests: events delivered, duplicates dropped,
   * resyncs, reconnects (hellos after the first), gap repairs, and the transport in use.
   */
  get stats() {
    const { delivered, duplicates, resyncs, gapRepairs } = this.#sequencer.stats;
    return {
      events: delivered, duplicates, resyncs, reconnects: Math.max(0, this.#helloCount - 1),
      gapRepairs, transport: this.#transport,
    };
  }

  /**
   * Listens to connection states: `{state, retryInSeconds, attempt, reason}` on every change.
   * @param {(change: {state: string, retryInSeconds: number|null, attempt: number, reason: string|null}) => void} listener
   * @returns {() => void} unsubscribe
   */
  onState(listener) {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Listens to fatal problems `{kind, message}`; after one the client stops ('failed').
   * @param {(problem: {kind: string, message: string}) => void} listener
   * @returns {() => void} unsubscribe
   */
  onFatal(listener) {
    this.#fatalListeners.add(listener);
    return () => this.#fatalListeners.delete(listener);
  }

  /**
   * Follows a plan: every event once, in seq order, from after `lastEventId`.
   * Subscribing a plan again replaces its subscription.
   * @param {string} planId
   * @param {object} handlers
   * @param {string|null} [handlers.lastEventId]
   * @param {(event: object) => void} handlers.onEvent
   * @param {(resync: {reason: string, snapshot: object}) => void} [handlers.onResync]
   * @param {(error: {code: string, message: string}) => void} [handlers.onError]
   * @returns {{unsubscribe: () => void}}
   */
  subscribe(planId, { lastEventId = null, onEvent, onResync, onError } = {}) {
    if (this.#over) throw new Error(`the stream client is ${this.state}`);
    const subscription = { planId, onEvent, onResync, onError };
    this.#stopPoller(planId);
    this.#subscriptions.set(planId, subscription);
    this.#sequencer.track(planId, { lastEventId });
    if (!this.#started) {
      this.#started = true;
      this.#connect();
    } else if (this.#socket?.ready) {
      this.#sendSubscribe(planId);
    } else if (this.#transport === 'polling') {
      this.#startPoller(planId);
    }
    return { unsubscribe: () => this.#unsubscribe(subscription) };
  }

  /** Ends everything: socket closed (1000), timers cleared, requests aborted; state 'closed'. */
  close() {
    if (this.#over) return;
    this.#teardown();
    this.#setState('closed');
  }

  // --- the WebSocket ---------------------------------------------------------

  #connect() {
    this.#retryTimer = null;
    if (this.#over) return;
    if (this.#transport !== 'polling') this.#setState('connecting', { attempt: this.#schedule.attempt });
    this.#socket = new StreamSocket({
      url: this.#streamUrl,
      token: this.#token,
      helloTimeoutS: this.#helloTimeoutS,
      onHello: () => this.#helloed(),
      onFrame: (frame) => this.#received(frame),
      onEnd: (end) => this.#socketEnded(end),
    });
  }

  #helloed() {
    this.#helloCount += 1;
    this.#blockedInARow = 0;
    for (const planId of [...this.#pollers.keys()]) this.#stopPoller(planId);
    this.#transport = 'websocket';
    this.#setState('connected');
    clearTimeout(this.#healthyTimer);
    // protocol §4: the attempt counter resets once the connection stayed healthy
    this.#healthyTimer = setTimeout(() => this.#schedule.reset(), this.#healthyAfterS * 1000);
    // protocol §3: resume every plan from its last delivered event_id
    for (const planId of this.#subscriptions.keys()) this.#sendSubscribe(planId);
  }

  #sendSubscribe(planId) {
    this.#requestId += 1;
    const { eventId } = this.#sequencer.position(planId);
    this.#socket.send({ type: 'subscribe', id: this.#requestId, plan_id: planId, last_event_id: eventId });
    this.#sequencer.subscribing(planId, now());
    this.#scheduleTick();
  }

  #received(frame) {
    const sequencer = this.#sequencer;
    switch (frame.type) {
      case 'event':
        this.#deliver(sequencer.onEvent(frame, now()));
        break;
      case 'batch':
        for (const event of Array.isArray(frame.events) ? frame.events : []) {
          this.#deliver(sequencer.onEvent(event, now()));
        }
        break;
      case 'subscribed':
        this.#deliver(sequencer.onSubscribed(frame.plan_id, frame.head ?? null, now()));
        break;
      case 'resync':
        this.#deliver(sequencer.onResync(frame.plan_id, frame.reason, frame.snapshot));
        break;
      case 'heartbeat':
        this.#deliver(sequencer.onHeartbeat(frame.heads ?? {}, now()));
        break;
      case 'error':
        // protocol §3: an error tied to a plan fails that subscription only
        if (frame.plan_id && this.#subscriptions.has(frame.plan_id)) {
          this.#failSubscription(frame.plan_id, { code: frame.code, message: frame.message });
        }
        break;
      default:
        break; // unsubscribed, pong, and frame types of later minors
    }
    this.#scheduleTick();
  }

  #socketEnded(end) {
    this.#socket = null;
    clearTimeout(this.#healthyTimer);
    if (this.#over) return;
    if (end.fatal) {
      this.#fail(end.fatal.kind, end.fatal.message);
      return;
    }
    if (end.helloSeen || end.code !== 1006) {
      const verdict = end.dead ? { action: 'retry', retryAfter: null } : closeVerdict(end.code, end.reason);
      if (verdict.action === 'fatal') {
        this.#fail(verdict.kind, verdict.message);
      } else {
        this.#reconnectLater(verdict.retryAfter, end.dead ? 'dead link' : `closed ${end.code}`);
      }
      return;
    }
    if (this.#transport === 'polling') {
      this.#reconnectLater(null, 'websocket still blocked');
      return;
    }
    this.#askWhyRefused();
  }

  /** The socket closed before its hello: the HTTP API tells why (refusal_probe.js). */
  async #askWhyRefused() {
    this.#probe = new AbortController();
    const { cause, retryAfter, detail } = await diagnoseRefusal(this.#api, this.#probe.signal);
    this.#probe = null;
    if (this.#over || cause === 'aborted') return;
    if (cause === 'unauthorized') {
      this.#fail('unauthorized', 'The token was refused by the server. Enter another token.');
    } else if (cause === 'forbidden') {
      this.#fail('forbidden', 'This token may not read plans.');
    } else if (cause === 'down') {
      this.#blockedInARow = 0;
      this.#reconnectLater(retryAfter, detail);
    } else if (++this.#blockedInARow >= BLOCKED_BEFORE_POLLING) {
      this.#startPolling();
    } else {
      this.#reconnectLater(null, detail);
    }
  }

  #reconnectLater(retryAfter, reason) {
    if (this.#over) return;
    const delay = this.#schedule.nextDelay(retryAfter);
    if (this.#transport === 'polling') {
      this.#setState('polling', { reason });
    } else {
      this.#setState('reconnecting', { retryInSeconds: delay, attempt: this.#schedule.attempt, reason });
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay * 1000);
  }

  // --- the polling fallback ---------------------------------------------------

  #startPolling() {
    this.#transport = 'polling';
    for (const planId of this.#subscriptions.keys()) this.#startPoller(planId);
    this.#reconnectLater(null, 'websocket blocked');
  }

  #startPoller(planId) {
    const poller = new PlanPoller({
      api: this.#api,
      planId,
      after: () => this.#sequencer.position(planId).eventId,
      wait: this.#pollWait,
      backoff: this.#backoff,
      random: this.#random,
      onAnswer: (body) => this.#polled(planId, body),
      onFailure: (error) => this.#pollFailed(planId, error),
    });
    this.#pollers.set(planId, poller);
    poller.start();
  }

  #stopPoller(planId) {
    this.#pollers.get(planId)?.stop();
    this.#pollers.delete(planId);
  }

  #polled(planId, body) {
    if (!this.#subscriptions.has(planId)) return;
    const sequencer = this.#sequencer;
    if (body.resync) {
      this.#deliver(sequencer.onResync(planId, body.resync.reason, body.resync.snapshot));
    } else {
      // a poll answer is a fresh subscription from our position (its head as in `subscribed`)
      this.#deliver(sequencer.onSubscribed(planId, body.head ?? null, now()));
      for (const event of Array.isArray(body.events) ? body.events : []) {
        this.#deliver(sequencer.onEvent(event, now()));
      }
    }
    this.#scheduleTick();
  }

  #pollFailed(planId, error) {
    const verdict = pollFailureVerdict(error);
    if (verdict === 'unauthorized') this.#fail('unauthorized', 'The token was refused by the server. Enter another token.');
    if (verdict === 'subscription') this.#failSubscription(planId, { code: error.code, message: error.message });
    return verdict === 'retry';
  }

  // --- delivery and repairs -----------------------------------------------------

  #deliver(output) {
    for (const event of output.events) callBack(this.#subscriptions.get(event.plan_id)?.onEvent, event);
    if (output.resync !== null) {
      const { planId, reason, snapshot } = output.resync;
      callBack(this.#subscriptions.get(planId)?.onResync, { reason, snapshot });
    }
    // Over the WebSocket a repair is a re-subscribe from the last event_id; a
    // poller already asks from there with its next request.
    for (const planId of output.repairs) {
      if (this.#socket?.ready && this.#transport === 'websocket') this.#sendSubscribe(planId);
    }
  }

  /** One timer for the sequencer's earliest deadline (gap or unanswered repair). */
  #scheduleTick() {
    clearTimeout(this.#tickTimer);
    this.#tickTimer = null;
    const deadline = this.#sequencer.nextDeadline();
    if (deadline === null || this.#over) return;
    this.#tickTimer = setTimeout(() => {
      this.#tickTimer = null;
      this.#deliver(this.#sequencer.tick(now()));
      this.#scheduleTick();
    }, Math.max(0, (deadline - now()) * 1000) + 1);
  }

  #unsubscribe(subscription) {
    const { planId } = subscription;
    if (this.#subscriptions.get(planId) !== subscription) return;
    this.#subscriptions.delete(planId);
    this.#sequencer.untrack(planId);
    this.#stopPoller(planId);
    if (this.#socket?.ready) {
      this.#requestId += 1;
      this.#socket.send({ type: 'unsubscribe', id: this.#requestId, plan_id: planId });
    }
    this.#scheduleTick();
  }

  #failSubscription(planId, error) {
    const subscription = this.#subscriptions.get(planId);
    this.#subscriptions.delete(planId);
    this.#sequencer.untrack(planId);
    this.#stopPoller(planId);
    this.#scheduleTick();
    callBack(subscription?.onError, error);
  }

  // --- the end --------------------------------------------------------------------

  #fail(kind, message) {
    if (this.#over) return;
    this.#teardown();
    this.#setState('failed', { reason: kind });
    for (const listener of [...this.#fatalListeners]) callBack(listener, { kind, message });
  }

  #teardown() {
    this.#over = true;
    this.#socket?.close(1000, 'client closed');
    this.#socket = null;
    this.#probe?.abort();
    for (const planId of [...this.#pollers.keys()]) this.#stopPoller(planId);
    for (const timer of [this.#retryTimer, this.#healthyTimer, this.#tickTimer]) clearTimeout(timer);
    this.#retryTimer = this.#healthyTimer = this.#tickTimer = null;
  }

  #setState(state, { retryInSeconds = null, attempt = this.#schedule.attempt, reason = null } = {}) {
    const previous = this.#state;
    if (previous.state === state && previous.retryInSeconds === retryInSeconds && previous.reason === reason) return;
    this.#state = Object.freeze({ state, retryInSeconds, attempt, reason });
    for (const listener of [...this.#stateListeners]) callBack(listener, this.#state);
  }
}
