/** Deciding maker–checker requests (@puhui/dual-control's `/v1/approval_requests`) as a second person. */
import { readAnswer, sendJson } from './calls';
import type { JsonAnswer } from './calls';

/** `POST <baseUrl>/v1/approval_requests/<id>/approve` with `token` (e.g. `operatorToken(['finance'], { subject: testSubject('finance-checker') })`). */
export async function approveAs(
  baseUrl: string,
  requestId: string,
  token: string,
  body: { reason?: string } = {},
): Promise<JsonAnswer> {
  return readAnswer(
    await sendJson(`${baseUrl}/v1/approval_requests/${requestId}/approve`, 'POST', { token, body }),
  );
}

/** `POST <baseUrl>/v1/approval_requests/<id>/reject` with a reason. */
export async function rejectAs(
  baseUrl: string,
  requestId: string,
  token: string,
  reason: string,
): Promise<JsonAnswer> {
  return readAnswer(
    await sendJson(`${baseUrl}/v1/approval_requests/${requestId}/reject`, 'POST', {
      token,
      body: { reason },
    }),
  );
}
