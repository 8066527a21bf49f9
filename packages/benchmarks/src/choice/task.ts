import { compressionWordsFor, type Task } from "@maspo/core"
import { Effect } from "effect"
import { DEFAULT_LETTERS, extractChoice } from "./extract.ts"

/** The option letters of the multiple-choice sets: AQuA has five options, GPQA four. */
export const CHOICE_LETTERS: Readonly<Record<string, string>> = { aqua: "ABCDE", gpqa: "ABCD" }

/**
 * A multiple-choice task: the answer is the chosen option letter (`extractChoice`), scored 1 when it
 * is the gold letter. Letters vote as themselves.
 */
export const choiceTask = (
  name: string,
  letters: string = CHOICE_LETTERS[name] ?? DEFAULT_LETTERS
): Task => ({
  name,
  kind: "choice",
  compressionWords: compressionWordsFor("choice"),
  extract: (reply) => extractChoice(reply, letters),
  voteKey: (answer) => answer.trim().toUpperCase(),
  score: (item, reply) =>
    Effect.sync(() => (extractChoice(reply, letters) === item.gold.trim().toUpperCase() ? 1 : 0))
})
