/**
 * The HTTP half of the protocol (§6): plan list, snapshot, and the long-poll
 * used as the WebSocket fallback. Every request sends the bearer token in the
 * Authorization header (never in the URL); failures become {@link ApiError}.
 * @module protocol/http
 */

/** A failed request: `status` is the HTTP status (null: the network failed), `code` the server's error code. */
export class ApiError extends Error {
  /**
   * @param {number|null} status
   * @param {string} code - e.g. 'unauthorized', 'forbidden', 'not_found', 'network', 'aborted'
   * @param {string} message
   * @param {number|null} [retryAfter] - seconds, from a Retry-After header
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const CODES_BY_STATUS = new Map([
  [400, 'bad_request'], [401, 'unauthorized'], [403, 'forbidden'], [404, 'not_found'],
  [409, 'conflict'], [429, 'rate_limited'], [503, 'unavailable'],
]);

/** The plan endpoints of one server, relative to the app root (so a mount prefix works). */
export class PlanApi {
  /**
   * @param {{baseUrl: string|URL, token?: string|null}} options - baseUrl: the app root, ending with '/'
   */
  constructor({ baseUrl, token = null }) {
    this.baseUrl = new URL(String(baseUrl));
    this.token = token || null;
  }

  /**
   * One page of plans (protocol §6).
   * @param {{limit?: number, cursor?: string|null, signal?: AbortSignal}} [options]
   * @returns {Promise<{plans: Array<{plan_id: string, status: string|null, head: object|null, updated_at: string|null}>, next_cursor: string|null}>}
   */
  async listPlans({ limit = 20, cursor = null, signal } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== null) query.set('cursor', cursor);
    const { body } = await this.#get(`v1/plans?${query}`, signal);
    return body;
  }

  /**
   * A plan's snapshot (protocol §5); ApiError 404 'not_found' when the plan is unknown.
   * @param {string} planId
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<object>}
   */
  async snapshot(planId, { signal } = {}) {
    const { body } = await this.#get(`v1/plans/${encodeURIComponent(planId)}`, signal);
    return body;
  }

  /**
   * One long-poll for events after `after` (protocol §6).
   * @param {string} planId
   * @param {{after?: string|null, limit?: number, wait?: number, signal?: AbortSignal}} [options]
   * @returns {Promise<{body: {plan_id: string, events: object[], head: object|null, resync: object|null}, pollInterval: number}>}
   */
  async pollEvents(planId, { after = null, limit = 500, wait = 25, signal } = {}) {
    const query = new URLSearchParams({ limit: String(limit), wait: String(wait) });
    if (after !== null) query.set('after', after);
    const { body, headers } = await this.#get(`v1/plans/${encodeURIComponent(planId)}/events?${query}`, signal);
    const interval = Number.parseFloat(headers.get('X-Poll-Interval') ?? '');
    return { body, pollInterval: Number.isFinite(interval) && interval >= 0 ? interval : 0 };
  }

  async #get(path, signal) {
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(new URL(path, this.baseUrl), { headers, signal, cache: 'no-store', credentials: 'omit' });
    } catch (error) {
      if (signal?.aborted) throw new ApiError(null, 'aborted', 'the request was aborted');
      throw new ApiError(null, 'network', `the server cannot be reached: ${error.message}`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      if (signal?.aborted) throw new ApiError(null, 'aborted', 'the request was aborted');
      if (response.ok) throw new ApiError(response.status, 'bad_response', 'the server answered something that is not JSON');
    }
    if (!response.ok) {
      // 401 and 403 keep their meaning whatever the body says (the page asks for a token on them).
      const fixed = response.status === 401 || response.status === 403 ? CODES_BY_STATUS.get(response.status) : null;
      const code = fixed ?? (typeof body?.error === 'string' ? body.error : CODES_BY_STATUS.get(response.status) ?? 'http_error');
      const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
      const retryAfter = Number.parseFloat(response.headers.get('Retry-After') ?? '');
      throw new ApiError(response.status, code, message, Number.isFinite(retryAfter) ? retryAfter : null);
    }
    return { body, headers: response.headers };
  }
}
