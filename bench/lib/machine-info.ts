/**
 * What the figures were measured on: CPU model and cores, memory, OS, Node version, and the
 * limits that matter for thousands of sockets (open files, ephemeral ports, listen backlog).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Machine facts printed at the start and written into the report. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** `ulimit -n` of this process (inherited by the children); NaN if unknown. */
  openFilesLimit: number;
  ephemeralPorts: string;
  somaxconn: string;
  loadAverage: string;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().replace(/\s+/g, '–');
  } catch {
    return 'unknown';
  }
}

function openFilesLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Collects the machine facts. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    openFilesLimit: openFilesLimit(),
    ephemeralPorts: readProc('/proc/sys/net/ipv4/ip_local_port_range'),
    somaxconn: readProc('/proc/sys/net/core/somaxconn'),
    loadAverage: os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
  };
}

/**
 * A clear message when `ulimit -n` cannot hold `subscribers` sockets in one process (the server
 * and the subscriber process each need one descriptor per connection, plus a few dozen).
 */
export function fileLimitProblem(info: MachineInfo, subscribers: number): string | undefined {
  const needed = subscribers + 256;
  if (!Number.isFinite(info.openFilesLimit) || info.openFilesLimit >= needed) return undefined;
  return (
    `ulimit -n is ${info.openFilesLimit}, but ${subscribers} subscribers need about ${needed} ` +
    `file descriptors per process. Raise it (e.g. \`ulimit -n 65536\` in this shell, or ` +
    `LimitNOFILE in a systemd unit) or pass --subscribers ${Math.max(1, info.openFilesLimit - 256)}.`
  );
}
