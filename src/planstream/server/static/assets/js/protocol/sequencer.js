/**
 * The de-duplicating, ordering sequencer (pure: no timers, no sockets; time is
 * an argument), the browser's counterpart of `planstream/sequencer.py`.
 *
 * Per plan it keeps the guarantees of protocol §1: delivered events have
 * strictly increasing `seq`, each at most once (duplicates by `seq` or by a
 * remembered `event_id` are dropped); out-of-order events wait in a bounded
 * buffer; a gap that persists (its timer ran out, an event beyond the reorder
 * window, or a heartbeat head ahead of what was delivered with nothing
 * buffered) is answered with a repair: the caller re-subscribes from the last
 * delivered `event_id`. A `resync` moves the baseline to the snapshot's head.
 *
 * Every input returns an output `{events, resync, repairs}`: the events to
 * deliver in order, a resync marker (or null) and the plan ids to repair.
 * @module protocol/sequencer
 */

const NOTHING = Object.freeze({ events: Object.freeze([]), resync: null, repairs: Object.freeze([]) });

/** One plan's position: what was delivered, remembered, buffered, due. */
class PlanCursor {
  constructor(lastEventId, lastSeq) {
    this.lastEventId = lastEventId;
    /** null: resumed after an id whose seq is not known; the next event sets it. */
    this.lastSeq = lastEventId === null ? 0 : lastSeq;
    /** event_id -> seq of recent deliveries, oldest first (a Map keeps insertion order). */
    this.recentIds = new Map();
    /** seq -> event waiting for the gap before it to fill. */
    this.buffer = new Map();
    this.gapDeadline = null;
    this.repairDeadline = null;
  }
}

/** Turns what the server sends into an exactly-once, in-order stream per plan. */
export class Sequencer {
  /**
   * @param {object} [options]
   * @param {number} [options.reorderWindow=256] - how far past the next expected seq an event is buffered
   * @param {number} [options.dedupWindow=1024] - delivered event ids remembered per plan
   * @param {number} [options.gapTimeout=2] - seconds a gap may persist before a repair
   * @param {number} [options.repairTimeout=10] - seconds to wait for the answer to a (re)subscribe
   */
  constructor({ reorderWindow = 256, dedupWindow = 1024, gapTimeout = 2, repairTimeout = 10 } = {}) {
    if (!(reorderWindow >= 1 && dedupWindow >= 1)) throw new RangeError('windows must be at least 1');
    this.reorderWindow = reorderWindow;
    this.dedupWindow = dedupWindow;
    this.gapTimeout = gapTimeout;
    this.repairTimeout = repairTimeout;
    this.stats = { delivered: 0, duplicates: 0, reordered: 0, gapRepairs: 0, resyncs: 0, unsolicited: 0 };
    /** @type {Map<string, PlanCursor>} */
    this.cursors = new Map();
  }

  /**
   * Starts (or restarts) sequencing `planId` after the given position
   * (`lastEventId` null: the stream from seq 1).
   * @param {string} planId
   * @param {{lastEventId?: string|null, lastSeq?: number|null}} [position]
   */
  track(planId, { lastEventId = null, lastSeq = null } = {}) {
    this.cursors.set(planId, new PlanCursor(lastEventId, lastSeq));
  }

  /** Stops sequencing `planId`; its later events are dropped. @param {string} planId */
  untrack(planId) {
    this.cursors.delete(planId);
  }

  /** @param {string} planId @returns {boolean} */
  isTracked(planId) {
    return this.cursors.has(planId);
  }

  /**
   * The last event delivered (`eventId` null: nothing yet; `seq` null: not known yet).
   * @param {string} planId
   * @returns {{eventId: string|null, seq: number|null}}
   */
  position(planId) {
    const cursor = this.#cursor(planId);
    return { eventId: cursor.lastEventId, seq: cursor.lastSeq };
  }

  /**
   * A subscribe for `planId` was sent (a resume after a reconnect): no repair
   * is asked for until it is answered or `repairTimeout` passes.
   * @param {string} planId
   * @param {number} now - seconds
   */
  subscribing(planId, now) {
    const cursor = this.cursors.get(planId);
    if (cursor === undefined) return;
    cursor.repairDeadline = now + this.repairTimeout;
    cursor.gapDeadline = null;
  }

  /**
   * A (re-)subscription was accepted; the replay after our position follows.
   * @param {string} planId
   * @param {{seq: number, event_id: string}|null} head
   * @param {number} now
   */
  onSubscribed(planId, head, now) {
    const cursor = this.cursors.get(planId);
    if (cursor === undefined) return NOTHING;
    cursor.repairDeadline = null;
    if (cursor.lastSeq === null) {
      if (head && head.event_id === cursor.lastEventId) this.#remember(cursor, head.event_id, head.seq);
    } else if (cursor.lastSeq > 0 && (head === null || head.seq < cursor.lastSeq)) {
      // The server lost what we delivered without saying so: tell the user (protocol §1).
      const snapshot = { plan_id: planId, status: null, progress: null, steps: [], head, updated_at: null };
      return this.onResync(planId, 'stream_reset', snapshot);
    }
    if (cursor.buffer.size > 0 && cursor.gapDeadline === null) cursor.gapDeadline = now + this.gapTimeout;
    return NOTHING;
  }

