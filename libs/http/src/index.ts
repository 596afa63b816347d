export { createApp, route } from './app';
export type { AppHandle, AppOptions, ReadinessCheck, RouteHandlers } from './app';
export { PROBLEM_CONTENT_TYPE, problemMapper, problemType, sendProblem } from './problem';
export type { Problem } from './problem';
export { startHttpServer } from './server';
export type { Closer, RunningServer, ServerOptions } from './server';
export { parseRequest } from './validation';
export type { InvalidRequestParam, ParsedRequest, RequestPart } from './validation';
