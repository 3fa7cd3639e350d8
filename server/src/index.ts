/** @roomcast/server: the fastify plugin, the standalone app, the engines and the helpers. */
export {
  roomcast,
  roomcast as default,
  memoryEngineFromConfig,
  configFromPluginOptions,
} from './plugin.ts';
export type { RoomcastPluginOptions, RoomcastApi, Authorize } from './plugin.ts';
export type { RoomcastEvent, RoomcastEventHandler } from './event-hook.ts';
export { buildApp } from './app.ts';
export type { BuildAppOptions } from './app.ts';
export {
  configFromEnv,
  parseOptions,
  withDevSecrets,
  optionsSchema,
  ConfigError,
  ENV_NAMES,
} from './config.ts';
export type { RoomcastConfig, RoomcastOptions } from './config.ts';
export { createMemoryEngine, createMemoryEngine as memoryEngine } from './engine/memory-engine.ts';
export { createRedisEngine, createRedisEngine as redisEngine } from './engine/redis-engine.ts';
export type { RedisEngineOptions } from './engine/redis-engine.ts';
export type { MemoryEngineOptions } from './engine/memory-engine.ts';
export type * from './engine/engine.ts';
export { EngineUnavailableError } from './engine/engine.ts';
export {
  createSignatureVerifier,
  verifySignature,
  checkFreshness,
  SIGNATURE_HEADER,
} from './webhooks/verify-signature.ts';
export type { SignatureVerifier } from './webhooks/verify-signature.ts';
export { signWebhook, signRawWebhook } from './webhooks/sign-webhook.ts';
export {
  createSubscriberToken,
  createTokenVerifier,
  grantsRoom,
  ALL_ROOMS,
} from './auth/tokens.ts';
export type { CreateTokenOptions, SubscriberClaims, TokenCheck } from './auth/tokens.ts';
export { PublishError } from './publish/app-events.ts';
export type { Publish, PublishOptions, PublishResult } from './publish/app-events.ts';
