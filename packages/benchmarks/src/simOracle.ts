import {
  approxTokens,
  type LanguageModelClient,
  type LMRequest,
  type LMResponse,
  messagesTokens,
  parsePairwiseRequest,
  type RoleClients,
  type TaskItem,
  type TaskKind,
  unitFromParts
} from "@maspo/core"
import { Effect } from "effect"

/**
 * The simulator's mode for the real benchmarks. The embedded simulator only understands its own
 * arithmetic items, so for a dataset item this wrapper answers in the task's format, correctly with a
 * configurable probability, and judges pairwise comparisons of answers to known items with a
 * configurable accuracy. It makes the whole pipeline (loaders, prompts, extraction, scoring, the
 * code sandbox) testable offline; it says nothing about the quality of any prompt.
 */
export interface OracleOptions {
  /** P(an agent answers an item correctly). */
  readonly accuracy: number
  /** P(the judge prefers the correct of two answers when exactly one is correct). */
  readonly judgeAccuracy: number
}

export const defaultOracleOptions: OracleOptions = { accuracy: 0.6, judgeAccuracy: 0.8 }

interface Known {
  readonly item: TaskItem
  readonly kind: TaskKind
}

/** A correct or a wrong reply for an item, in the format its scorer reads. */
export const oracleReply = (item: TaskItem, kind: TaskKind, correct: boolean): string => {
  switch (kind) {
    case "choice": {
      const letters = (item.meta?.letters as string | undefined) ?? "ABCD"
      const wrong = [...letters].find((l) => l !== item.gold) ?? "A"
      return `Weighing the options, the answer is <answer>${correct ? item.gold : wrong}</answer>.`
    }
    case "code": {
      const code = correct ? item.gold : wrongCode(item)
      return `Here is the solution.\n\n\`\`\`python\n${code}\n\`\`\``
    }
    default:
      return `Working through the problem gives the result.\n\n\\boxed{${correct ? item.gold : wrongMath(item.gold)}}`
  }
}

/** The part of a correct oracle reply that a wrong one never contains. */
const correctMarker = (item: TaskItem, kind: TaskKind): string =>
  kind === "choice" ? `<answer>${item.gold}</answer>` : kind === "code" ? item.gold : `\\boxed{${item.gold}}`

const wrongMath = (gold: string): string => {
  const n = Number(gold)
  return Number.isFinite(n) && gold.trim() !== "" ? String(n + 1) : `${gold}+1`
}

/** The reference solution with every function body replaced by a wrong return. */
const wrongCode = (item: TaskItem): string => {
  const name =
    (item.meta?.entryPoint as string | undefined) ?? /def\s+(\w+)/.exec(item.gold)?.[1] ?? "solution"
  return `def ${name}(*args, **kwargs):\n    return None`
}

const lastUserText = (messages: ReadonlyArray<{ readonly content: string }>) =>
  messages[messages.length - 1]!.content

/** Wraps simulator clients so that requests about known dataset items get oracle answers. */
export const withOracle = (
  inner: RoleClients,
  items: ReadonlyArray<TaskItem>,
  kind: TaskKind,
  options: OracleOptions = defaultOracleOptions
): RoleClients => {
  const known: Array<Known> = items.map((item) => ({ item, kind }))
  // Longest questions first, so an item whose question contains another's is matched correctly.
  known.sort((a, b) => b.item.question.length - a.item.question.length)
  const find = (text: string) => known.find((k) => text.includes(k.item.question))

  /** The oracle's answer to a request about a known item, or undefined for the inner client. */
  const oracleResponse = (request: LMRequest): LMResponse | undefined => {
    const content = lastUserText(request.messages)
    const pair = parsePairwiseRequest(content)
    const target = pair ? find(pair.question) : content.includes("<output>") ? undefined : find(content)
    if (!target) return undefined
    const sample = request.temperature > 0 ? request.sampleIndex : 0
    let text: string
    if (pair) {
      const marker = correctMarker(target.item, target.kind)
      const right = (reply: string) => reply.includes(marker)
      const a = right(pair.a)
      const b = right(pair.b)
      const u = unitFromParts("oracle-judge", request.seed, sample, content)
      text = a === b ? (u < 0.5 ? "A" : "B") : a === u < options.judgeAccuracy ? "A" : "B"
    } else {
      const u = unitFromParts("oracle-agent", request.seed, sample, target.item.id, content)
      text = oracleReply(target.item, target.kind, u < options.accuracy)
    }
    return {
      text,
      usage: { promptTokens: messagesTokens(request.messages), completionTokens: approxTokens(text) }
    }
  }

  // Computed once per request object: the budget's bound and the call itself ask for the same answer.
  const memo = new WeakMap<LMRequest, { readonly response: LMResponse | undefined }>()
  const answer = (request: LMRequest) => {
    let known = memo.get(request)
    if (known === undefined) {
      known = { response: oracleResponse(request) }
      memo.set(request, known)
    }
    return known.response
  }

  const wrap = (client: LanguageModelClient): LanguageModelClient => {
    const innerBound = client.usageBound
    return {
      provider: client.provider,
      model: client.model,
      generate: (request) => {
        const response = answer(request)
        return response ? Effect.succeed(response) : client.generate(request)
      },
      // The oracle's usage is exact; elsewhere the inner client's bound applies, exact only if it is.
      ...(innerBound !== undefined
        ? {
            usageBound: (request: LMRequest) => {
              const response = answer(request)
              return response ? Effect.succeed(response.usage) : innerBound(request)
            },
            ...(client.exactUsage === true ? { exactUsage: true } : {})
          }
        : {})
    }
  }
  return { agent: wrap(inner.agent), optimizer: inner.optimizer, evaluator: wrap(inner.evaluator) }
}
