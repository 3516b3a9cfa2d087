/** DI tokens of the audit service (Nest constants, STYLE.md). */
export const AUDIT_SETTINGS = Symbol('tessera.audit.settings');
export const CLOCK = Symbol('tessera.audit.clock');
