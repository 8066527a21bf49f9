import { compressionWordsFor, type Task } from "@maspo/core"
import { Effect } from "effect"
import { extractMathAnswer } from "./extract.ts"
import { mathEquivalent, mathVoteKey } from "./normalize.ts"

/**
 * A math task (MATH-500, AGIEval-MATH): the answer is the last `\boxed{}` or `<answer>` tag, scored 1
 * when it is equivalent to the reference answer (`mathEquivalent`).
 */
export const mathTask = (name: string): Task => ({
  name,
  kind: "math",
  compressionWords: compressionWordsFor("math"),
  extract: extractMathAnswer,
  voteKey: mathVoteKey,
  score: (item, reply) => Effect.sync(() => (mathEquivalent(extractMathAnswer(reply), item.gold) ? 1 : 0))
})
