export * from "./CallCache.ts"
export {
  CACHE_SCHEMA_VERSION,
  CacheError,
  type CallStore,
  openCallStore,
  type OpenOptions,
  scopedCallStore,
  type StoredCall
} from "./CallStore.ts"
export * from "./key.ts"
export { replaySnapshot } from "./replaySnapshot.ts"
export * from "./transfer.ts"
export * from "./withCache.ts"
export * from "./withhold.ts"
