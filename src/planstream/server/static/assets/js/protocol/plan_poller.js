/**
 * The HTTP long-polling fallback for one plan (protocol §6): one request in
 * flight, `after` = the last delivered event_id (asked of the owner before each
 * request), backoff on errors, `X-Poll-Interval` honoured between answers.
 * It parses nothing itself: answers go to `onAnswer`, the owner sequences them.
 * @module protocol/plan_poller
 */

import { BackoffSchedule } from './backoff.js';
import { ApiError } from './http.js';

/**
 * What a failed poll means: 'unauthorized' (401: the token, fatal for the
 * client), 'subscription' (400/403/404: this plan only) or 'retry' (the
 * network, the server: back off and poll again).
 * @param {unknown} error
 * @returns {'unauthorized'|'subscription'|'retry'}
 */
export function pollFailureVerdict(error) {
  if (!(error instanceof ApiError)) {
    reportError(error); // a bug (e.g. in a callback), not the server's answer
    return 'retry';
  }
  if (error.status === 401) return 'unauthorized';
  if (error.status === 400 || error.status === 403 || error.status === 404) return 'subscription';
  return 'retry';
}

/** Long-polls one plan until `stop()`. */
export class PlanPoller {
  /**
   * @param {object} options
   * @param {import('./http.js').PlanApi} options.api
   * @param {string} options.planId
   * @param {() => (string|null)} options.after - the event_id to poll after
   * @param {number} options.wait - seconds the server may hold a request
   * @param {object} options.backoff - delays between failed requests
   * @param {() => number} options.random
   * @param {(body: object) => void} options.onAnswer - a 200 answer
   * @param {(error: import('./http.js').ApiError) => boolean} options.onFailure -
   *   a failed request; return true to go on polling (after a backoff), false to stop
   */
  constructor({ api, planId, after, wait, backoff, random, onAnswer, onFailure }) {
    Object.assign(this, { api, planId, after, wait, onAnswer, onFailure });
    this.failures = new BackoffSchedule(backoff, random);
    this.controller = new AbortController();
    this.stopped = false;
    this.pause = null;
  }

  /** Starts the loop (returns at once). */
  start() {
    this.#run();
  }

  /** Ends the loop: the request in flight is aborted, a pending pause cleared. */
  stop() {
    this.stopped = true;
    this.controller.abort();
    if (this.pause !== null) {
      clearTimeout(this.pause.timer);
      this.pause.resolve();
      this.pause = null;
    }
  }

  async #run() {
    while (!this.stopped) {
      let pauseS;
      try {
        const { body, pollInterval } = await this.api.pollEvents(this.planId, {
          after: this.after(), limit: 500, wait: this.wait, signal: this.controller.signal,
        });
        if (this.stopped) return;
        this.failures.reset();
        this.onAnswer(body);
        pauseS = pollInterval;
      } catch (error) {
        if (this.stopped) return;
        if (!this.onFailure(error)) {
          this.stopped = true;
          return;
        }
        pauseS = this.failures.nextDelay(error.retryAfter ?? null);
      }
      if (pauseS > 0 && !this.stopped) await this.#sleep(pauseS);
    }
  }

  #sleep(seconds) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pause = null;
        resolve();
      }, seconds * 1000);
      this.pause = { timer, resolve };
    });
  }
}
