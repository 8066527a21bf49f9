import { Schema } from "effect"

/** The three kinds of LLM call a run makes; each can be served by a different provider. */
export const Role = Schema.Literals(["agent", "optimizer", "evaluator"])
export type Role = typeof Role.Type

export const ROLES: ReadonlyArray<Role> = ["agent", "optimizer", "evaluator"]
