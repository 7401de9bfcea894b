/**
 * The plan page (`#/plans/<plan_id>`): status, progress bar, step table, final
 * state and the live log tail of one plan.
 *
 * It subscribes from the start of the stream (`lastEventId: null`) and folds
 * every event with the protocol client's reducer (plan_state.js), so the page
 * shows exactly what the snapshot of protocol §5 would say. A resync replaces
 * the state by its snapshot and leaves a marker in the log; a `stream_reset`
 * the client noticed by itself (a `subscribed` head behind what it delivered)
 * carries no state, so the page reads the plan's snapshot over HTTP. A subscription
 * error (forbidden, not_found...) is shown in the banner, not as a broken page.
 */
import { el, setText } from '../dom.js';
import { applyEvent, emptyPlanState, stateFromSnapshot } from '../protocol/plan_state.js';
import { formatClock, formatStepCount, isTerminalStatus, progressPercent } from './format.js';
import { LogTail } from './log_tail.js';
import { StepTable, StepTimes } from './step_table.js';

const BANNER_OWNER = 'plan-page';

const SUBSCRIPTION_PROBLEMS = {
  forbidden: 'This token may not read this plan.',
  not_found: 'The server knows no plan with this id.',
  bad_request: 'The server refused this plan id.',
};

/** One plan, live. */
export class PlanPage {
  /**
   * @param {{planId: string, client: import('../protocol/stream_client.js').StreamClient,
   *          api: import('../protocol/http.js').PlanApi,
   *          banner: import('./banner.js').Banner}} options
   */
  constructor({ planId, client, api, banner }) {
    this.planId = planId;
    this.client = client;
    this.api = api;
    this.snapshotRead = null; // aborts a snapshot read still running at unmount
    this.banner = banner;
    this.state = emptyPlanState(planId);
    this.times = new StepTimes();
    this.reason = null; // of the latest plan.status (the snapshot does not keep it)
    this.frame = null;
    this.clockTimer = null;
    this.subscription = null;

    this.status = el('span', { className: 'status-pill large', attrs: { id: 'plan-status' } });
    this.updated = el('span', { className: 'muted', attrs: { id: 'plan-updated' } });
    this.progressBar = el('progress', { attrs: { id: 'progress-bar', max: '100', value: '0' } });
    this.progressText = el('span', { className: 'progress-text', attrs: { id: 'progress-text' } });
    this.progressMessage = el('span', { className: 'muted progress-message' });
    this.finalSlot = el('div', { className: 'final-slot' });
    this.steps = new StepTable();
    this.log = new LogTail();
    this.element = el(
      'section',
      { className: 'plan-page', attrs: { id: 'plan-page' }, dataset: { planId } },
      el(
        'nav',
        { className: 'crumbs' },
        el('a', { attrs: { id: 'back-to-list', href: '#/' } }, '← all plans'),
      ),
      el(
        'div',
        { className: 'plan-head' },
        el('h1', { attrs: { id: 'plan-title' } }, planId),
        this.status,
        el('span', { className: 'spacer' }),
        this.updated,
      ),
      el(
        'section',
        { className: 'panel progress-panel', attrs: { 'aria-label': 'progress' } },
        this.progressBar,
        el('div', { className: 'progress-line' }, this.progressText, this.progressMessage),
        this.finalSlot,
      ),
      this.steps.element,
      this.log.element,
    );
  }

  /** Subscribe and start rendering. */
  mount() {
    this.render();
    try {
      this.subscription = this.client.subscribe(this.planId, {
        lastEventId: null,
        onEvent: (event) => this.onEvent(event),
        onResync: (resync) => this.onResync(resync),
        onError: (problem) => this.onError(problem),
      });
    } catch {
      // The client stopped on a fatal problem: the banner already says which.
      this.subscription = null;
    }
  }

  /** Unsubscribe and stop every timer. */
  unmount() {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.snapshotRead?.abort();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.stopClock();
    this.log.destroy();
    this.banner.clear(BANNER_OWNER);
  }

