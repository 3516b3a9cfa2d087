/** The Temporal client (start, update, query workflows) shared by the HTTP/gRPC adapters and the drill activities. */
export const TEMPORAL_CLIENT = Symbol('recovery.temporalClient');
/** The recovery activities the worker registers (built once, with their ports). */
export const RECOVERY_ACTIVITIES = Symbol('recovery.activities');
