import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { VERSION } from "@maspo/core"

describe("smoke", () => {
  it.effect("loads core", () => Effect.sync(() => assert.strictEqual(VERSION, "0.1.0")))
})
