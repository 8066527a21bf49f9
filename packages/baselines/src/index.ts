export * from "./optimizers/contract.ts"
export * from "./optimizers/methods.ts"
export * from "./optimizers/scoring.ts"
export * from "./singleAgent.ts"
