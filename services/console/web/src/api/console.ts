/** The console's own API (spec §4), typed by hand from it: the console has no OpenAPI document yet. */
import { get, patch, post, remove } from './http';

export type Stage = 'totp_enrolment_required' | 'totp_required' | 'signed_in';

export interface Account {
  id: string;
  username: string;
  display_name: string;
  roles: string[];
  merchant_id: string | null;
  status: string;
  totp_enrolled: boolean;
  /** Until when sign-in is locked after repeated failures; null when it is not. */
  locked_until?: string | null;
  created_at: string;
}

export interface SessionAnswer {
  stage: Stage;
  account: Account;
  csrf_token: string;
  idle_expires_at?: string;
  expires_at?: string;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export interface SessionRow {
  id: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

export interface Invitation {
  token: string;
  url: string;
  expires_at: string;
}

export type ServiceName = 'merchant-onboarding' | 'discount-rules' | 'transaction-settlement';

export interface ApprovalRequest {
  id: string;
  service: ServiceName;
  action: string;
  target_type: string;
  target_id: string;
  summary: string;
  before: unknown;
  after: unknown;
  required_role: string;
  requested_by: string;
  /** Filled by the console's inbox when it knows the person (optional: the services know only ids). */
  requested_by_display_name?: string | null;
  requested_by_username?: string | null;
  requested_at: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  outcome: unknown;
}

export const consoleApi = {
  session: () => get<SessionAnswer>('/console/v1/session', { signedOutIsExpected: true }),
  signIn: (username: string, password: string) =>
    post<SessionAnswer>('/console/v1/session', { username, password }, { signedOutIsExpected: true }),
  signOut: () => remove<void>('/console/v1/session'),
  startTotpEnrolment: () => post<TotpEnrolment>('/console/v1/session/totp/enrolment'),
  verifyTotp: (code: string) => post<SessionAnswer>('/console/v1/session/totp', { code }),
  sessions: () => get<{ data: SessionRow[] }>('/console/v1/sessions'),
  endSession: (id: string) => remove<void>(`/console/v1/sessions/${encodeURIComponent(id)}`),
  signOutEverywhere: () => post<void>('/console/v1/sessions/sign_out_everywhere'),
  accounts: () => get<{ data: Account[] }>('/console/v1/accounts'),
  invite: (body: { username: string; display_name: string; roles: string[]; merchant_id?: string }) =>
    post<{ account: Account; invitation: Invitation }>('/console/v1/accounts', body),
  updateAccount: (id: string, body: { roles?: string[]; display_name?: string }) =>
    patch<Account>(`/console/v1/accounts/${encodeURIComponent(id)}`, body),
  disableAccount: (id: string, reason: string) =>
    post<Account>(`/console/v1/accounts/${encodeURIComponent(id)}/disable`, { reason }),
  acceptInvitation: (token: string, password: string) =>
    post<unknown>('/console/v1/invitations/accept', { token, password }, { signedOutIsExpected: true }),
  inbox: () => get<{ data: ApprovalRequest[]; unavailable?: ServiceName[] }>('/console/v1/inbox'),
};
