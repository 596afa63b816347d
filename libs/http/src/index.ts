export { createApp, requestIdOf, route } from './app';
export type { AppHandle, AppOptions, MountedRoute, ReadinessCheck, RouteHandlers, RouteOptions } from './app';
export {
  assertDocumentedResponse,
  findOperation,
  operationsFromOpenApi,
  responseIssues,
} from './conformance';
export type { DocumentedAnswers, DocumentedResponse, ObservedResponse } from './conformance';
export type { ApiDocs } from './docs';
export { apiTitleAndVersion, openApiDocument } from './openapi';
export type { ApiInfo } from './openapi';
export { defineOperation, documented, openApiPath, respond } from './operations';
export { answered, auditTrailRoutes } from './handlers';
export type { ParsedBy } from './handlers';
export type {
  Caller,
  DocumentedHandler,
  HttpMethod,
  Operation,
  OperationRequest,
  OperationResponse,
  OperationSpec,
  ProblemStatus,
  RawBody,
  ResponseBody,
} from './operations';
export { pageSchema } from './page';
export { PLATFORM_OPERATIONS } from './platform-operations';
export { PROBLEM_CONTENT_TYPE, problemMapper, problemSchema, problemType, sendProblem } from './problem';
export type { Problem } from './problem';
export { startHttpServer } from './server';
export type { Closer, RunningServer, ServerOptions } from './server';
export { parseRequest } from './validation';
export { unknownToReplica } from './replica';
export type { UnknownReplicaId } from './replica';
export { CSV_CONTENT_TYPE, CsvUpload, requireUncompressedCsv } from './csv-body';
export type { CsvRecord, CsvUploadSettings, MalformedCsv } from './csv-body';
export { defineIdempotentOperation, idempotentPost } from './idempotency';
export type { IdempotentAnswer } from './idempotency';
export { SAFE_TEXT_FORMULA_REASON, SAFE_TEXT_INVISIBLE_REASON, safeText, unsafeTextReason } from './text';
export type { InvalidRequestParam, ParsedRequest, RequestPart } from './validation';
export { authenticate } from './auth';
export type { AuthenticationSettings } from './auth';
export { authenticateCallers } from './caller';
export type { CallerCheck } from './caller';
export { FailedAuthenticationGate, addressKey } from './address-gate';
export type { FailedAuthenticationLimits } from './address-gate';
export type { ArrivalLimits } from './arrival';
/** `labelOperation(label)`: names the operation of requests a router answers without one (the console's proxy). */
export { UNMATCHED_OPERATION, labelOperation } from './metrics';
export type { MetricsEndpoint, RequestObserver } from './metrics';
