/** The operations every service has: liveness and readiness (DESIGN §10). */
import { z } from 'zod';
import { defineOperation } from './operations';

export const healthOperation = defineOperation({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness: the process answers',
  tags: ['platform'],
  callers: [],
  beforeBodyParser: true,
  responses: {
    200: {
      description: 'The process is up.',
      schema: z.strictObject({ status: z.literal('ok'), service: z.string() }).meta({ id: 'Health' }),
    },
  },
});

export const readinessOperation = defineOperation({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  summary: 'Readiness: Postgres, Redis and Kafka answer',
  description: 'Answers 503 while a dependency is not answering or while the service shuts down.',
  tags: ['platform'],
  callers: [],
  beforeBodyParser: true,
  responses: {
    200: {
      description: 'Every dependency answered.',
      schema: z
        .strictObject({
          status: z.literal('ready'),
          service: z.string(),
          checks: z.record(z.string(), z.string()).meta({ description: 'Each dependency: `ok`.' }),
        })
        .meta({ id: 'Readiness' }),
    },
  },
  problems: [503],
});

export const PLATFORM_OPERATIONS = [healthOperation, readinessOperation] as const;
export const PLATFORM_TAG = { name: 'platform', description: 'Liveness and readiness, for orchestrators.' };
