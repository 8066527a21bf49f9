export * from "./codeTask.ts"
export * from "./extract.ts"
export * from "./programs.ts"
export * from "./sandbox.ts"
