import {
  approxTokens,
  type LanguageModelClient,
  type LMRequest,
  type LMResponse,
  messagesTokens,
  pureClient,
  type RoleClients
} from "../LanguageModel.ts"
import { readRequest } from "../templates/requests.ts"
import { SHIPPED_TEMPLATE_SETS, type TemplateSet } from "../templates/TemplateSet.ts"
import { agentReply, compress } from "./agent.ts"
import { judgeReply } from "./judge.ts"
import { defaultSimParams, type SimParams } from "./model.ts"
import { optimizerReply } from "./optimizer.ts"

export const SIM_MODEL = "maspo-sim-1"

/** The template sets the simulator reads requests through when it is given no others: the shipped ones. */
export const SIM_TEMPLATE_SETS: ReadonlyArray<TemplateSet> = Object.values(SHIPPED_TEMPLATE_SETS)

/**
 * The simulator's answer to one request: a pure function of the request, the parameters and the
 * template sets it knows. A request built from a template of one of those sets (compression,
 * judging, proposal) is read back through that template, and answered in the reply format the
 * template declares; anything else is an agent message. The role a client is configured for does
 * not matter, so the same function also backs `maspo serve`.
 */
export const simReply = (
  request: LMRequest,
  params: SimParams = defaultSimParams,
  templateSets: ReadonlyArray<TemplateSet> = SIM_TEMPLATE_SETS
): string => {
  const content = request.messages.at(-1)?.content ?? ""
  const read = readRequest(templateSets, content)
  if (read?.kind === "compress") return compress(read.output, read.maxWords)
  if (read?.kind === "propose")
    return optimizerReply(read, content, request.seed, request.sampleIndex, params)
  if (read !== undefined) return judgeReply(read, content, request.seed, request.sampleIndex, params)
  return agentReply(content, { seed: request.seed, sampleIndex: request.sampleIndex, params })
}

export const simResponse = (
  request: LMRequest,
  params: SimParams = defaultSimParams,
  templateSets: ReadonlyArray<TemplateSet> = SIM_TEMPLATE_SETS
): LMResponse => {
  const text = simReply(request, params, templateSets)
  return {
    text,
    usage: { promptTokens: messagesTokens(request.messages), completionTokens: approxTokens(text) }
  }
}

/** Its usage is a pure function of the request, so a budget cap is checked against the exact figure. */
export const simClient = (
  params: SimParams = defaultSimParams,
  templateSets: ReadonlyArray<TemplateSet> = SIM_TEMPLATE_SETS
): LanguageModelClient =>
  pureClient("sim", SIM_MODEL, (request) => simResponse(request, params, templateSets))

/**
 * One simulator client per role (the default when no provider is configured); `templateSets` adds
 * sets the simulator reads requests through (a run's own templates) before the shipped ones.
 */
export const simClients = (
  params: Partial<SimParams> = {},
  templateSets: ReadonlyArray<TemplateSet> = []
): RoleClients => {
  const client = simClient({ ...defaultSimParams, ...params }, [...templateSets, ...SIM_TEMPLATE_SETS])
  return { agent: client, optimizer: client, evaluator: client }
}
