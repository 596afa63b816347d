import { TOPICS } from '@puhui/contracts';
import { PLATFORM_OPERATIONS, assertDocumentedResponse } from '@puhui/http';
import { makeCreditCode, makeResidentId } from '@puhui/kyc';
import { startService } from '@puhui/service';
import {
  operatorToken,
  readAnswer,
  recordTopic,
  sendJson,
  startTestService,
  testSubject,
} from '@puhui/testing';
import type { CapturedLogger, TopicRecorder } from '@puhui/testing';
import { loadMerchantOnboardingConfig } from '../src/config';
import { merchantOnboardingApi } from '../src/http/api';
import { merchantOnboardingService } from '../src/service';

/** Every answer a test gets is checked against the OpenAPI document (see libs/http conformance). */
const DOCUMENTED_OPERATIONS = [...PLATFORM_OPERATIONS, ...merchantOnboardingApi.operations];

/** The account id of the harness's admin: audit trails name `operator:<ADMIN>`. */
export const ADMIN = testSubject('admin.zhang');
/** A second admin, who approves what ADMIN asked for (dual control). */
export const CHECKER = testSubject('admin-checker');

export interface Harness {
  url: string;
  databaseUrl: string;
  events: TopicRecorder;
  /** A fresh admin token each time it is read (tokens live 5 minutes). */
  readonly admin: string;
  call: (method: string, path: string, options?: { token?: string; body?: unknown }) => Promise<ApiResponse>;
  close: () => Promise<void>;
}

export interface ApiResponse {
  status: number;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  contentType: string | null;
}

/** `logger`: where the service logs (a captured one, to scan its lines); the default writes to stdout. */
export async function startHarness(options: { logger?: CapturedLogger['logger'] } = {}): Promise<Harness> {
  const running = await startTestService((environment) =>
    startService(merchantOnboardingService(loadMerchantOnboardingConfig(environment)), {
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    }),
  );
  const events = await recordTopic(`${running.topicPrefix}${TOPICS.merchants}`);
  const admin = () => operatorToken(['admin'], { subject: ADMIN });
  const call: Harness['call'] = async (method, path, options = {}) => {
    const token = options.token === undefined ? admin() : options.token;
    const response = await sendJson(`${running.url}${path}`, method, { token, body: options.body });
    const answer = await readAnswer(response);
    assertDocumentedResponse(DOCUMENTED_OPERATIONS, { method, path, ...answer });
    return answer;
  };
  const databaseUrl = new URL(process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432');
  databaseUrl.pathname = `/${running.environment.DATABASE_NAME ?? ''}`;
  return {
    url: running.url,
    databaseUrl: databaseUrl.toString(),
    events,
    get admin() {
      return admin();
    },
    call,
    close: async () => {
      await events.stop();
      await running.close();
    },
  };
}

let serial = 0;
/** A complete, valid application; each call gets a distinct credit code. */
export function completeApplication(overrides: Record<string, unknown> = {}) {
  serial += 1;
  const legalName = `上饶市普惠超市有限公司${serial}`;
  return {
    legal_name: legalName,
    display_name: `普惠超市 ${serial}号店`,
    credit_code: makeCreditCode(`91361100MA${String(100000 + serial).padStart(7, '0')}`),
    category: 'supermarket',
    region_code: '361100',
    address: '江西省上饶市信州区中山路1号',
    contact: { name: '王芳', mobile: '13800138000', email: 'wang.fang@example.cn' },
    legal_representative: { name: '李强', id_number: makeResidentId('36110219800101123') },
    settlement_account: {
      account_type: 'corporate',
      account_name: legalName,
      account_number: '6222021234567890123',
      bank_name: '中国工商银行上饶分行',
      branch_code: '102431000015',
    },
    outlets: [{ name: '中山路店', address: '江西省上饶市信州区中山路1号' }],
    ...overrides,
  };
}

/** Takes an application through submit, review and approval (by a second admin); returns its id. */
export async function approvedMerchant(
  harness: Harness,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const created = await harness.call('POST', '/v1/merchants', { body: completeApplication(overrides) });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  for (const action of ['submit', 'start_review']) {
    const response = await harness.call('POST', `/v1/merchants/${id}/${action}`);
    if (response.status !== 200) throw new Error(`${action} failed: ${JSON.stringify(response.body)}`);
  }
  // The approval needs a second admin (dual control): the harness's admin asks, CHECKER approves.
  const asked = await harness.call('POST', `/v1/merchants/${id}/approve`);
  if (asked.status !== 202) throw new Error(`approve failed: ${JSON.stringify(asked.body)}`);
  const approved = await harness.call(
    'POST',
    `/v1/approval_requests/${asked.body.approval_request.id}/approve`,
    {
      token: operatorToken(['admin'], { subject: CHECKER }),
      body: {},
    },
  );
  if (approved.status !== 200) throw new Error(`approval failed: ${JSON.stringify(approved.body)}`);
  return id;
}

async function merchantCount(harness: Harness): Promise<number> {
  const list = await harness.call('GET', '/v1/merchants?limit=100');
  return list.body.data.length;
}

/** Posts `application`, expects a 400 and no merchant stored for it; answers the refusal. */
export async function refusedApplication(harness: Harness, application: unknown): Promise<ApiResponse> {
  const before = await merchantCount(harness);
  const response = await harness.call('POST', '/v1/merchants', { body: application });
  expect(response.status).toBe(400);
  expect(await merchantCount(harness)).toBe(before);
  return response;
}
