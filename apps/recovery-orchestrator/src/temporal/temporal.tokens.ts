/** The Temporal client (start, update, query workflows) shared by the HTTP/gRPC adapters and the drill activities. */
export const TEMPORAL_CLIENT = Symbol('recovery.temporalClient');
/** The recovery activities the worker registers (built once, with their ports). */
export const RECOVERY_ACTIVITIES = Symbol('recovery.activities');
/** The data converter (payload codec sealing every payload, S32) of every client and worker. */
export const TEMPORAL_DATA_CONVERTER = Symbol('recovery.temporalDataConverter');
