/**
 * Consumer groups of services that run two instances: each group has one member per instance,
 * and after a kill -9 of one instance (or of a broker) it must be Stable again with every
 * partition it held assigned to the members left, within the bound of decision 0008. Unlike
 * consumer-groups.ts (one instance, restarted: only new members), a survivor here keeps its
 * member id through the rebalance.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';

const POLL_INTERVAL_MS = 100;

export interface GroupSnapshot {
  state: string;
  /** Member id → the partitions it holds, as `topic/partition`. */
  members: Map<string, Set<string>>;
}

/** Every partition a snapshot's members hold. */
export function assignedPartitions(snapshot: GroupSnapshot): Set<string> {
  return new Set([...snapshot.members.values()].flatMap((partitions) => [...partitions]));
}

function decodeAssignment(buffer: Buffer): Set<string> {
  if (buffer.length === 0) return new Set();
  const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
  if (decoded === null) return new Set();
  return new Set(
    Object.entries(decoded.assignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => `${topic}/${partition}`),
    ),
  );
}

export class ClusterGroupWatcher {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    brokers: readonly string[],
    private readonly topicPrefix: string,
  ) {
    this.admin = new Kafka({
      clientId: 'chaos-cluster-groups',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
  }

  async describe(group: string): Promise<GroupSnapshot> {
    this.connected ??= this.admin.connect();
    await this.connected;
    const { groups } = await this.admin.describeGroups([`${this.topicPrefix}${group}`]);
    const described = groups[0];
    return {
      state: described?.state ?? 'Unknown',
      members: new Map(
        (described?.members ?? []).map((member) => [
          member.memberId,
          decodeAssignment(member.memberAssignment),
        ]),
      ),
    };
  }

  /** Each group's snapshot now. */
  async snapshot(groups: readonly string[]): Promise<Map<string, GroupSnapshot>> {
    const snapshots = new Map<string, GroupSnapshot>();
    for (const group of groups) snapshots.set(group, await this.describe(group));
    return snapshots;
  }

  /**
   * Waits until each group in `before` is Stable with `membersWanted(before)` members, none of
   * them new unless `newMembersAllowed`, holding together every partition held before; returns
   * the milliseconds from `since` per group, undefined for one not back by `timeoutMs`.
   */
  async waitRebalanced(
    before: Map<string, GroupSnapshot>,
    since: number,
    timeoutMs: number,
    membersWanted: (before: GroupSnapshot) => number,
    newMembersAllowed = false,
  ): Promise<Map<string, number | undefined>> {
    const deadline = since + timeoutMs;
    const back = new Map<string, number | undefined>();
    for (const [group, old] of before) {
      back.set(group, undefined);
      const wanted = assignedPartitions(old);
      while (Date.now() < deadline) {
        const now = await this.describe(group).catch(() => undefined);
        const held = now === undefined ? new Set<string>() : assignedPartitions(now);
        const settled =
          now !== undefined &&
          now.state === 'Stable' &&
          now.members.size === membersWanted(old) &&
          (newMembersAllowed || [...now.members.keys()].every((id) => old.members.has(id))) &&
          [...wanted].every((partition) => held.has(partition));
        if (settled) {
          back.set(group, Date.now() - since);
          break;
        }
        await sleep(POLL_INTERVAL_MS);
      }
    }
    return back;
  }

  async close(): Promise<void> {
    if (this.connected !== undefined) await this.admin.disconnect().catch(() => undefined);
  }
}
