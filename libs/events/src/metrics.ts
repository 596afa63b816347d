/**
 * What the event machinery reports for metrics (decision 0024), as interfaces: libs/events does
 * not depend on a metrics library; @puhui/metrics implements them and libs/service wires them.
 * Topic and group names are the logical ones (without KAFKA_TOPIC_PREFIX), so a label set is
 * the same across test runs and tenants and stays bounded by the topics in the catalogue.
 */
import type { Admin } from 'kafkajs';
import type { MessageOutcome } from './consumer';

export interface ConsumerObserver {
  /** One message handled to `outcome` (`ignored` ones, events of types the group does not read, included). */
  consumed(group: string, topic: string, outcome: MessageOutcome): void;
}

export interface RelayObserver {
  /** A pass of the relay ended: whether this instance held the relay lock in it. */
  passed(leader: boolean): void;
  /** `events` rows of `topic` were acknowledged by Kafka and marked published. */
  published(topic: string, events: number): void;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lagMessages: number;
}

/** What the readings need of a kafkajs Admin (the Confluent adapter lacks fetchOffsets: it fails, and is counted). */
export type OffsetsAdmin = Pick<Admin, 'fetchOffsets' | 'fetchTopicOffsets'>;

/**
 * Each partition's messages past the group's committed offset (the whole partition, from its low
 * watermark, while the group has committed nothing: its consumers read from the beginning). One
 * OffsetFetch for the group and one ListOffsets per topic: a consumer reads a handful of topics.
 */
export async function readGroupLag(
  admin: OffsetsAdmin,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const lags: PartitionLag[] = [];
  for (const topic of topics) {
    const positions = new Map(
      (committed.find((entry) => entry.topic === topic)?.partitions ?? []).map((entry) => [
        entry.partition,
        Number(entry.offset),
      ]),
    );
    for (const end of await admin.fetchTopicOffsets(topic)) {
      const low = Number(end.low);
      const committedOffset = positions.get(end.partition) ?? -1;
      const position = committedOffset < 0 ? low : Math.max(committedOffset, low);
      lags.push({ topic, partition: end.partition, lagMessages: Math.max(0, Number(end.high) - position) });
    }
  }
  return lags;
}

/** The messages a topic holds: Σ over its partitions of high − low watermark. */
export async function readTopicDepth(admin: OffsetsAdmin, topic: string): Promise<number> {
  const partitions = await admin.fetchTopicOffsets(topic);
  return partitions.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
}
