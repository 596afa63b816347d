/**
 * Helpers for tests that run against the real Postgres, Redis and Kafka. Each test file
 * gets its own database, topic prefix and Redis key prefix, and cleans up after itself.
 */
export { canConnect, resolveInfrastructure } from './infrastructure';
export type { Infrastructure, InfrastructureSource, ResolvedService } from './infrastructure';
// Defined in basics.ts, so that service.ts and kafka.ts use them without importing this index.
export * from './basics';
export { expectServiceBootsAndStops, startTestService } from './service';
export type { BootableService, TestService } from './service';
export { recordTopic } from './kafka';
export type { RecordedMessage, TopicRecorder } from './kafka';
export { auditTrail, readAnswer, sendJson } from './calls';
export { approveAs, rejectAs } from './approvals';
export type { JsonAnswer } from './calls';
export { committedDocument, describeServedDocs, expectDocsServed, expectHealthyAndReady } from './docs';
export type { RunningDocs } from './docs';
export { operatorToken, testSubject } from './tokens';
export type { TestTokenOptions } from './tokens';
export { startSecureRedis, testSecureKafka } from './secure-infrastructure';
export type { SecureKafka, SecureRedis } from './secure-infrastructure';
