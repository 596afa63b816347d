/**
 * "Requests waiting for me": the pending approval requests of the three services that this
 * person may decide — their role, and not their own — fetched with their own tokens. The
 * services decide again when the person approves; this list only spares them the others.
 */
import type { ConsoleConfig, ProxiedService } from '../config';
import { PROXIED_SERVICES, serviceUrlOf } from '../config';
import type { Account } from '../domain/account';
import { findAccountsByIds } from '../store/accounts';
import type { ConsoleContext } from './context';
import { operatorTokenFor } from './tokens';

/** Each service is asked for this many pending requests at most (one page). */
const PENDING_PAGE_SIZE = 100;
const SERVICE_TIMEOUT_MS = 3_000;
/** Roles that decide approval requests; others have nothing to decide. */
const CHECKER_ROLES = ['admin', 'finance'];

/** An approval request as a service answers it (libs/dual-control), with the service that holds it. */
type ApprovalRequest = AnsweredRequest & { service: string };

/** What the inbox shows: the request, and who asked as people know them. */
type InboxItem = ApprovalRequest & {
  requested_by_username: string | null;
  requested_by_display_name: string | null;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

/** The account id a request's `requested_by` names (a token's subject, perhaps as `operator:<id>`). */
function requesterId(request: ApprovalRequest): string | undefined {
  const subject = (request.requested_by ?? '').replace(/^operator:/u, '');
  return UUID.test(subject) ? subject : undefined;
}

interface AnsweredRequest {
  id: string;
  service?: string;
  required_role?: string;
  requested_by?: string;
  [field: string]: unknown;
}

async function pendingOf(
  config: ConsoleConfig,
  account: Account,
  service: ProxiedService,
): Promise<ApprovalRequest[]> {
  const url = `${serviceUrlOf(config, service)}/v1/approval_requests?status=pending&limit=${PENDING_PAGE_SIZE}`;
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${operatorTokenFor(config, account, service)}`,
      accept: 'application/json',
    },
    signal: AbortSignal.timeout(SERVICE_TIMEOUT_MS),
  });
  // A service whose requests this role may not read has none for this person to decide.
  if (response.status === 403) return [];
  if (!response.ok) throw new Error(`${service} answered ${response.status}`);
  const page = (await response.json()) as { data?: AnsweredRequest[] };
  return (page.data ?? []).map((item) => ({ ...item, service: item.service ?? service }));
}

export function mayDecide(account: Account, request: ApprovalRequest): boolean {
  const requestedBy = request.requested_by ?? '';
  const own = requestedBy === account.id || requestedBy === `operator:${account.id}`;
  return (
    !own &&
    typeof request.required_role === 'string' &&
    account.roles.some((role) => role === request.required_role)
  );
}

async function withRequesters(context: ConsoleContext, requests: ApprovalRequest[]): Promise<InboxItem[]> {
  const ids = [...new Set(requests.map(requesterId).filter((id): id is string => id !== undefined))];
  const accounts = new Map(
    (await findAccountsByIds(context.pool, ids)).map((account) => [account.id, account]),
  );
  return requests.map((request) => {
    const requester = accounts.get(requesterId(request) ?? '');
    return {
      ...request,
      requested_by_username: requester?.username ?? null,
      requested_by_display_name: requester?.display_name ?? null,
    };
  });
}

export async function inboxOf(
  context: ConsoleContext,
  account: Account,
): Promise<{ data: InboxItem[]; unavailable: string[] }> {
  const { config, logger } = context;
  if (!account.roles.some((role) => CHECKER_ROLES.includes(role))) return { data: [], unavailable: [] };
  const answers = await Promise.allSettled(
    PROXIED_SERVICES.map((service) => pendingOf(config, account, service)),
  );
  const data: ApprovalRequest[] = [];
  const unavailable: string[] = [];
  answers.forEach((answer, index) => {
    const service = PROXIED_SERVICES[index] as ProxiedService;
    if (answer.status === 'fulfilled')
      data.push(...answer.value.filter((request) => mayDecide(account, request)));
    else {
      unavailable.push(service);
      logger.warn({ service, err: answer.reason as Error }, 'inbox: a service did not answer');
    }
  });
  data.sort((a, b) => String(a.requested_at ?? '').localeCompare(String(b.requested_at ?? '')));
  return { data: await withRequesters(context, data), unavailable };
}
