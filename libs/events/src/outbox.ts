/**
 * The outbox writer: validates an event against its schema, gives it the aggregate's next
 * sequence number and stores it in the caller's transaction. Nothing is published here.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { context, propagation } from '@opentelemetry/api';
import type { PoolClient } from 'pg';
import { SEQUENCE_DIGITS, formatSequence } from '@puhui/contracts';
import type { CloudEvent, EventData, EventDefinition } from '@puhui/contracts';

export interface NewEvent<Definition extends EventDefinition> {
  definition: Definition;
  /** The aggregate the event is about (CloudEvents `subject`), e.g. a merchant id. */
  subject: string;
  data: EventData<Definition>;
  /** The Kafka message key; DESIGN §3 names it per topic. Defaults to the subject. */
  key?: string;
  /** When it happened; defaults to now. */
  time?: Date;
}

/**
 * The trace context of the writing request or consumed event (CloudEvents distributed-tracing
 * extension, decision 0026), when one is active: the relay and the consumers continue it.
 * With tracing off the API's propagator is a no-op and this is `{}`.
 */
function traceContextOfWriter(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const { traceparent, tracestate } = carrier;
  return {
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(tracestate === undefined || traceparent === undefined ? {} : { tracestate }),
  };
}

/** The envelope of `event`, validated against its schema; its sequence is set when stored. */
function envelopeOf<Definition extends EventDefinition>(
  source: string,
  event: NewEvent<Definition>,
  traceContext: { traceparent?: string; tracestate?: string },
): CloudEvent<EventData<Definition>> {
  return {
    ...traceContext,
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: event.definition.type,
    subject: event.subject,
    time: (event.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    sequence: '',
    data: event.definition.data.parse(event.data) as EventData<Definition>,
  };
}

/** Writes one event to the outbox inside `client`'s open transaction and returns it. */
export async function appendEvent<Definition extends EventDefinition>(
  client: PoolClient,
  source: string,
  event: NewEvent<Definition>,
): Promise<CloudEvent<EventData<Definition>>> {
  const envelope = envelopeOf(source, event, traceContextOfWriter());
  // One round trip: the aggregate's next sequence number (upserted) and the event that carries
  // it, zero-padded as formatSequence pads it, in one statement.
  const { rows } = await client.query<{ sequence: string }>({
    name: 'outbox-append-event',
    text: `WITH next AS (
       INSERT INTO outbox_sequences (topic, subject, last_sequence) VALUES ($2, $5, 1)
       ON CONFLICT (topic, subject) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
       RETURNING last_sequence)
     INSERT INTO outbox_events (event_id, topic, message_key, event_type, subject, sequence, envelope)
     SELECT $1, $2, $3, $4, $5, next.last_sequence,
            jsonb_set($6::jsonb, '{sequence}', to_jsonb(${paddedSequenceSql('next.last_sequence', '$7')}))
     FROM next
     RETURNING sequence`,
    values: [
      envelope.id,
      event.definition.topic,
      event.key ?? event.subject,
      envelope.type,
      envelope.subject,
      JSON.stringify(envelope),
      SEQUENCE_DIGITS,
    ],
  });
  const sequence = rows[0]?.sequence;
  assert.ok(sequence !== undefined, 'the sequence upsert returns a row');
  envelope.sequence = formatSequence(BigInt(sequence));
  return envelope;
}

/** `sequence` as text, zero-padded to `digits` as formatSequence pads it. */
function paddedSequenceSql(sequence: string, digits: string): string {
  return `lpad(${sequence}::text, greatest(${digits}::integer, length(${sequence}::text)), '0')`;
}

/**
 * Writes many events to the outbox inside `client`'s open transaction in one round trip, in
 * order, and returns them: what `appendEvent` writes for each, one after the other (a bulk
 * import's 5,000 events are one statement instead of 5,000). Events may be of several
 * definitions and repeat a subject; a subject's events get consecutive sequence numbers in
 * the order given. The sequence rows are locked in (topic, subject) order, so two batches
 * touching the same aggregates cannot deadlock on them.
 */
export async function appendEvents<Definition extends EventDefinition>(
  client: PoolClient,
  source: string,
  events: readonly NewEvent<Definition>[],
): Promise<CloudEvent<EventData<Definition>>[]> {
  if (events.length === 0) return [];
  const traceContext = traceContextOfWriter();
  const envelopes = events.map((event) => envelopeOf(source, event, traceContext));
  const rows = events.map((event, position) => ({
    position,
    topic: event.definition.topic,
    message_key: event.key ?? event.subject,
    envelope: envelopes[position],
  }));
  const { rows: stored } = await client.query<{ event_id: string; sequence: string }>({
    name: 'outbox-append-events',
    text: `WITH batch AS (
       SELECT b.position, b.topic, b.message_key, b.envelope, b.envelope ->> 'subject' AS subject
       FROM jsonb_to_recordset($1::jsonb) AS b (position integer, topic text, message_key text, envelope jsonb)),
     counts AS (
       SELECT topic, subject, count(*) AS event_count FROM batch GROUP BY topic, subject),
     next AS (
       INSERT INTO outbox_sequences (topic, subject, last_sequence)
       SELECT topic, subject, event_count FROM counts ORDER BY topic, subject
       ON CONFLICT (topic, subject) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + EXCLUDED.last_sequence
       RETURNING topic, subject, last_sequence),
     numbered AS (
       SELECT batch.*, next.last_sequence - counts.event_count
                       + row_number() OVER (PARTITION BY batch.topic, batch.subject ORDER BY batch.position) AS sequence
       FROM batch JOIN counts USING (topic, subject) JOIN next USING (topic, subject))
     INSERT INTO outbox_events (event_id, topic, message_key, event_type, subject, sequence, envelope)
     SELECT (envelope ->> 'id')::uuid, topic, message_key, envelope ->> 'type', subject, sequence,
            jsonb_set(envelope, '{sequence}', to_jsonb(${paddedSequenceSql('sequence', '$2')}))
     FROM numbered ORDER BY position
     RETURNING event_id, sequence`,
    values: [JSON.stringify(rows), SEQUENCE_DIGITS],
  });
  const sequences = new Map(stored.map((row) => [row.event_id, BigInt(row.sequence)]));
  for (const envelope of envelopes) {
    const sequence = sequences.get(envelope.id);
    assert.ok(sequence !== undefined, 'every event of the batch is stored');
    envelope.sequence = formatSequence(sequence);
  }
  return envelopes;
}