  /**
   * History could not be replayed: the marker is delivered and the baseline
   * moves to the snapshot's head (protocol §3).
   * @param {string} planId
   * @param {string} reason
   * @param {object} snapshot
   */
  onResync(planId, reason, snapshot) {
    const cursor = this.cursors.get(planId);
    if (cursor === undefined) return NOTHING;
    const head = snapshot.head ?? null;
    cursor.lastSeq = head === null ? 0 : head.seq;
    cursor.lastEventId = head === null ? null : head.event_id;
    cursor.recentIds.clear();
    if (head !== null) this.#remember(cursor, head.event_id, head.seq);
    cursor.buffer.clear();
    cursor.gapDeadline = null;
    cursor.repairDeadline = null;
    this.stats.resyncs += 1;
    return { events: [], resync: { planId, reason, snapshot }, repairs: [] };
  }

  /**
   * Feeds one event.
   * @param {{plan_id: string, event_id: string, seq: number}} event
   * @param {number} now
   */
  onEvent(event, now) {
    const cursor = this.cursors.get(event.plan_id);
    if (cursor === undefined) {
      this.stats.unsolicited += 1;
      return NOTHING;
    }
    if (event.event_id === cursor.lastEventId || cursor.recentIds.has(event.event_id)) return this.#duplicate();
    if (cursor.lastSeq === null) {
      cursor.lastSeq = event.seq - 1; // resumed from an id of unknown seq: this event sets the baseline
    }
    const seq = event.seq;
    if (seq <= cursor.lastSeq) return this.#duplicate();
    if (seq === cursor.lastSeq + 1) {
      const events = [event];
      this.#deliver(cursor, event);
      this.#drain(cursor, events, now);
      return { events, resync: null, repairs: [] };
    }
    if (seq - cursor.lastSeq <= this.reorderWindow) {
      if (cursor.buffer.has(seq)) return this.#duplicate();
      cursor.buffer.set(seq, event);
      if (cursor.gapDeadline === null && cursor.repairDeadline === null) cursor.gapDeadline = now + this.gapTimeout;
      return NOTHING;
    }
    // Too far ahead to wait for: the server replays it after the repair (protocol §1).
    return this.#repairUnlessPending(event.plan_id, cursor, now);
  }

  /**
   * Compares a heartbeat's heads with what was delivered (protocol §3): a head
   * ahead with nothing buffered means a lost tail.
   * @param {Object<string, {seq: number, event_id: string}|null>} heads
   * @param {number} now
   */
  onHeartbeat(heads, now) {
    const repairs = [];
    for (const [planId, cursor] of this.cursors) {
      const head = heads?.[planId];
      if (!head || cursor.repairDeadline !== null) continue;
      const lost = cursor.lastSeq === null
        ? head.event_id !== cursor.lastEventId
        : head.seq > cursor.lastSeq && cursor.buffer.size === 0;
      if (lost) repairs.push(...this.#repairUnlessPending(planId, cursor, now).repairs);
    }
    return repairs.length ? { events: [], resync: null, repairs } : NOTHING;
  }

  /**
   * Advances time: gaps and unanswered (re)subscribes past their deadline are repaired.
   * @param {number} now
   */
  tick(now) {
    const repairs = [];
    for (const [planId, cursor] of this.cursors) {
      const due = (cursor.repairDeadline !== null && now >= cursor.repairDeadline)
        || (cursor.repairDeadline === null && cursor.gapDeadline !== null && now >= cursor.gapDeadline);
      if (due) {
        cursor.repairDeadline = null;
        repairs.push(...this.#repairUnlessPending(planId, cursor, now).repairs);
      }
    }
    return repairs.length ? { events: [], resync: null, repairs } : NOTHING;
  }

  /** The earliest time `tick` has something to do, or null. @returns {number|null} */
  nextDeadline() {
    let earliest = null;
    for (const cursor of this.cursors.values()) {
      const deadline = cursor.repairDeadline ?? cursor.gapDeadline;
      if (deadline !== null && (earliest === null || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  #cursor(planId) {
    const cursor = this.cursors.get(planId);
    if (cursor === undefined) throw new Error(`plan ${planId} is not tracked`);
    return cursor;
  }

  #duplicate() {
    this.stats.duplicates += 1;
    return NOTHING;
  }

  #repairUnlessPending(planId, cursor, now) {
    if (cursor.repairDeadline !== null) return NOTHING;
    cursor.gapDeadline = null;
    cursor.repairDeadline = now + this.repairTimeout;
    this.stats.gapRepairs += 1;
    return { events: [], resync: null, repairs: [planId] };
  }

  #deliver(cursor, event) {
    this.#remember(cursor, event.event_id, event.seq);
    this.stats.delivered += 1;
  }

  #remember(cursor, eventId, seq) {
    cursor.lastSeq = seq;
    cursor.lastEventId = eventId;
    cursor.recentIds.set(eventId, seq);
    if (cursor.recentIds.size > this.dedupWindow) {
      cursor.recentIds.delete(cursor.recentIds.keys().next().value);
    }
  }

  /** Delivers the buffered events that became next, in order. */
  #drain(cursor, events, now) {
    for (;;) {
      const next = cursor.buffer.get(cursor.lastSeq + 1);
      if (next === undefined) break;
      cursor.buffer.delete(next.seq);
      if (cursor.recentIds.has(next.event_id)) {
        this.stats.duplicates += 1; // a known id at a new seq: that seq is still missing
        break;
      }
      this.#deliver(cursor, next);
      this.stats.reordered += 1;
      events.push(next);
    }
    for (const seq of cursor.buffer.keys()) {
      if (seq <= cursor.lastSeq) cursor.buffer.delete(seq);
    }
    if (cursor.buffer.size === 0) {
      cursor.gapDeadline = null;
    } else if (cursor.repairDeadline === null) {
      cursor.gapDeadline = now + this.gapTimeout; // progress restarts the clock
    }
  }
}
