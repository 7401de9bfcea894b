/**
 * Formatting shared by the views (pure: no DOM, no clock; the time is an argument).
 */

import { TERMINAL_STATUSES } from '../protocol/plan_state.js';

/** Step statuses after which a step no longer runs (protocol §5). */
export const FINISHED_STEP_STATUSES = new Set(['succeeded', 'failed', 'skipped']);

/**
 * A duration in seconds as text: `0.4 s`, `12.0 s`, `3 min 05 s`, `2 h 03 min`.
 * @param {number} seconds
 * @returns {string}
 */
export function formatDuration(seconds) {
  const value = Math.max(0, seconds);
  if (value < 60) return `${value.toFixed(1)} s`;
  const whole = Math.floor(value);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * Milliseconds since the epoch of an RFC 3339 time, or null when it is none.
 * @param {string|null|undefined} timestamp
 * @returns {number|null}
 */
export function parseTime(timestamp) {
  if (!timestamp) return null;
  const millis = Date.parse(timestamp);
  return Number.isNaN(millis) ? null : millis;
}

/**
 * How long ago `timestamp` was, relative to `nowMillis`: `just now`, `5 s ago`, `3 min ago`...
 * @param {string|null} timestamp RFC 3339
 * @param {number} nowMillis
 * @returns {string} `—` when there is no time
 */
export function formatAge(timestamp, nowMillis) {
  const millis = parseTime(timestamp);
  if (millis === null) return '—';
  const seconds = Math.max(0, Math.round((nowMillis - millis) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/**
 * The clock time of an RFC 3339 timestamp in UTC, `HH:MM:SS.mmm`.
 * @param {string|null} timestamp
 * @returns {string}
 */
export function formatClock(timestamp) {
  const millis = parseTime(timestamp);
  return millis === null ? '' : new Date(millis).toISOString().slice(11, 23);
}

/**
 * `3/6` from a plan.progress object, `—` without one.
 * @param {{completed_steps: number, total_steps: number}|null} progress
 * @returns {string}
 */
export function formatStepCount(progress) {
  return progress ? `${progress.completed_steps}/${progress.total_steps}` : '—';
}

/**
 * A percent in 0..100 for a `<progress max="100">` (clamped; 0 without progress).
 * @param {{percent: number}|null} progress
 * @returns {number}
 */
export function progressPercent(progress) {
  if (!progress || !Number.isFinite(progress.percent)) return 0;
  return Math.min(100, Math.max(0, progress.percent));
}

/**
 * Whether a plan status is terminal (succeeded, failed, cancelled: protocol §5).
 * @param {string|null} status
 * @returns {boolean}
 */
export function isTerminalStatus(status) {
  if (status === null || status === undefined) return false;
  return TERMINAL_STATUSES instanceof Set ? TERMINAL_STATUSES.has(status) : TERMINAL_STATUSES.includes(status);
}
