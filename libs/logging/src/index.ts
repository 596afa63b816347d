/**
 * Structured logging with pino. Every line carries the service name and, inside a request
 * or a consumed event, its request id (through AsyncLocalStorage, so store and domain code
 * need not pass it along). Secrets are redacted by key; anything shaped like a card number
 * is masked in the finished line, wherever it hides (messages, error stacks, URLs). A line
 * written while a trace span is active carries its `trace_id` and `span_id` (decision 0026).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

const logContext = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/** Runs `work` with `bindings` (e.g. `{ request_id }`) added to every log line it writes. */
export function withLogContext<T>(bindings: Record<string, unknown>, work: () => T): T {
  const parent = logContext.getStore() ?? {};
  return logContext.run({ ...parent, ...bindings }, work);
}

export function currentLogContext(): Readonly<Record<string, unknown>> {
  return logContext.getStore() ?? {};
}

/**
 * The active span's ids, to find a line's trace in the tracing backend and a trace's lines in
 * the logs. With tracing off the API has no context manager and this is `{}` at once.
 */
export function currentTraceIds(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer
 * word or number: the shape of a payment card number (ISO/IEC 7812).
 */
const CARD_NUMBER_SHAPE = /(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w])/gu;

/**
 * Replaces each card-number-shaped run with `****` and its last 4 digits. A run that stands as a
 * bare JSON number in the line (a field logged as a number, e.g. a client library's epoch
 * milliseconds) becomes the string `"****1234"`, so that the line stays valid JSON.
 */
export function maskCardNumbers(text: string): string {
  return text.replace(CARD_NUMBER_SHAPE, (match: string, offset: number) => {
    if (isSpanIdValue(text, offset)) return match;
    const masked = `****${match.replace(/\D/gu, '').slice(-4)}`;
    const before = text.slice(0, offset).trimEnd().at(-1);
    const after = text.slice(offset + match.length).trimStart()[0];
    const bareNumber =
      /^\d+$/u.test(match) &&
      (before === ':' || before === ',' || before === '[') &&
      (after === ',' || after === '}' || after === ']') &&
      !insideJsonString(text, offset);
    return bareNumber ? `"${masked}"` : masked;
  });
}

/**
 * A span id is 16 hex digits and one in ~1,900 has no letter (0.625^16 = 0.05 %): the line's own
 * `span_id` value is an id, not a card, and is kept. (A trace id's 32 digits are longer than any
 * card number, so the shape never matches one.)
 */
const SPAN_ID_FIELD = '"span_id":"';
const SPAN_ID_DIGITS = 16;
function isSpanIdValue(text: string, offset: number): boolean {
  return (
    text.startsWith(SPAN_ID_FIELD, offset - SPAN_ID_FIELD.length) &&
    text[offset + SPAN_ID_DIGITS] === '"' &&
    /^\d{16}$/u.test(text.slice(offset, offset + SPAN_ID_DIGITS))
  );
}

/** Whether `offset` of a JSON line falls inside a string: an odd count of unescaped quotes before it. */
function insideJsonString(text: string, offset: number): boolean {
  let inside = false;
  for (let index = 0; index < offset; index += 1) {
    const character = text[index];
    if (character === '\\') index += 1;
    else if (character === '"') inside = !inside;
  }
  return inside;
}

// Keys whose values are secret wherever they appear. `card_token` is not among them: a keyed
// token is safe to log and is how support finds a card.
const SECRET_KEY =
  /^(password|passwd|secret|\w*_secret|secret_key|token|access_token|refresh_token|bearer|authorization|api_?key|cookie|set-cookie|card_?number|pan|private_?key)$/iu;
const REDACTED = '[REDACTED]';
const DEPTH_MAX = 8;

function redactSecrets(value: unknown, depth: number): unknown {
  if (depth > DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && child !== undefined ? REDACTED : redactSecrets(child, depth + 1);
  }
  return copy;
}

/** Wraps a destination so that every finished line has card numbers masked. */
function maskingDestination(destination: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      destination.write(maskCardNumbers(line));
    },
  };
}

export interface LoggerSettings {
  service: string;
  level?: LoggerOptions['level'];
  /** Where lines go; stdout by default. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

/** A destination that keeps every line in memory: for tests that read or scan logs. */
export function memoryDestination(): {
  destination: DestinationStream;
  lines: Record<string, unknown>[];
  raw: string[];
} {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination: DestinationStream = {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return { destination, lines, raw };
}

export function createLogger(settings: LoggerSettings): Logger {
  const destination = settings.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: settings.level ?? 'info',
      base: { service: settings.service },
      // ISO time rather than epoch milliseconds: a 13-digit epoch would look like a card number.
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'message',
      mixin: () => ({ ...currentLogContext(), ...currentTraceIds() }),
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object, 0) as Record<string, unknown>,
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'res.headers["set-cookie"]',
        ],
        censor: REDACTED,
      },
    },
    maskingDestination(destination),
  );
}
