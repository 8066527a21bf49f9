export * from "./extract.ts"
export * from "./normalize.ts"
export * from "./task.ts"
