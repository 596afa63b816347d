export * from './envelope';
export * from './ids';
export * from './replication';
export * from './json-schema';
export * from './merchants';
export * from './checkouts';
export * from './settlements';
