import { defineConfig } from "vitest/config"

// Vitest 5's reporter calls Map.groupBy (Node 21+); without it, a failing test on Node 20 crashes
// the reporter instead of printing the failure.
if (typeof (Map as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Map, "groupBy", {
    value: <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => {
      const out = new Map<K, Array<T>>()
      let i = 0
      for (const item of items) {
        const k = key(item, i++)
        const list = out.get(k)
        if (list) list.push(item)
        else out.set(k, [item])
      }
      return out
    }
  })
}

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
