/**
 * Reconnect delays (pure): exponential backoff with full jitter (protocol §4).
 *
 * `delay = random() * min(max, initial * factor ** attempt)`; the schedule only
 * computes, the caller sleeps. Randomness is a function returning [0, 1)
 * (Math.random in the page, a seeded generator in tests).
 * @module protocol/backoff
 */

/** Protocol §4's default policy. */
export const DEFAULT_BACKOFF = Object.freeze({ initial: 0.5, factor: 2, max: 30 });

/** The longest server `retry_after` hint honoured, seconds. */
export const MAX_RETRY_AFTER = 300;

/**
 * The un-jittered delay of `attempt` (0-based), capped at `policy.max`.
 * @param {{initial: number, factor: number, max: number}} policy
 * @param {number} attempt
 * @returns {number} seconds
 */
export function backoffCurve(policy, attempt) {
  let delay = policy.initial;
  for (let i = 0; i < attempt; i += 1) {
    delay *= policy.factor;
    if (delay >= policy.max) return policy.max;
  }
  return Math.min(delay, policy.max);
}

/**
 * Checks a policy and fills the defaults.
 * @param {{initial?: number, factor?: number, max?: number}} [policy]
 * @returns {{initial: number, factor: number, max: number}}
 */
export function normalizeBackoff(policy = {}) {
  const merged = { ...DEFAULT_BACKOFF, ...policy };
  if (!(merged.initial > 0)) throw new RangeError('backoff.initial must be positive');
  if (!(merged.factor >= 1)) throw new RangeError('backoff.factor must be at least 1');
  if (!(merged.max >= merged.initial)) throw new RangeError('backoff.max must be at least backoff.initial');
  return Object.freeze(merged);
}

/** The delays of one run of reconnect attempts; `reset()` once a connection proved healthy. */
export class BackoffSchedule {
  /**
   * @param {{initial?: number, factor?: number, max?: number}} policy
   * @param {() => number} random - returns a float in [0, 1)
   */
  constructor(policy, random) {
    this.policy = normalizeBackoff(policy);
    this.random = random;
    /** Failed attempts since the last reset. */
    this.attempt = 0;
  }

  /** Forget past failures (protocol §4: the connection stayed healthy for a while). */
  reset() {
    this.attempt = 0;
  }

  /**
   * The delay before the next attempt (full jitter); a server `retry_after`
   * hint is a lower bound, itself capped at {@link MAX_RETRY_AFTER}.
   * @param {number|null} [retryAfter] - seconds, from a 4029/1013 close reason
   * @returns {number} seconds
   */
  nextDelay(retryAfter = null) {
    let delay = this.random() * backoffCurve(this.policy, this.attempt);
    this.attempt += 1;
    if (typeof retryAfter === 'number' && retryAfter > 0) {
      delay = Math.max(delay, Math.min(retryAfter, MAX_RETRY_AFTER));
    }
    return delay;
  }
}
