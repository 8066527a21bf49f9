export * from "./singleAgent.ts"
