/**
 * Recomputes the simulator's documented optimum (docs/simulator.md, packages/core/src/sim/optimum.ts)
 * by exhaustive search over directive subsets, and the accuracy of the seed prompts.
 * Usage: npx tsx scripts/sim-optimum.ts
 */
import { arithTestItems, expectedAccuracy, searchOptimum, SIM_TOPOLOGIES } from "@maspo/core/sim"

const items = arithTestItems()
for (const [name, spec] of Object.entries(SIM_TOPOLOGIES)) {
  const found = searchOptimum(spec, items)
  console.log(`## ${name} (${found.evaluated} prompt sets scored exactly on ${items.length} test items)`)
  for (const [agent, ds] of Object.entries(found.assignment)) console.log(`- ${agent}: ${ds.join(", ")}`)
  console.log(`optimum accuracy ${found.accuracy}`)
  console.log(`seed accuracy    ${expectedAccuracy(spec, {}, items)}`)
}
