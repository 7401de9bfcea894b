/**
 * The plan list (`#/`): a page of plans at a time, live status and progress.
 *
 * * Pages: `GET /v1/plans` 20 at a time; `#next-page` follows `next_cursor`,
 *   `#prev-page` pops a stack of the cursors already followed.
 * * Each shown plan: its snapshot (for the progress), then a subscription from
 *   the snapshot's head, folded with plan_state.js, so status and progress
 *   stay live. Rows are kept by plan id across refreshes.
 * * The protocol pushes no "plan created" event: the current page is read
 *   again every REFRESH_MS while the view is mounted.
 * * `#status-filter` filters the rows of the loaded page (said in a hint).
 */
import { el, setText } from '../dom.js';
import { applyEvent, emptyPlanState, stateFromSnapshot } from '../protocol/plan_state.js';
import { formatAge, formatStepCount, progressPercent } from './format.js';

/** Plans per page. */
export const PAGE_SIZE = 20;
/** How often the current page is read again (ms). */
export const REFRESH_MS = 10_000;
/** The choices of `#status-filter`. */
export const STATUS_FILTERS = ['all', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];

/** One row: one plan's state, kept live by its own subscription. */
class PlanRow {
  constructor(entry, { api, client }) {
    this.planId = entry.plan_id;
    this.api = api;
    this.client = client;
    this.onChange = () => {};
    this.state = { ...emptyPlanState(entry.plan_id), status: entry.status, head: entry.head, updated_at: entry.updated_at };
    this.subscription = null;
    this.destroyed = false;
    this.link = el('a', { attrs: { href: `#/plans/${encodeURIComponent(entry.plan_id)}` } }, entry.plan_id);
    this.status = el('span', { className: 'status-pill' });
    this.progressBar = el('progress', { attrs: { max: '100', value: '0' } });
    this.progressText = el('span', { className: 'progress-count' });
    this.updated = el('td', { className: 'plan-updated' });
    this.element = el(
      'tr',
      { dataset: { planId: entry.plan_id } },
      el('td', { className: 'plan-id' }, this.link),
      el('td', { className: 'plan-status' }, this.status),
      el('td', { className: 'plan-progress num' }, this.progressText),
      el('td', { className: 'plan-progress-bar' }, this.progressBar),
      this.updated,
    );
    this.render();
  }

  /** Read the snapshot (progress), then follow the plan from its head. */
  async start() {
    try {
      const snapshot = await this.api.snapshot(this.planId);
      if (this.destroyed) return;
      if (!this.state.head || (snapshot.head && snapshot.head.seq >= this.state.head.seq)) {
        this.state = stateFromSnapshot(snapshot);
      }
    } catch {
      // A plan forgotten since the list was read: the row keeps the list's data.
      if (this.destroyed) return;
    }
    this.render();
    if (this.destroyed) return;
    try {
      this.subscribe();
    } catch {
      // The client stopped on a fatal problem (shown in the banner): the row stays as read.
      this.subscription = null;
    }
  }

  subscribe() {
    this.subscription = this.client.subscribe(this.planId, {
      lastEventId: this.state.head?.event_id ?? null,
      onEvent: (event) => {
        this.state = applyEvent(this.state, event);
        this.render();
      },
      onResync: ({ snapshot }) => {
        this.state = stateFromSnapshot(snapshot);
        this.render();
      },
      onError: () => {
        // The row keeps what it showed; the plan page explains subscription errors.
        this.subscription = null;
      },
    });
  }

  render(nowMillis = Date.now()) {
    const { status, progress, updated_at: updatedAt } = this.state;
    const shown = status ?? 'none';
    this.element.dataset.status = shown;
    this.element.querySelector('.plan-status').dataset.status = shown;
    this.status.dataset.status = shown;
    setText(this.status, status ?? '—');
    setText(this.progressText, formatStepCount(progress));
    this.progressBar.value = progressPercent(progress);
    this.progressBar.dataset.status = shown;
    setText(this.updated, formatAge(updatedAt, nowMillis));
    this.onChange();
  }

  destroy() {
    this.destroyed = true;
    this.subscription?.unsubscribe();
    this.subscription = null;
  }
}

