/**
 * What subscribers saw against what was published: per subscriber, the events of its room in
 * the order the server acknowledged them must arrive exactly once and in that order. Also the
 * replay time of each reconnect: from the link being up again until the subscriber is caught up
 * (its room live again and every event sent before the reconnect received).
 */
import type { SubscriberLog } from '../clients/realtime-clients.ts';
import { percentileOfSorted } from './stats.ts';

/** Delivery figures of a group of subscribers (sums). */
export interface SequenceCounts {
  subscribers: number;
  /** Σ events due (each subscriber: every event of its room). */
  expected: number;
  /** Distinct due events received. */
  delivered: number;
  /** Due events received exactly once and after every earlier-received due event. */
  exactlyOnceInOrder: number;
  /** Extra copies of events. */
  duplicates: number;
  /** Events arriving after a later one. */
  outOfOrder: number;
  /** Subscribers missing at least one event. */
  subscribersWithLoss: number;
  /**
   * Missing events that lie before an event the subscriber did receive (a hole: lost for good),
   * as against missing ones after its last received event (a tail it had not read yet).
   */
  missingInHoles: number;
  missingAtTail: number;
  /** Subscribers missing events while their link was still down when counted. */
  lossWhileDown: number;
  drops: number;
  /** Subscribers whose link dropped at least once. */
  droppedSubscribers: number;
  reconnects: number;
  /** Reconnects the server resumed (recovered: true / Socket.IO `recovered`). */
  recovered: number;
  resyncs: number;
}

/** Counts of one group plus the replay time of every reconnect, ms. */
export interface SequenceReport extends SequenceCounts {
  replayMs: number[];
  /** Per reconnect: from the link going down to the room live again, ms. */
  backMs: number[];
  /** Drops by why (the client's code). */
  dropCodes: Record<string, number>;
  /**
   * Phases of each roomcast reconnect, ms: drop → first attempt (the backoff), first → last
   * attempt (attempts that failed), last attempt → link up (TCP, upgrade, token), link up →
   * room live (`subscribed`); and the attempts each took.
   */
  phases: {
    delayMs: number[];
    retryMs: number[];
    connectMs: number[];
    subscribeMs: number[];
    attempts: number[];
  };
}

/** Adds the counts of `b` to `a` (reports of several client processes). */
export function addCounts(a: SequenceReport, b: SequenceReport): SequenceReport {
  const sum = {
    ...a,
    replayMs: [...a.replayMs, ...b.replayMs],
    backMs: [...a.backMs, ...b.backMs],
    dropCodes: { ...a.dropCodes },
    phases: {
      delayMs: [...a.phases.delayMs, ...b.phases.delayMs],
      retryMs: [...a.phases.retryMs, ...b.phases.retryMs],
      connectMs: [...a.phases.connectMs, ...b.phases.connectMs],
      subscribeMs: [...a.phases.subscribeMs, ...b.phases.subscribeMs],
      attempts: [...a.phases.attempts, ...b.phases.attempts],
    },
  };
  for (const [code, n] of Object.entries(b.dropCodes))
    sum.dropCodes[code] = (sum.dropCodes[code] ?? 0) + n;
  for (const key of Object.keys(a) as (keyof SequenceCounts)[]) {
    if (key in b && typeof b[key] === 'number') sum[key] = a[key] + b[key];
  }
  return sum;
}

/** An empty report. */
export function emptyReport(): SequenceReport {
  return {
    subscribers: 0,
    expected: 0,
    delivered: 0,
    exactlyOnceInOrder: 0,
    duplicates: 0,
    outOfOrder: 0,
    subscribersWithLoss: 0,
    missingInHoles: 0,
    missingAtTail: 0,
    lossWhileDown: 0,
    drops: 0,
    droppedSubscribers: 0,
    reconnects: 0,
    recovered: 0,
    resyncs: 0,
    replayMs: [],
    backMs: [],
    dropCodes: {},
    phases: { delayMs: [], retryMs: [], connectMs: [], subscribeMs: [], attempts: [] },
  };
}

