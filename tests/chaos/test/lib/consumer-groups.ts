/**
 * Consumer groups as the broker sees them: which members a service's groups hold before a
 * kill, and how long until each group is stable again with only new members, every one of
 * them holding partitions (issue 22: a killed service's consumers back within
 * CONSUMER_REJOIN_BOUND_MS).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import type { ServiceName } from '../../../e2e/test/system';
import { SUBSCRIPTIONS } from './invariants';

/** The logical consumer groups a service runs (without the run's topic prefix). */
export function consumerGroupsOf(service: ServiceName): string[] {
  return [...new Set(SUBSCRIPTIONS.filter((s) => s.consumer === service).map((s) => s.group))];
}

const POLL_INTERVAL_MS = 100;

export class ConsumerGroupWatcher {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    brokers: readonly string[],
    private readonly topicPrefix: string,
  ) {
    this.admin = new Kafka({
      clientId: 'chaos-groups',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
  }

  private async describe(
    group: string,
  ): Promise<{ state: string; members: Array<{ id: string; assigned: boolean }> }> {
    this.connected ??= this.admin.connect();
    await this.connected;
    const { groups } = await this.admin.describeGroups([`${this.topicPrefix}${group}`]);
    const described = groups[0];
    return {
      state: described?.state ?? 'Unknown',
      members: (described?.members ?? []).map((member) => ({
        id: member.memberId,
        assigned: member.memberAssignment.length > 0,
      })),
    };
  }

  /** The member ids of each of `service`'s groups now. */
  async membersOf(service: ServiceName): Promise<Map<string, Set<string>>> {
    const members = new Map<string, Set<string>>();
    for (const group of consumerGroupsOf(service)) {
      members.set(group, new Set((await this.describe(group)).members.map((member) => member.id)));
    }
    return members;
  }

  /**
   * Waits until every group in `before` is Stable with none of its old members and every member
   * assigned; returns how long each took from `since`, or undefined for one not back within
   * `timeoutMs`. It stops early, with nothing for the groups not yet back, once `superseded`
   * says a later kill made the wait meaningless.
   */
  async waitRejoined(
    before: Map<string, Set<string>>,
    since: number,
    timeoutMs: number,
    superseded: () => boolean = () => false,
  ): Promise<Map<string, number | undefined> | 'superseded'> {
    const deadline = since + timeoutMs;
    const rejoined = new Map<string, number | undefined>();
    for (const [group, oldMembers] of before) {
      rejoined.set(group, undefined);
      while (Date.now() < deadline) {
        if (superseded()) return 'superseded';
        const { state, members } = await this.describe(group).catch(() => ({
          state: 'Unknown',
          members: [],
        }));
        const back =
          state === 'Stable' &&
          members.length > 0 &&
          members.every((member) => member.assigned && !oldMembers.has(member.id));
        if (back) {
          rejoined.set(group, Date.now() - since);
          break;
        }
        await sleep(POLL_INTERVAL_MS);
      }
    }
    return rejoined;
  }

  async close(): Promise<void> {
    if (this.connected !== undefined) await this.admin.disconnect();
  }
}
