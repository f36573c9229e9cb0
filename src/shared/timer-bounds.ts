/**
 * The longest delay a Node timer can hold: `setTimeout` stores its delay as a signed 32-bit
 * integer and fires at once (with a TimeoutOverflowWarning) for anything above it. Every
 * duration a user can set — a toxic attribute, a fault's `after`, a deadline — is checked
 * against this bound where it is read, so a huge value is refused instead of firing at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
