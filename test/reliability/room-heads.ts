/**
 * The rooms' final snapshots (GET /rooms/:roomId), for the invariant checker and for waiting
 * until every subscriber has caught up.
 */
import type { Position } from '../../shared/src/index.ts';
import type { CheckSummary, InvariantChecker, RoomHead } from './invariant-checker.ts';
import type { LoadDriver } from './load-driver.ts';

/** Fetches each room's snapshot from `url` with a token granting it. */
export async function fetchHeads(url: string, token: string, rooms: string[]): Promise<RoomHead[]> {
  const heads: RoomHead[] = [];
  // A few at a time: hundreds of rooms must not look like a burst of connections.
  for (let i = 0; i < rooms.length; i += 20) {
    const batch = rooms.slice(i, i + 20);
    heads.push(
      ...(await Promise.all(
        batch.map(async (room) => {
          const response = await fetch(`${url}/rooms/${encodeURIComponent(room)}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (response.status !== 200) {
            throw new Error(`GET /rooms/${room}: ${response.status} ${await response.text()}`);
          }
          return (await response.json()) as RoomHead;
        }),
      )),
    );
  }
  return heads;
}

/** room → head position. */
export function headPositions(heads: RoomHead[]): Map<string, Position> {
  return new Map(heads.map((head) => [head.roomId, { epoch: head.epoch, seq: head.seq }]));
}

/** What `settleAndVerify` needs. */
export interface SettleOptions {
  /** A server to read the heads from, and a token granting the rooms. */
  url: string;
  token: string;
  rooms: string[];
  driver: Pick<LoadDriver, 'settle'>;
  checker: InvariantChecker;
  /** How long the subscribers get to catch up, ms. Default 60 s. */
  timeoutMs?: number;
}

/** Once the traffic is over: every subscriber at the rooms' heads, then the end-of-run checks. */
export async function settleAndVerify(options: SettleOptions): Promise<CheckSummary> {
  const heads = await fetchHeads(options.url, options.token, options.rooms);
  await options.driver.settle(headPositions(heads), options.timeoutMs ?? 60_000);
  return options.checker.verify(heads);
}
