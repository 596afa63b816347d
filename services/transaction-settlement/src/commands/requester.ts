/** Who asks for an action that needs a second person. */
export interface Requester {
  /** The token subject (console account id): approval requests and their checker rules compare these. */
  subject: string;
  /** `operator:<subject>`: the idempotency scope and the ledger's and payouts' record of who. */
  actor: string;
}