/** The list view. */
export class PlanList {
  /**
   * @param {{api: import('../protocol/http.js').PlanApi,
   *          client: import('../protocol/stream_client.js').StreamClient,
   *          onApiError: (error: Error) => boolean}} options
   *   `onApiError` returns true when it handled the error (e.g. asked for a token)
   */
  constructor({ api, client, onApiError }) {
    this.api = api;
    this.client = client;
    this.onApiError = onApiError;
    this.cursors = [null]; // the cursor of each page followed; the last is the current page
    this.nextCursor = null;
    this.rows = new Map();
    this.order = [];
    this.loadNumber = 0;
    this.timer = null;
    this.mounted = false;

    this.filter = el(
      'select',
      { attrs: { id: 'status-filter', 'aria-label': 'status' } },
      ...STATUS_FILTERS.map((status) => el('option', { attrs: { value: status } }, status)),
    );
    this.filter.addEventListener('change', () => this.placeRows());
    this.body = el('tbody');
    this.emptyNote = el('p', { className: 'empty', attrs: { id: 'plan-list-empty', hidden: true } });
    this.error = el('p', { className: 'inline-error', attrs: { id: 'plan-list-error', hidden: true } });
    this.prev = el('button', { attrs: { id: 'prev-page', type: 'button', disabled: true } }, '← previous');
    this.next = el('button', { attrs: { id: 'next-page', type: 'button', disabled: true } }, 'next →');
    this.pageInfo = el('span', { className: 'page-info', attrs: { id: 'page-info' } });
    this.prev.addEventListener('click', () => this.previousPage());
    this.next.addEventListener('click', () => this.nextPage());
    this.element = el(
      'section',
      { className: 'plan-list-view' },
      el(
        'div',
        { className: 'view-head' },
        el('h1', {}, 'Plans'),
        el('span', { className: 'spacer' }),
        el('label', { className: 'inline-label', attrs: { for: 'status-filter' } }, 'status'),
        this.filter,
      ),
      el('p', { className: 'hint' }, 'The status filter applies to the plans of the page shown.'),
      this.error,
      el(
        'section',
        { className: 'panel' },
        el(
          'div',
          { className: 'table-scroll' },
          el(
            'table',
            { className: 'data-table plan-table', attrs: { id: 'plan-list' } },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                el('th', { attrs: { scope: 'col' } }, 'Plan'),
                el('th', { attrs: { scope: 'col' } }, 'Status'),
                el('th', { className: 'num', attrs: { scope: 'col' } }, 'Steps'),
                el('th', { attrs: { scope: 'col' } }, 'Progress'),
                el('th', { attrs: { scope: 'col' } }, 'Last event'),
              ),
            ),
            this.body,
          ),
        ),
        this.emptyNote,
      ),
      el('div', { className: 'pager' }, this.prev, this.pageInfo, this.next),
    );
  }

  mount() {
    this.mounted = true;
    this.load();
  }

  unmount() {
    this.mounted = false;
    this.loadNumber += 1;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const row of this.rows.values()) row.destroy();
    this.rows.clear();
  }

  nextPage() {
    if (this.nextCursor === null) return;
    this.cursors.push(this.nextCursor);
    this.load({ newPage: true });
  }

  previousPage() {
    if (this.cursors.length < 2) return;
    this.cursors.pop();
    this.load({ newPage: true });
  }

  /** Read the current page; keep the rows of plans still on it. */
  async load({ newPage = false } = {}) {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const number = ++this.loadNumber;
    if (newPage) {
      this.prev.disabled = true;
      this.next.disabled = true;
    }
    const cursor = this.cursors[this.cursors.length - 1];
    let retry = true;
    try {
      const page = await this.api.listPlans({ limit: PAGE_SIZE, cursor });
      if (number !== this.loadNumber) return; // a newer load or an unmount won
      this.error.hidden = true;
      this.nextCursor = page.next_cursor ?? null;
      this.showPage(page.plans);
    } catch (error) {
      if (number !== this.loadNumber) return;
      if (this.onApiError(error)) {
        // A token problem: the page asks for a token and mounts the list again with it.
        retry = false;
      } else {
        this.error.hidden = false;
        setText(this.error, `The plans cannot be read right now (${error.message || error}). Retrying…`);
      }
    } finally {
      if (retry && number === this.loadNumber && this.mounted) {
        this.timer = setTimeout(() => this.load(), REFRESH_MS);
      }
    }
  }

  showPage(plans) {
    const wanted = new Set(plans.map((entry) => entry.plan_id));
    for (const [planId, row] of this.rows) {
      if (!wanted.has(planId)) {
        row.destroy();
        this.rows.delete(planId);
      }
    }
    const now = Date.now();
    for (const entry of plans) {
      let row = this.rows.get(entry.plan_id);
      if (!row) {
        row = new PlanRow(entry, { api: this.api, client: this.client });
        row.onChange = () => this.placeRows();
        this.rows.set(entry.plan_id, row);
        row.start();
      } else {
        row.render(now); // refresh the "last event" age
      }
    }
    this.order = plans.map((entry) => entry.plan_id);
    const pageNumber = this.cursors.length;
    this.prev.disabled = pageNumber < 2;
    this.next.disabled = this.nextCursor === null;
    this.placeRows();
  }

  /** Put the rows matching the filter in page order; say when none is shown. */
  placeRows() {
    const wanted = this.filter.value;
    const shown = this.order
      .map((planId) => this.rows.get(planId))
      .filter((row) => row && (wanted === 'all' || row.state.status === wanted))
      .map((row) => row.element);
    const current = [...this.body.children];
    if (current.length !== shown.length || current.some((row, i) => row !== shown[i])) {
      this.body.replaceChildren(...shown);
    }
    const total = this.order.length;
    this.emptyNote.hidden = shown.length > 0;
    if (shown.length === 0) {
      setText(
        this.emptyNote,
        total === 0 ? 'No plan has published an event yet.' : `No plan on this page is ${wanted}.`,
      );
    }
    const filtered = wanted === 'all' ? '' : ` · ${shown.length} of ${total} shown`;
    setText(this.pageInfo, `page ${this.cursors.length}${filtered}`);
  }
}
