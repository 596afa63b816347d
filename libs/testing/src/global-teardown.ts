/** Stops the containers that the global setup started; local services keep running. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.puhuiInfrastructure?.stop();
}
