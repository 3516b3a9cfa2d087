/** Injection tokens for the resources every service gets from the platform (Nest DI constants). */
export const CONFIG = Symbol('tessera.config');
export const LOGGER = Symbol('tessera.logger');
export const DATA_SOURCE = Symbol('tessera.dataSource');
export const KAFKA = Symbol('tessera.kafka');
export const SERVICE_NAME = Symbol('tessera.serviceName');
