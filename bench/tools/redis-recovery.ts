/**
 * Paced recovery, measured: one node listening to N rooms (default 5,000) is cut off from Redis
 * (a TCP proxy in between resets its connections and refuses new ones for a while), every room
 * gets one entry meanwhile, and the tool reports the time from the node's first connection
 * after the outage to the last room's missed entry, and the most catch-up reads in flight.
 *
 *   node --import tsx bench/tools/redis-recovery.ts [rooms] [runs]
 */
import { runRecovery } from '../../test/helpers/recovery-run.ts';
import { launchRedis, redisServerProblem } from '../../test/helpers/redis-server.ts';

const rooms = Number(process.argv[2] ?? 5000);
const runs = Number(process.argv[3] ?? 3);
const problem = redisServerProblem();
if (problem) throw new Error(problem);
const redis = await launchRedis();
try {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await runRecovery(redis.url, {
      rooms,
      keyPrefix: `rc-recovery-bench-${run}:`,
      outageMs: Math.max(3000, rooms * 2),
    });
    if (result.writesOutlasted) console.log('  (the writes outlasted the outage: not counted)');
    else times.push(result.recoveryMs);
    console.log(
      `run ${run + 1}: ${rooms} rooms back to delivery in ${result.recoveryMs} ms ` +
        `(at most ${result.maxInFlight} catch-up reads in flight)`,
    );
  }
  times.sort((a, b) => a - b);
  console.log(`median ${times[Math.floor(times.length / 2)]} ms over ${runs} runs`);
} finally {
  await redis.close();
}
