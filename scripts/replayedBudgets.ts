/**
 * A replay serves every call from the cache, so the budget records it writes (`"calls"`,
 * `"liveCalls"`, `"cacheHits"`, in this order, in steps.jsonl, budget.json and test.json) say 0 live
 * calls and as many cache hits as calls, where the recorded run said what its own cache held. Every
 * other byte of a replayed file is the recorded one's.
 */
const BUDGET_RECORD = /"calls":(\s*)(\d+),(\s*)"liveCalls":(\s*)\d+,(\s*)"cacheHits":(\s*)\d+/g

/** The text a replay writes for a file whose recorded run wrote `recorded`. */
export const asReplayed = (recorded: string): string =>
  recorded.replace(
    BUDGET_RECORD,
    (_match, s1: string, calls: string, s2: string, s3: string, s4: string, s5: string) =>
      `"calls":${s1}${calls},${s2}"liveCalls":${s3}0,${s4}"cacheHits":${s5}${calls}`
  )
