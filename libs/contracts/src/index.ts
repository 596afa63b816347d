export * from './envelope';
export * from './ids';
export * from './merchants';
export * from './checkouts';
export * from './settlements';
