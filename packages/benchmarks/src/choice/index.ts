export * from "./extract.ts"
export * from "./task.ts"
