/**
 * `#connection-state`: the stream client's state as a badge in the header.
 *
 * While the client waits to reconnect the badge counts the chosen backoff
 * delay down once per second (`reconnecting in 3 s`); every other state is
 * shown as it is. One timer at most, stopped on the next state.
 */
import { setText } from '../dom.js';

const LABELS = {
  connecting: 'connecting…',
  connected: 'connected',
  polling: 'polling',
  failed: 'failed',
  closed: 'not connected',
};

/** A badge bound to the header's `#connection-state` element. */
export class ConnectionBadge {
  /** @param {HTMLElement} element the `#connection-state` element */
  constructor(element) {
    this.element = element;
    this.state = element.dataset.state || 'closed';
    this.timer = null;
    this.retryAt = 0;
  }

  /**
   * Show a state of the client (the argument of its `onState` listener).
   * @param {{state: string, retryInSeconds?: number|null}} change
   */
  update({ state, retryInSeconds = null }) {
    this.stopCountdown();
    this.state = state;
    this.element.dataset.state = state;
    if (state === 'reconnecting') {
      this.retryAt = Date.now() + Math.max(0, retryInSeconds ?? 0) * 1000;
      this.tick();
      return;
    }
    setText(this.element, LABELS[state] ?? state);
  }

  /** @returns {string} the state shown */
  current() {
    return this.state;
  }

  /** Stop the countdown (the page is being rebuilt). */
  stopCountdown() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  tick() {
    const remainingMillis = this.retryAt - Date.now();
    const seconds = Math.max(0, Math.ceil(remainingMillis / 1000));
    setText(this.element, seconds > 0 ? `reconnecting in ${seconds} s` : 'reconnecting…');
    if (seconds > 0) {
      // Wake at the next whole second of the countdown, not in a short loop.
      const untilNextSecond = remainingMillis - (seconds - 1) * 1000;
      this.timer = setTimeout(() => this.tick(), Math.max(50, untilNextSecond));
    } else {
      this.timer = null;
    }
  }
}
