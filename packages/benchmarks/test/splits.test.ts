import { describe, expect, it } from "@effect/vitest"
import type { TaskItem } from "@maspo/core"
import { Effect } from "effect"
import * as fc from "fast-check"
import {
  DATASET_NAMES,
  itemOrigin,
  loadDataset,
  loadSplit,
  resolveDataDir,
  splitItems,
  splitWithValidation,
  unlabeled
} from "../src/datasets/index.ts"

const dataDir = resolveDataDir()

const fake = (n: number): Array<TaskItem> =>
  Array.from({ length: n }, (_, i) => ({ id: `t/${i}`, question: `q${i}`, gold: `${i}` }))

const disjoint = (a: ReadonlyArray<TaskItem>, b: ReadonlyArray<TaskItem>) => {
  const ids = new Set(a.map((i) => i.id))
  return b.every((i) => !ids.has(i.id))
}

describe("splitItems", () => {
  it("heldout: disjoint, covering, sized, deterministic (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(200), fc.integer(), (n, k, seed) => {
        const items = fake(n)
        const poolSize = Math.min(k, n)
        const s = splitItems(items, { seed, poolSize })
        const again = splitItems(items, { seed, poolSize })
        return (
          s.pool.length === poolSize &&
          s.test.length === n - poolSize &&
          disjoint(s.pool, s.test) &&
          new Set([...s.pool, ...s.test].map((i) => i.id)).size === n &&
          JSON.stringify(s.manifest) === JSON.stringify(again.manifest) &&
          s.manifest.mode === "heldout" &&
          s.manifest.seed === seed &&
          s.manifest.poolSize === poolSize &&
          s.manifest.testSize === n - poolSize
        )
      })
    )
  })

  it("paper: the pool comes from the items and the test set is all of them", () => {
    const items = fake(100)
    const s = splitItems(items, { seed: 3, poolSize: 20, mode: "paper" })
    expect(s.manifest.mode).toBe("paper")
    expect(s.pool.length).toBe(20)
    expect(s.test.map((i) => i.id)).toEqual(items.map((i) => i.id))
    // the same seed draws the same pool in both modes
    expect(s.manifest.poolIds).toEqual(splitItems(items, { seed: 3, poolSize: 20 }).manifest.poolIds)
  })

  it("defaults: seed 0, pool 50, heldout; test keeps file order", () => {
    const s = splitItems(fake(120))
    expect(s.manifest.seed).toBe(0)
    expect(s.manifest.poolSize).toBe(50)
    expect(s.manifest.mode).toBe("heldout")
    const order = s.test.map((i) => Number(i.id.slice(2)))
    expect(order).toEqual([...order].sort((a, b) => a - b))
  })

  it("different seeds give different pools", () => {
    const items = fake(500)
    const pools = new Set(
      [0, 1, 2, 3, 4].map((seed) => splitItems(items, { seed }).manifest.poolIds.join(","))
    )
    expect(pools.size).toBe(5)
  })

  it("splitWithValidation drops test items that are in the pool", () => {
    const val = fake(10)
    const s = splitWithValidation(val, fake(20), { poolSize: 5, seed: 1 })
    expect(s.pool.length).toBe(5)
    expect(s.test.length).toBe(15)
    expect(disjoint(s.pool, s.test)).toBe(true)
  })

  it("unlabeled empties gold and drops tests from meta", () => {
    const [item] = unlabeled([
      { id: "x", question: "q", gold: "g", meta: { tests: ["assert f()"], test: "t", entryPoint: "f" } }
    ])
    expect(item).toEqual({ id: "x", question: "q", gold: "", meta: { entryPoint: "f" } })
  })
})

describe("loadSplit on the real data", () => {
  for (const name of DATASET_NAMES) {
    it.effect(`${name}: heldout is disjoint, sized and deterministic; seeds differ`, () =>
      Effect.gen(function* () {
        const s = yield* loadSplit(name, dataDir, { seed: 0 })
        const again = yield* loadSplit(name, dataDir, { seed: 0 })
        const other = yield* loadSplit(name, dataDir, { seed: 1 })
        const all = yield* loadDataset(name, dataDir)
        expect(s.pool.length).toBe(50)
        expect(disjoint(s.pool, s.test)).toBe(true)
        expect(s.manifest).toEqual(again.manifest)
        expect(s.manifest.dataset).toBe(name)
        expect(s.manifest.poolIds).not.toEqual(other.manifest.poolIds)
        // test sets do not depend on anything but the split seed
        if (name === "aqua") {
          expect(s.pool.every((i) => itemOrigin(i) === "val")).toBe(true)
          expect(s.test.map((i) => i.id)).toEqual(
            all.filter((i) => itemOrigin(i) === "test").map((i) => i.id)
          )
          expect(other.test.map((i) => i.id)).toEqual(s.test.map((i) => i.id))
        } else {
          expect(s.test.length).toBe(all.length - 50)
          expect(s.manifest.testSize).toBe(all.length - 50)
        }
        expect(s.manifest.testIds).toEqual(s.test.map((i) => i.id))
      })
    )
  }

  it.effect("aqua paper: pool from the test file, test = the whole test file (overlapping)", () =>
    Effect.gen(function* () {
      const s = yield* loadSplit("aqua", dataDir, { mode: "paper", poolSize: 30 })
      expect(s.manifest.mode).toBe("paper")
      expect(s.pool.every((i) => itemOrigin(i) === "test")).toBe(true)
      expect(s.test.length).toBe(254)
      const testIds = new Set(s.test.map((i) => i.id))
      expect(s.pool.every((i) => testIds.has(i.id))).toBe(true)
    })
  )

  it.effect("math500 paper: test is all 500 items", () =>
    Effect.gen(function* () {
      const s = yield* loadSplit("math500", dataDir, { mode: "paper" })
      expect(s.test.length).toBe(500)
      expect(s.pool.length).toBe(50)
    })
  )

  it.effect("bad pool sizes are InputErrors naming poolSize", () =>
    Effect.gen(function* () {
      for (const poolSize of [-1, 1.5, 164]) {
        const e = yield* Effect.flip(loadSplit("humaneval-et", dataDir, { poolSize }))
        expect(e.source).toBe("poolSize")
      }
      const ok = yield* loadSplit("aqua", dataDir, { poolSize: 254 })
      expect(ok.test.length).toBe(254)
    })
  )
})
