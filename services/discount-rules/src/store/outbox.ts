/**
 * Batched writes to the transactional outbox (libs/events' `outbox_sequences` and
 * `outbox_events`), for bulk imports: appendEvent takes a round trip per event, which for
 * 263,000 cards is 263,000 round trips; these take two per batch. The rows are exactly what
 * appendEvent writes, so the relay publishes them the same way.
 */
import type { PoolClient } from 'pg';
import type { CloudEvent } from '@puhui/contracts';

/** Takes the next sequence number of each subject (distinct) on `topic`. */
export async function claimSequences(
  client: PoolClient,
  topic: string,
  subjects: readonly string[],
): Promise<Map<string, bigint>> {
  const { rows } = await client.query<{ subject: string; last_sequence: string }>(
    `INSERT INTO outbox_sequences (topic, subject, last_sequence)
     SELECT $1, subject, 1 FROM unnest($2::text[]) AS subject
     ON CONFLICT (topic, subject) DO UPDATE SET last_sequence = outbox_sequences.last_sequence + 1
     RETURNING subject, last_sequence`,
    [topic, subjects],
  );
  return new Map(rows.map((row) => [row.subject, BigInt(row.last_sequence)]));
}

/** Inserts envelopes keyed by their subject (the card token for `puhui.cards.v1`). */
export async function insertOutboxEnvelopes(
  client: PoolClient,
  topic: string,
  envelopes: readonly CloudEvent<unknown>[],
): Promise<void> {
  await client.query(
    `INSERT INTO outbox_events (event_id, topic, message_key, event_type, subject, sequence, envelope)
     SELECT (envelope ->> 'id')::uuid, $1, envelope ->> 'subject', envelope ->> 'type', envelope ->> 'subject',
            (envelope ->> 'sequence')::bigint, envelope
     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS batch (envelope, position)
     ORDER BY position`,
    [topic, JSON.stringify(envelopes)],
  );
}
