/**
 * The answer for an id a service's replica does not hold (DESIGN §10): `not_yet_available`
 * (503, Retry-After) while the id's own time says it may still be on its way from the service
 * that created it, and the service's usual refusal (404, a 400 naming the field) otherwise.
 */
import { NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS, idCreatedAt, mayBeReplicating } from '@puhui/contracts';
import { NotYetAvailable } from '@puhui/errors';
import type { DomainError } from '@puhui/errors';

export interface UnknownReplicaId {
  /** For people, e.g. `Budget bud_…`. */
  what: string;
  id: string;
  /** The id's prefix (`bud`, `mer`): only a well-formed id carries a time to trust. */
  prefix: string;
}

export function unknownToReplica(unknown: UnknownReplicaId, otherwise: () => DomainError): DomainError {
  return mayBeReplicating(idCreatedAt(unknown.id, unknown.prefix))
    ? new NotYetAvailable(unknown.what, NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS)
    : otherwise();
}
