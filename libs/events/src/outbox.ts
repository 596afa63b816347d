/**
 * The outbox writer: validates an event against its schema, gives it the aggregate's next
 * sequence number and stores it in the caller's transaction. Nothing is published here.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import type { PoolClient } from 'pg';
import { formatSequence } from '@puhui/contracts';
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
  const sequenceResult = await client.query<{ last_sequence: string }>(
    `INSERT INTO outbox_sequences (topic, subject, last_sequence) VALUES ($1, $2, 1)
     ON CONFLICT (topic, subject) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
     RETURNING last_sequence`,
    [event.definition.topic, event.subject],
  );
  const sequence = sequenceResult.rows[0]?.last_sequence;
  assert.ok(sequence !== undefined, 'the sequence upsert returns a row');
  const envelope: CloudEvent<EventData<Definition>> = {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: event.definition.type,
    subject: event.subject,
    time: (event.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    sequence: formatSequence(BigInt(sequence)),
    data,
  };
  await client.query(
    `INSERT INTO outbox_events (event_id, topic, message_key, event_type, subject, sequence, envelope)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      envelope.id,
      event.definition.topic,
      event.key ?? event.subject,
      envelope.type,
      envelope.subject,
      sequence,
      JSON.stringify(envelope),
    ],
  );
  return envelope;
}
