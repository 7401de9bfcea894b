/**
 * Why a WebSocket closed before its hello. A browser gives no HTTP status for
 * a refused upgrade (only close code 1006), so the client asks the server's
 * HTTP API with the same token (`GET v1/plans?limit=1`, protocol §6):
 *
 * | answer        | cause          | the client                                   |
 * |---------------|----------------|----------------------------------------------|
 * | 401           | 'unauthorized' | stops (fatal): the page asks for a token     |
 * | 403           | 'forbidden'    | stops (fatal)                                |
 * | no answer/5xx | 'down'         | reconnects with backoff                      |
 * | 2xx           | 'blocked'      | the WebSocket is blocked on the way (a proxy):|
 * |               |                | after two in a row, HTTP long-polling        |
 * @module protocol/refusal_probe
 */

/**
 * Asks the API why the upgrade failed.
 * @param {import('./http.js').PlanApi} api
 * @param {AbortSignal} signal
 * @returns {Promise<{cause: 'unauthorized'|'forbidden'|'down'|'blocked'|'aborted', retryAfter: number|null, detail: string}>}
 */
export async function diagnoseRefusal(api, signal) {
  try {
    await api.listPlans({ limit: 1, signal });
  } catch (error) {
    if (error.code === 'aborted') return { cause: 'aborted', retryAfter: null, detail: 'aborted' };
    if (error.status === 401) return { cause: 'unauthorized', retryAfter: null, detail: 'HTTP 401' };
    if (error.status === 403) return { cause: 'forbidden', retryAfter: null, detail: 'HTTP 403' };
    const detail = error.status === null || error.status === undefined ? 'server unreachable' : `HTTP ${error.status}`;
    return { cause: 'down', retryAfter: error.retryAfter ?? null, detail };
  }
  return { cause: 'blocked', retryAfter: null, detail: 'websocket refused' };
}
