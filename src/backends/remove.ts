/**
 * The one removal of a journaled fault with no runner: `faultline recover`, `faultline halt`
 * and the control room's HALT all come here, and here asks the fault's backend. A live run
 * removes through its driver, which (for local backends) calls the same `recover`.
 */
import type { Backend, LocationOf, RecoverContext, TargetType } from './backend.js';
import type { FaultLocation } from './location.js';
import { BACKENDS, backendFor, type BackendRegistry } from './registry.js';

function recoverWith<T extends TargetType>(
  backend: Backend<T>,
  location: LocationOf<T>,
  context: RecoverContext,
): Promise<void> {
  return backend.recover(location, context);
}

/** Removes a journaled fault through its backend; already gone counts as removed. */
export function removeJournaledFault(
  location: FaultLocation,
  context: RecoverContext,
  registry: BackendRegistry = BACKENDS,
): Promise<void> {
  return recoverWith(backendFor(location.backend, registry), location, context);
}

/** True when the fault lived inside its runner's process (it died with it; only the runner removes it). */
export function livesInRunner(
  location: FaultLocation,
  registry: BackendRegistry = BACKENDS,
): boolean {
  return backendFor(location.backend, registry).lives === 'in-process';
}
