/**
 * The live log tail of the plan page (`#log-tail`).
 *
 * * Bounded: at most MAX_LOG_ROWS `.log-row`s; the oldest are dropped first
 *   and counted in `#log-dropped`.
 * * Level filter (`#log-level-filter`): the minimum level shown. Hiding is
 *   done by CSS from the container's `data-min-level`, so a change touches no
 *   row and every row stays in the DOM (the bound counts all of them).
 * * Auto-scroll: on while the view is at the bottom; scrolling up pauses it
 *   (`data-autoscroll="false"`) and shows `#log-follow` ("jump to latest").
 * * Rows are added in one batch per animation frame, however fast events come.
 */
import { el, setText } from '../dom.js';
import { formatClock } from './format.js';

/** The most log rows kept in the page. */
export const MAX_LOG_ROWS = 1000;
/** Log levels, lowest first (protocol §5). */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'];
/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK_PX = 24;

/** The log tail section: filter, scroll container, follow button, dropped count. */
export class LogTail {
  constructor() {
    this.rowCount = 0;
    this.dropped = 0;
    this.autoscroll = true;
    this.pending = []; // {event} (a log line) or {resync: reason}, oldest first
    this.pendingLogs = 0;
    this.frame = null;

    this.filter = el(
      'select',
      { attrs: { id: 'log-level-filter', 'aria-label': 'lowest log level shown' } },
      ...LOG_LEVELS.map((level) => el('option', { attrs: { value: level } }, level)),
    );
    this.filter.addEventListener('change', () => this.setMinimumLevel(this.filter.value));
    this.follow = el(
      'button',
      { className: 'follow', attrs: { id: 'log-follow', type: 'button', hidden: true } },
      '↓ jump to latest',
    );
    this.follow.addEventListener('click', () => this.resumeFollowing());
    this.droppedNote = el('span', {
      className: 'log-dropped',
      attrs: { id: 'log-dropped', hidden: true },
      dataset: { count: 0 },
    });
    this.container = el('div', {
      className: 'log-tail',
      attrs: { id: 'log-tail', tabindex: '0', role: 'log', 'aria-live': 'off' },
      dataset: { autoscroll: 'true', minLevel: 'debug' },
    });
    this.container.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.element = el(
      'section',
      { className: 'panel log-panel', attrs: { 'aria-label': 'log' } },
      el(
        'div',
        { className: 'panel-head' },
        el('h2', {}, 'Log'),
        el('span', { className: 'spacer' }),
        this.droppedNote,
        el('label', { className: 'inline-label', attrs: { for: 'log-level-filter' } }, 'level ≥'),
        this.filter,
      ),
      el('div', { className: 'log-frame' }, this.container, this.follow),
    );
  }

  /**
   * Queue one `log` event (protocol §5) for display. Rows are built when
   * shown; the queue itself is bounded (a hidden tab runs no animation frames).
   * @param {{seq: number, ts: string, data: {level: string, message: string,
   *          step_id: string|null, stream: string}}} event
   */
  addLog(event) {
    this.pending.push({ event });
    this.pendingLogs += 1;
    if (this.pendingLogs > MAX_LOG_ROWS) this.dropOldestPending();
    this.schedule();
  }

  /**
   * Queue a resync marker: the history before it is lost (protocol §3).
   * @param {string} reason history_expired | unknown_event_id | stream_reset
   */
  addResync(reason) {
    this.pending.push({ resync: reason });
    this.schedule();
  }

  /** @param {string} level the lowest level shown */
  setMinimumLevel(level) {
    this.container.dataset.minLevel = LOG_LEVELS.includes(level) ? level : 'debug';
    if (this.filter.value !== level) this.filter.value = level;
    if (this.autoscroll) this.scrollToBottom();
  }

  /** Stop pending work (the view unmounts). */
  destroy() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.pending = [];
    this.pendingLogs = 0;
  }

  schedule() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Add the queued rows, apply the bound, scroll if following. */
  flush() {
    this.frame = null;
    if (this.pending.length === 0) return;
    const queued = this.pending;
    this.pending = [];
    this.pendingLogs = 0;
    const fragment = document.createDocumentFragment();
    for (const item of queued) {
      if (item.event) {
        fragment.append(logRow(item.event));
        this.rowCount += 1;
      } else {
        fragment.append(resyncRow(item.resync));
      }
    }
    this.container.append(fragment);
    this.trim();
    if (this.autoscroll) this.scrollToBottom();
  }

  /** Forget the oldest queued line (and any marker before it): it would be dropped anyway. */
  dropOldestPending() {
    while (this.pending.length > 0) {
      const item = this.pending.shift();
      if (item.event) {
        this.pendingLogs -= 1;
        this.dropped += 1;
        return;
      }
    }
  }

  /** Drop the oldest rows beyond the bound (resync markers before them go too, uncounted). */
  trim() {
    while (this.rowCount > MAX_LOG_ROWS) {
      const oldest = this.container.firstElementChild;
      if (!oldest) break;
      if (oldest.classList.contains('log-row')) {
        this.rowCount -= 1;
        this.dropped += 1;
      }
      oldest.remove();
    }
    if (this.dropped > 0) {
      this.droppedNote.hidden = false;
      this.droppedNote.dataset.count = String(this.dropped);
      setText(
        this.droppedNote,
        `${this.dropped} older ${this.dropped === 1 ? 'line' : 'lines'} dropped (last ${MAX_LOG_ROWS} kept)`,
      );
    }
  }

  isAtBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.container;
    return scrollHeight - clientHeight - scrollTop <= BOTTOM_SLACK_PX;
  }

  onScroll() {
    this.setAutoscroll(this.isAtBottom());
  }

  setAutoscroll(on) {
    if (this.autoscroll === on) return;
    this.autoscroll = on;
    this.container.dataset.autoscroll = String(on);
    this.follow.hidden = on;
  }

  scrollToBottom() {
    this.container.scrollTop = this.container.scrollHeight;
  }

  resumeFollowing() {
    this.setAutoscroll(true);
    this.scrollToBottom();
  }
}

/** The row of one log line: time, level, step, message (all text). */
function logRow(event) {
  const { level, message, step_id: stepId, stream } = event.data;
  const shownLevel = LOG_LEVELS.includes(level) ? level : 'info';
  return el(
    'div',
    { className: 'log-row', dataset: { seq: event.seq, level: shownLevel, stream: stream ?? '' } },
    el('span', { className: 'log-time' }, formatClock(event.ts)),
    el('span', { className: 'log-level' }, level),
    stepId ? el('span', { className: 'log-step' }, stepId) : null,
    el('span', { className: 'log-message' }, message),
  );
}

/** The marker of a resync: the history before it is not available. */
function resyncRow(reason) {
  return el(
    'div',
    { className: 'log-resync', dataset: { reason } },
    `history before this point is not available: ${reason}`,
  );
}
