/**
 * The outbox writer: validates an event against its schema, gives it the aggregate's next
 * sequence number and stores it in the caller's transaction. Nothing is published here.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
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

/** Writes one event to the outbox inside `client`'s open transaction and returns it. */
export async function appendEvent<Definition extends EventDefinition>(
  client: PoolClient,
  source: string,
  event: NewEvent<Definition>,
): Promise<CloudEvent<EventData<Definition>>> {
  const data = event.definition.data.parse(event.data) as EventData<Definition>;
  const envelope: CloudEvent<EventData<Definition>> = {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: event.definition.type,
    subject: event.subject,
    time: (event.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    sequence: '',
    data,
  };
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
            jsonb_set($6::jsonb, '{sequence}',
                      to_jsonb(lpad(next.last_sequence::text, greatest($7::integer, length(next.last_sequence::text)), '0')))
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
