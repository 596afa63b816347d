import path from 'node:path';
import type { MigrationSource } from '@puhui/postgres';

export { checkerOf, defineApprovalAction, dualControl } from './dual-control';
export type {
  ApprovalAction,
  ApprovalAuditEntry,
  ApprovalAuditEvent,
  ApprovalRequestRecord,
  Checker,
  DualControl,
  DualControlSettings,
  ExcludedChecker,
  NewApprovalRequestInput,
} from './dual-control';
export { APPROVAL_OPERATIONS, approvalRoutes } from './routes';
export type { ApprovalRouting } from './routes';
export { APPROVAL_STATUSES } from './store';
export type { ApprovalRequestFilter, ApprovalStatus } from './store';
export {
  approvalRequestAcceptedSchema,
  approvalRequestListSchema,
  approvalRequestSchema,
  approvalRequestView,
} from './view';
export type { ApprovalRequestView } from './view';

/** The approval_requests table; a service with dual control lists it in its definition's libraryMigrations. */
export const DUAL_CONTROL_MIGRATIONS: MigrationSource = {
  directory: path.join(__dirname, '..', 'migrations'),
  table: 'pgmigrations_dual_control',
};
