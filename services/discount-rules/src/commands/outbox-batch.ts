/**
 * Appends many events of one definition in two statements, validated like appendEvent.
 * Worth reporting upstream as `appendEvents` in @puhui/events.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { formatSequence } from '@puhui/contracts';
import type { CloudEvent, EventData, EventDefinition } from '@puhui/contracts';
import type { PoolClient } from '@puhui/postgres';
import { claimSequences, insertOutboxEnvelopes } from '../store/outbox';

export interface BatchEvent<Definition extends EventDefinition> {
  /** Distinct within one call: one event per aggregate. */
  subject: string;
  data: EventData<Definition>;
  time: Date;
}

export async function appendEventBatch<Definition extends EventDefinition>(
  client: PoolClient,
  source: string,
  definition: Definition,
  events: readonly BatchEvent<Definition>[],
): Promise<void> {
  if (events.length === 0) return;
  const payloads = events.map((event) => definition.data.parse(event.data) as EventData<Definition>);
  const sequences = await claimSequences(
    client,
    definition.topic,
    events.map((event) => event.subject),
  );
  const envelopes = events.map((event, index): CloudEvent<unknown> => {
    const sequence = sequences.get(event.subject);
    assert.ok(sequence !== undefined, `no sequence for ${event.subject}: subjects must be distinct`);
    return {
      specversion: '1.0',
      id: randomUUID(),
      source,
      type: definition.type,
      subject: event.subject,
      time: event.time.toISOString(),
      datacontenttype: 'application/json',
      sequence: formatSequence(sequence),
      data: payloads[index],
    };
  });
  await insertOutboxEnvelopes(client, definition.topic, envelopes);
}
