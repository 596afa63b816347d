/**
 * The preview worker (a piscina worker thread, decision 0019): everything in a preview that
 * grows with its body — checking the body against the schema, pricing, and writing the answer
 * as JSON — runs here, off the service's event loop. The main thread only parses the JSON
 * body (the app's parser), reads the stored rules the body names, and sends the answer's bytes.
 *
 * Errors cannot cross a thread as their classes, so a refusal comes back as the DomainError's
 * fields and the main thread throws it again (commands/preview.ts).
 */
import type { Request } from 'express';
import { DomainError } from '@puhui/errors';
import type { ErrorKind, InvalidParam } from '@puhui/errors';
import { parseRequest } from '@puhui/http';
import { move } from 'piscina';
import { previewAnswer } from '../domain/preview';
import type { KnownRules, PreviewCaps, PreviewRequest } from '../domain/preview';
import { previewBody } from '../http/schemas';

export interface PreviewTask {
  /** The request body as the app's JSON parser left it, not yet checked. */
  body: unknown;
  known: KnownRules;
  caps: PreviewCaps;
}

/** A DomainError's fields, to be thrown again on the main thread. */
export interface PreviewRefusal {
  kind: ErrorKind;
  code: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
  invalidParams: InvalidParam[];
}

/** The answer as UTF-8 JSON (its buffer moved, not copied, to the main thread), or a refusal. */
export type PreviewOutcome = Uint8Array | { refusal: PreviewRefusal };

export default function pricePreview(task: PreviewTask): PreviewOutcome {
  try {
    // The same check the route's other operations get from `answered` (NUL characters, then zod).
    const { body } = parseRequest({ body: task.body } as Request, { body: previewBody });
    const answer = previewAnswer(body as PreviewRequest, task.known, task.caps);
    // TextEncoder's array owns its buffer: a small Buffer.from() would share (and move) a pool slab.
    return move(new TextEncoder().encode(JSON.stringify(answer))) as unknown as PreviewOutcome;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return {
      refusal: {
        kind: error.kind,
        code: error.code,
        title: error.title,
        detail: error.detail,
        extensions: { ...error.extensions },
        invalidParams: [...error.invalidParams],
      },
    };
  }
}
