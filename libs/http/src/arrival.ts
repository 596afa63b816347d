/**
 * How long a request may take to arrive (decision 0018). Each request is watched from the
 * moment its headers are read until its body has fully arrived: past its route's deadline
 * (RouteOptions.timeoutMs, else the app's), or while its body arrives slower than the minimum
 * rate once the grace is over, it is answered 408 problem+json and its connection closed. One
 * sweep a second for every request under way, not a timer per request.
 *
 * The rate is read off the socket (bytes the kernel handed Node), so nothing has to consume
 * the body to measure it. While the service itself holds the body back (its buffer is full: a
 * handler busy with a batch, a proxy whose upstream is slow), the client is not to blame and
 * the measurement starts again.
 */
import type { Request, Response } from 'express';
import { problemType, sendProblem } from './problem';

export interface ArrivalLimits {
  /** The deadline of a request whose route names none. */
  requestTimeoutMs: number;
  bodyRateBytesPerSecondMin: number;
  bodyRateGraceMs: number;
}

const SWEEP_INTERVAL_MS = 1000;

interface Watched {
  request: Request;
  response: Response;
  startedAt: number;
  deadlineAt: number;
  /** Socket bytes read when the current measurement started, and when. */
  measuredFrom: { at: number; bytes: number };
}

function hasBody(request: Request): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0
  );
}

export class ArrivalWatch {
  private readonly watched = new Map<Request, Watched>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly limits: ArrivalLimits) {}

  /** Starts watching `request` (app-level, first thing): the app's deadline until its route names its own. */
  watch(request: Request, response: Response): void {
    // A request without a body has arrived with its headers (headersTimeout bounded those).
    if (request.complete || !hasBody(request)) return;
    const now = Date.now();
    const entry: Watched = {
      request,
      response,
      startedAt: now,
      deadlineAt: now + this.limits.requestTimeoutMs,
      measuredFrom: { at: now, bytes: request.socket.bytesRead },
    };
    this.watched.set(request, entry);
    const forget = () => this.forget(request);
    request.once('end', forget);
    request.once('close', forget);
    response.once('close', forget);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** The route's own deadline, counted from when the request began. */
  setDeadline(request: Request, timeoutMs: number): void {
    const entry = this.watched.get(request);
    if (entry !== undefined) entry.deadlineAt = entry.startedAt + timeoutMs;
  }

  /** Requests still arriving (for tests). */
  get size(): number {
    return this.watched.size;
  }

  private forget(request: Request): void {
    this.watched.delete(request);
    if (this.watched.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of [...this.watched.values()]) {
      const { request } = entry;
      if (request.complete || request.socket.destroyed) {
        this.forget(request);
        continue;
      }
      if (now >= entry.deadlineAt) {
        this.cutOff(entry, 'request_timeout', 'The request did not arrive within its time limit.');
        continue;
      }
      const bytes = request.socket.bytesRead;
      if (request.readableLength >= request.readableHighWaterMark) {
        // Held back by the service: not the client's speed.
        entry.measuredFrom = { at: now, bytes };
        continue;
      }
      const elapsedMs = now - entry.measuredFrom.at;
      if (elapsedMs < this.limits.bodyRateGraceMs) continue;
      const bytesPerSecond = ((bytes - entry.measuredFrom.bytes) * 1000) / elapsedMs;
      if (bytesPerSecond < this.limits.bodyRateBytesPerSecondMin) {
        this.cutOff(
          entry,
          'body_too_slow',
          `The body arrived at ${Math.floor(bytesPerSecond)} bytes/s, below ${this.limits.bodyRateBytesPerSecondMin}.`,
        );
        continue;
      }
      entry.measuredFrom = { at: now, bytes };
    }
  }

  /** 408 when nothing was answered yet (then the connection closes), else the socket is closed. */
  private cutOff(entry: Watched, code: string, detail: string): void {
    const { request, response } = entry;
    this.forget(request);
    if (response.headersSent) {
      request.socket.destroy();
      return;
    }
    const requestId = response.locals.requestId as string | undefined;
    sendProblem(response, {
      type: problemType(code),
      title: 'Request timeout',
      status: 408,
      detail,
      code,
      ...(requestId === undefined ? {} : { request_id: requestId }),
    });
    // Whatever the handler was waiting for will not come; do not wait for the body either.
    response.once('finish', () => request.socket.destroy());
  }
}
