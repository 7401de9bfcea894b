/**
 * The step table of the plan page (`#step-table`): one row per step, ordered
 * by index, with its status (coloured by CSS from `data-status`), duration and
 * error.
 *
 * Durations come from the `ts` of `step.status` events: the first `running`
 * to the first finished status (succeeded, failed, skipped). A step still
 * running shows its elapsed time; a step whose start was not seen (e.g. only
 * known from a resync snapshot) shows `—`.
 */
import { el, setText } from '../dom.js';
import { FINISHED_STEP_STATUSES, formatDuration, parseTime } from './format.js';

/** Start and end times of the steps of one plan, from their events. */
export class StepTimes {
  constructor() {
    /** @type {Map<string, {startedAt: number|null, endedAt: number|null}>} */
    this.times = new Map();
  }

  /**
   * Note the time of one `step.status` event.
   * @param {{ts: string, data: {step_id: string, status: string}}} event
   */
  note(event) {
    const at = parseTime(event.ts);
    const times = this.times.get(event.data.step_id) ?? { startedAt: null, endedAt: null };
    if (event.data.status === 'running') {
      // A step run again (a retry) starts a new timing.
      if (times.startedAt === null || times.endedAt !== null) {
        times.startedAt = at;
        times.endedAt = null;
      }
    } else if (FINISHED_STEP_STATUSES.has(event.data.status)) {
      if (times.endedAt === null) times.endedAt = at;
    } else {
      times.startedAt = null;
      times.endedAt = null;
    }
    this.times.set(event.data.step_id, times);
  }

  /** Forget every time (the history was lost: a resync). */
  clear() {
    this.times.clear();
  }

  /**
   * The duration text of a step: finished, running (elapsed) or unknown.
   * @param {{step_id: string, status: string}} step
   * @param {number} nowMillis
   * @returns {string}
   */
  durationText(step, nowMillis) {
    const times = this.times.get(step.step_id);
    if (!times || times.startedAt === null) return '—';
    if (step.status === 'running') return formatDuration((nowMillis - times.startedAt) / 1000);
    if (times.endedAt === null) return '—';
    return formatDuration((times.endedAt - times.startedAt) / 1000);
  }
}

/** The table itself; rows are kept by step id and updated in place. */
export class StepTable {
  constructor() {
    this.body = el('tbody');
    this.rows = new Map();
    this.empty = el(
      'p',
      { className: 'empty', attrs: { id: 'step-table-empty' } },
      'No step reported yet.',
    );
    this.element = el(
      'section',
      { className: 'panel', attrs: { 'aria-label': 'steps' } },
      el('div', { className: 'panel-head' }, el('h2', {}, 'Steps')),
      el(
        'div',
        { className: 'table-scroll' },
        el(
          'table',
          { className: 'data-table step-table', attrs: { id: 'step-table' } },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { className: 'num', attrs: { scope: 'col' } }, '#'),
              el('th', { attrs: { scope: 'col' } }, 'Step'),
              el('th', { attrs: { scope: 'col' } }, 'Status'),
              el('th', { className: 'num', attrs: { scope: 'col' } }, 'Duration'),
              el('th', { attrs: { scope: 'col' } }, 'Error'),
            ),
          ),
          this.body,
        ),
      ),
      this.empty,
    );
  }

  /**
   * Show the steps of a plan state.
   * @param {Array<{step_id: string, index: number, name: string, status: string,
   *                error: string|null}>} steps ordered by index
   * @param {StepTimes} times
   * @param {number} nowMillis
   */
  render(steps, times, nowMillis) {
    const seen = new Set();
    const ordered = steps.map((step) => {
      seen.add(step.step_id);
      let row = this.rows.get(step.step_id);
      if (!row) {
        row = el(
          'tr',
          { dataset: { stepId: step.step_id } },
          el('td', { className: 'step-index num' }),
          el('td', { className: 'step-name' }),
          el('td', { className: 'step-status' }, el('span', { className: 'status-pill' })),
          el('td', { className: 'step-duration num' }),
          el('td', { className: 'step-error' }),
        );
        this.rows.set(step.step_id, row);
      }
      const [index, name, status, duration, error] = row.children;
      setText(index, step.index);
      setText(name, step.name);
      status.dataset.status = step.status;
      status.firstElementChild.dataset.status = step.status;
      setText(status.firstElementChild, step.status);
      setText(duration, times.durationText(step, nowMillis));
      setText(error, step.error ?? '');
      row.dataset.status = step.status;
      return row;
    });
    for (const [stepId, row] of this.rows) {
      if (!seen.has(stepId)) {
        row.remove();
        this.rows.delete(stepId);
      }
    }
    const current = [...this.body.children];
    if (current.length !== ordered.length || current.some((row, i) => row !== ordered[i])) {
      this.body.replaceChildren(...ordered);
    }
    this.empty.hidden = ordered.length > 0;
  }
}
