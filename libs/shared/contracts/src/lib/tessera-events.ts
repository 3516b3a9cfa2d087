import { AUTH_EVENT_SCHEMAS } from './auth/events';
import { DEVICE_EVENT_SCHEMAS } from './devices/events';
import { RECOVERY_EVENT_SCHEMAS } from './recovery/events';
import { EventRegistry } from './registry';

/**
 * Every event type Tessera publishes, with its current schema. Type names are unique across the
 * platform (the registry refuses a type registered twice), so a consumer of several topics never
 * confuses one service's fact with another's.
 */
export function tesseraEventRegistry(): EventRegistry {
  return new EventRegistry().register(AUTH_EVENT_SCHEMAS).register(DEVICE_EVENT_SCHEMAS).register(RECOVERY_EVENT_SCHEMAS);
}
