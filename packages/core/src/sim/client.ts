import {
  approxTokens,
  type LanguageModelClient,
  type LMRequest,
  type LMResponse,
  messagesTokens,
  pureClient,
  type RoleClients
} from "../LanguageModel.ts"
import { parseCompressionRequest, PAIRWISE_MARKER, REFINE_MARKER } from "../protocol.ts"
import { agentReply, compress } from "./agent.ts"
import { judgeReply } from "./judge.ts"
import { defaultSimParams, type SimParams } from "./model.ts"
import { optimizerReply } from "./optimizer.ts"

export const SIM_MODEL = "maspo-sim-1"

/**
 * The simulator's answer to one request: a pure function of the request and the parameters. It
 * recognises maspo's own requests by their markers (compression, pairwise judging, refinement);
 * anything else is an agent message. The role a client is configured for does not matter, so the
 * same function also backs `maspo serve`.
 */
export const simReply = (request: LMRequest, params: SimParams = defaultSimParams): string => {
  const content = request.messages.at(-1)?.content ?? ""
  const compression = parseCompressionRequest(content)
  if (compression) return compress(compression.output, compression.maxWords)
  if (content.startsWith(PAIRWISE_MARKER))
    return judgeReply(content, request.seed, request.sampleIndex, params)
  if (content.startsWith(REFINE_MARKER))
    return optimizerReply(content, request.seed, request.sampleIndex, params)
  return agentReply(content, { seed: request.seed, sampleIndex: request.sampleIndex, params })
}

export const simResponse = (request: LMRequest, params: SimParams = defaultSimParams): LMResponse => {
  const text = simReply(request, params)
  return {
    text,
    usage: { promptTokens: messagesTokens(request.messages), completionTokens: approxTokens(text) }
  }
}

/** Its usage is a pure function of the request, so a budget cap is checked against the exact figure. */
export const simClient = (params: SimParams = defaultSimParams): LanguageModelClient =>
  pureClient("sim", SIM_MODEL, (request) => simResponse(request, params))

/** One simulator client per role (the default when no provider is configured). */
export const simClients = (params: Partial<SimParams> = {}): RoleClients => {
  const client = simClient({ ...defaultSimParams, ...params })
  return { agent: client, optimizer: client, evaluator: client }
}
