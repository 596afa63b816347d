/** What the figures were measured on, and the resident memory of a process. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  hostname_hash: string;
  cpu_model: string;
  cores: number;
  memory_gib: number;
  os: string;
  node: string;
  postgres: string;
  load_average_at_start: number[];
}

function postgresVersion(postgresUrl: string): string {
  try {
    return execFileSync('psql', [postgresUrl, '-Atc', 'SHOW server_version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(postgresUrl: string): MachineInfo {
  const cpus = os.cpus();
  let hash = 0;
  for (const char of os.hostname()) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return {
    hostname_hash: hash.toString(16),
    cpu_model: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: postgresVersion(postgresUrl),
    load_average_at_start: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

/** Resident set size of a process in MiB (VmRSS), or NaN when it is gone. */
export function rssMib(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/mu.exec(status);
    return match === null ? Number.NaN : Math.round((Number(match[1]) / 1024) * 10) / 10;
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; returns the peak and the last value. */
export function sampleRss(pid: number, intervalMs = 100) {
  let peak = rssMib(pid);
  let last = peak;
  const timer = setInterval(() => {
    last = rssMib(pid);
    if (!Number.isNaN(last)) peak = Math.max(peak, last);
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { peak_mib: peak, last_mib: last };
    },
  };
}
