/**
 * The plan-state reducer (pure), the same fold as `planstream/plan_state.py`:
 * events become the snapshot of protocol §5. States are never mutated;
 * `applyEvent` returns a new object (or the same one when the event is old).
 * @module protocol/plan_state
 */

/** Plan statuses after which the stream is closed (protocol §5). */
export const TERMINAL_STATUSES = Object.freeze(new Set(['succeeded', 'failed', 'cancelled']));

/**
 * The state of a plan before any event.
 * @param {string} planId
 * @returns {{plan_id: string, status: null, progress: null, steps: Array<object>, head: null, updated_at: null}}
 */
export function emptyPlanState(planId) {
  return Object.freeze({
    plan_id: planId, status: null, progress: null, steps: Object.freeze([]), head: null, updated_at: null,
  });
}

/**
 * Starts from a snapshot (e.g. the one a `resync` carries); steps sorted by index.
 * @param {object} snapshot - protocol §5 snapshot
 * @returns {object} state
 */
export function stateFromSnapshot(snapshot) {
  return Object.freeze({
    plan_id: snapshot.plan_id,
    status: snapshot.status ?? null,
    progress: snapshot.progress ?? null,
    steps: Object.freeze(sortSteps([...(snapshot.steps ?? [])])),
    head: snapshot.head ?? null,
    updated_at: snapshot.updated_at ?? null,
  });
}

/**
 * Whether the plan reached a terminal status.
 * @param {object} state
 * @returns {boolean}
 */
export function isTerminal(state) {
  return TERMINAL_STATUSES.has(state.status);
}

/**
 * Folds one event: `plan.status`, `plan.progress` and `step.status` change the
 * state; `log` and unknown kinds only move `head`/`updated_at`. Events at or
 * before the head are ignored, so a replayed stream folds to the same state.
 * @param {object} state
 * @param {{plan_id: string, event_id: string, seq: number, ts: string, kind: string, data: object}} event
 * @returns {object} the new state (the same object when nothing changed)
 */
export function applyEvent(state, event) {
  if (event.plan_id !== state.plan_id) {
    throw new Error(`event ${event.event_id} of plan ${event.plan_id} folded into plan ${state.plan_id}`);
  }
  if (state.head !== null && event.seq <= state.head.seq) return state;
  let { status, progress, steps } = state;
  const data = event.data ?? {};
  if (event.kind === 'plan.status') {
    status = data.status;
  } else if (event.kind === 'plan.progress') {
    progress = data;
  } else if (event.kind === 'step.status') {
    const others = steps.filter((step) => step.step_id !== data.step_id);
    steps = Object.freeze(sortSteps([...others, data]));
  }
  return Object.freeze({
    plan_id: state.plan_id,
    status,
    progress,
    steps,
    head: Object.freeze({ seq: event.seq, event_id: event.event_id }),
    updated_at: event.ts,
  });
}

/** Steps by `index`, then `step_id` (as the Python reducer orders them). */
function sortSteps(steps) {
  return steps.sort((a, b) => (a.index - b.index)
    || (a.step_id < b.step_id ? -1 : a.step_id > b.step_id ? 1 : 0));
}