/** Published events: per room, the event indexes in acknowledged order, and each one's send time. */
export interface Published {
  rooms: Record<string, number[]>;
  sentAt: Record<number, number>;
}

/** Replay of each reconnect of one subscriber. */
function replayTimes(log: SubscriberLog, sentAt: Record<number, number>): number[] {
  return log.reconnects.map(({ upAt, liveAt }) => {
    // Caught up once the last event sent before the link came back is in (when it came after).
    let caughtUp = liveAt;
    for (let i = 0; i < log.indexes.length; i++) {
      const sent = sentAt[log.indexes[i]!];
      if (sent !== undefined && sent < upAt && log.receivedAt[i]! > caughtUp) {
        caughtUp = log.receivedAt[i]!;
      }
    }
    return caughtUp - upAt;
  });
}

/** Checks every subscriber's log against what was published. */
export function checkSequences(logs: readonly SubscriberLog[], published: Published) {
  const report = emptyReport();
  for (const log of logs) {
    const due = published.rooms[log.room] ?? [];
    const position = new Map(due.map((index, at) => [index, at]));
    const seen = new Map<number, number>();
    let last = -1;
    const misplaced = new Set<number>();
    for (const index of log.indexes) {
      const at = position.get(index);
      if (at === undefined) continue; // not of this run (warm-up) or not this room's
      seen.set(index, (seen.get(index) ?? 0) + 1);
      if (at <= last) {
        report.outOfOrder++;
        misplaced.add(index);
      } else last = at;
    }
    const once = [...seen].filter(([index, count]) => count === 1 && !misplaced.has(index));
    report.subscribers++;
    report.expected += due.length;
    report.delivered += seen.size;
    report.exactlyOnceInOrder += once.length;
    report.duplicates += [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
    if (seen.size < due.length) {
      report.subscribersWithLoss++;
      if (log.down) report.lossWhileDown++;
      for (let at = 0; at < due.length; at++) {
        if (seen.has(due[at]!)) continue;
        if (at < last) report.missingInHoles++;
        else report.missingAtTail++;
      }
    }
    report.drops += log.drops;
    if (log.drops > 0) report.droppedSubscribers++;
    report.reconnects += log.reconnects.length;
    report.recovered += log.reconnects.filter((reconnect) => reconnect.recovered).length;
    report.resyncs += log.resyncs;
    report.replayMs.push(...replayTimes(log, published.sentAt));
    report.backMs.push(...log.reconnects.map(({ downAt, liveAt }) => liveAt - downAt));
    for (const code of log.dropCodes) report.dropCodes[code] = (report.dropCodes[code] ?? 0) + 1;
    for (const reconnect of log.reconnects) {
      if (!Number.isFinite(reconnect.firstAttemptAt)) continue;
      const { phases } = report;
      phases.delayMs.push(reconnect.firstAttemptAt - reconnect.downAt);
      phases.retryMs.push(reconnect.lastAttemptAt - reconnect.firstAttemptAt);
      phases.connectMs.push(reconnect.upAt - reconnect.lastAttemptAt);
      phases.subscribeMs.push(reconnect.liveAt - reconnect.upAt);
      phases.attempts.push(reconnect.attempts);
    }
  }
  return report;
}

/** p50 / p90 / p99 / max of each reconnect phase (where the downtime goes). */
export function describePhases(phases: SequenceReport['phases']): string {
  const spread = (values: number[], digits = 0) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (p: number) => percentileOfSorted(sorted, p).toFixed(digits);
    return `${at(50)}/${at(90)}/${at(99)}/${(sorted.at(-1) ?? Number.NaN).toFixed(digits)}`;
  };
  return (
    `p50/p90/p99/max ms: backoff ${spread(phases.delayMs)}, failed attempts ${spread(phases.retryMs)}, ` +
    `connect ${spread(phases.connectMs)}, subscribe ${spread(phases.subscribeMs)}; attempts ${spread(phases.attempts)}`
  );
}
