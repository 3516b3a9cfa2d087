/**
 * Where the .proto files live, for services that serve them and clients that call them.
 * (String paths, no node:path import: this library must stay loadable in Temporal's workflow sandbox.)
 */
export const PROTO_DIR = `${__dirname}/../../proto`;
export const protoPath = (name: 'auth' | 'devices' | 'recovery' | 'audit'): string => `${PROTO_DIR}/${name}.proto`;
