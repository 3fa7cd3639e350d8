/** @roomcast/shared: event schemas, wire frames, code tables and the room-state reducer. */
export * from './events.ts';
export * from './codes.ts';
export * from './frames.ts';
export * from './frame-schemas.ts';
export * from './room-state.ts';
export * from './redundancy.ts';
export * from './event-names.ts';
export * from './app-events.ts';
