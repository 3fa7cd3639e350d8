/**
 * One measured phase of the ingest load against a started server: a warm-up, a wait for a quiet
 * machine, then the timed load with the server's own CPU window around it. Shared by the ingest
 * scenario and `bench/tools/ingest-ab.ts`.
 */
import type { BenchChild } from './ipc.ts';
import { otherLoadPercent, readBusy } from './machine-load.ts';
import type { IngestPhaseResult } from '../clients/ingest-load.ts';
import type { CpuWindow, ServerInfo } from '../servers/server-process.ts';

/** How the load runs. */
export interface IngestPhase {
  /** Connections, each with one request in flight. */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Waits for other processes to calm down, between the warm-up and the timed load. */
  quiet: () => Promise<unknown>;
}

/** What a timed phase measured. */
export interface MeasuredIngestPhase {
  load: IngestPhaseResult;
  cpu: CpuWindow;
  /** Webhooks answered per second. */
  rps: number;
  /** Server CPU per answered webhook, µs. */
  cpuUs: number;
  /** Other processes' CPU over the timed load, % of one core. */
  otherLoad: number;
}

/** Runs the warm-up and the timed load of the `load` client against `server`. */
export async function measureIngestPhase(
  load: BenchChild<unknown>,
  server: BenchChild<ServerInfo>,
  { concurrency, warmupMs, durationMs, quiet }: IngestPhase,
): Promise<MeasuredIngestPhase> {
  const target = { port: server.info.port, concurrency };
  await load.request('run', { ...target, durationMs: warmupMs });
  await quiet();
  const busy = readBusy();
  await server.request('cpu-start');
  const measured = await load.request<IngestPhaseResult>('run', { ...target, durationMs });
  const cpu = await server.request<CpuWindow>('cpu-stop');
  return {
    load: measured,
    cpu,
    rps: measured.completed / (measured.wallMs / 1000),
    cpuUs: cpu.cpuUs / measured.completed,
    otherLoad: otherLoadPercent(busy, cpu.cpuUs + measured.clientCpuUs),
  };
}
