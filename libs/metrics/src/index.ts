export * from './registry';
export * from './http';
export * from './collect';
export * from './pools';
export * from './text';
export * from './events';