  onEvent(event) {
    if (event.kind === 'log') this.log.addLog(event);
    else if (event.kind === 'step.status') this.times.note(event);
    else if (event.kind === 'plan.status') this.reason = event.data.reason ?? null;
    this.state = applyEvent(this.state, event);
    this.scheduleRender();
  }

  onResync({ reason, snapshot }) {
    // protocol §3: the history before the snapshot is gone; continue from its head.
    this.state = stateFromSnapshot(snapshot);
    this.times.clear();
    this.reason = null;
    this.log.addResync(reason);
    this.scheduleRender();
    if (snapshot.status === null && snapshot.progress === null && snapshot.steps.length === 0) {
      this.readSnapshot();
    }
  }

  /** The plan's state from `GET v1/plans/{id}`, kept only if not older than the stream's. */
  async readSnapshot() {
    this.snapshotRead?.abort();
    const read = new AbortController();
    this.snapshotRead = read;
    let snapshot;
    try {
      snapshot = await this.api.snapshot(this.planId, { signal: read.signal });
    } catch {
      return; // the stream goes on; the state fills in from its next events
    }
    if (read.signal.aborted || snapshot.head === null) return;
    if (this.state.head !== null && snapshot.head.seq < this.state.head.seq) return;
    this.state = stateFromSnapshot(snapshot);
    this.scheduleRender();
  }

  onError({ code, message }) {
    const known = SUBSCRIPTION_PROBLEMS[code];
    const text = known
      ? `${known} (plan ${this.planId})`
      : `The plan ${this.planId} cannot be followed: ${message || code}`;
    this.banner.show(code === 'forbidden' ? 'forbidden' : code === 'not_found' ? 'not_found' : 'protocol', text, BANNER_OWNER);
  }

  scheduleRender() {
    if (this.frame === null) {
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.render();
      });
    }
  }

  render() {
    const now = Date.now();
    const { status, progress, steps, updated_at: updatedAt } = this.state;
    this.status.dataset.status = status ?? 'none';
    setText(this.status, status ?? 'no status yet');
    setText(this.updated, updatedAt ? `last event ${formatClock(updatedAt).slice(0, 8)} UTC` : 'waiting for events…');

    const percent = progressPercent(progress);
    this.progressBar.value = percent;
    this.progressBar.dataset.status = status ?? 'none';
    setText(
      this.progressText,
      progress ? `${formatStepCount(progress)} steps · ${Math.round(percent)}%` : 'no progress reported yet',
    );
    setText(this.progressMessage, progress?.message ?? '');

    this.steps.render(steps, this.times, now);
    this.renderFinal(status);
    document.title = `${this.planId} · ${status ?? 'waiting'} · planstream`;

    // The elapsed time of a running step ticks once per second, only while one runs.
    if (steps.some((step) => step.status === 'running')) this.startClock();
    else this.stopClock();
  }

  renderFinal(status) {
    const terminal = isTerminalStatus(status);
    const existing = this.finalSlot.querySelector('#plan-final');
    if (!terminal) {
      this.finalSlot.replaceChildren();
      return;
    }
    if (existing?.dataset.status === status && existing.dataset.reason === (this.reason ?? '')) return;
    this.finalSlot.replaceChildren(
      el(
        'p',
        { className: 'final-line', dataset: { status } },
        'Final state: ',
        el(
          'strong',
          { className: 'status-pill', attrs: { id: 'plan-final' }, dataset: { status, reason: this.reason ?? '' } },
          status,
        ),
        this.reason ? el('span', { className: 'final-reason' }, this.reason) : null,
      ),
    );
  }

  startClock() {
    if (this.clockTimer !== null) return;
    this.clockTimer = setTimeout(() => {
      this.clockTimer = null;
      this.render();
    }, 1000 - (Date.now() % 1000));
  }

  stopClock() {
    if (this.clockTimer !== null) clearTimeout(this.clockTimer);
    this.clockTimer = null;
  }
}
