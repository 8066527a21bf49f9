import { afterAll, describe, expect, it } from "@effect/vitest"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { PAPER_TEMPLATES, templateSetHash } from "@maspo/core"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cliProcess.ts"

/**
 * Request templates as users give them: a run config's `templates` names a set and replaces request
 * kinds by files, which are read like every other input (errors name file, line and field), drive
 * the requests, the simulator's reading of them, and what the run records.
 */

const work = mkdtempSync(join(tmpdir(), "maspo-templates-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const write = (name: string, text: string) => {
  const file = join(work, name)
  writeFileSync(file, text)
  return file
}

const rejected = async (args: ReadonlyArray<string>) => {
  const r = await runCli(args, { cwd: work })
  expect(r.code).not.toBe(0)
  expect(r.stdout).not.toMatch(/accuracy/)
  return r.stderr
}

const compress = (
  extra: Record<string, unknown> = {},
  text = "Shorten to {{maxWords}} words.\n=====\n{{output}}\n====="
) =>
  JSON.stringify(
    { kind: "compress", set: "mine", version: 1, slots: ["maxWords", "output"], text, ...extra },
    null,
    2
  ) + "\n"

const runConfig = (templates: Record<string, string>) =>
  write(
    `run-${Object.values(templates).join("-").replace(/\W/g, "")}.json`,
    JSON.stringify({ seed: 1, templates }, null, 2)
  )

describe("template files in a run config", () => {
  it("an excess key in a template file names the file, line and field", async () => {
    const file = write("excess.json", compress({ colour: "red" }))
    const err = await rejected(["eval", "--config", runConfig({ compress: file }), "--n", "2"])
    expect(err).toContain(`${file}:10: colour: unknown field`)
  })

  it("a slot the template does not declare names the file, line and field", async () => {
    const file = write("slot.json", compress({}, "{{maxWords}} {{output}} {{outptu}}"))
    const err = await rejected(["eval", "--config", runConfig({ compress: file }), "--n", "2"])
    expect(err).toContain(`${file}:9: text: uses {{outptu}}, which is not declared`)
  })

  it("a file given for another request kind, an unknown set, and a set without the kinds a preset needs are refused", async () => {
    const file = write("kind.json", compress())
    const err = await rejected(["eval", "--config", runConfig({ propose: file }), "--n", "2"])
    expect(err).toContain(`${file}:2: kind: is compress, but the file is given for propose`)
    expect(await rejected(["eval", "--set", "templates.set=papr", "--n", "2"])).toContain(
      '--set templates.set=papr: templates.set: expected one of maspo, paper, got "papr"; did you mean `paper`?'
    )
    expect(
      await rejected([
        "optimize",
        "--preset",
        "paper",
        "--set",
        "templates.set=maspo",
        "--rounds",
        "1",
        "--skip-test"
      ])
    ).toContain("template set maspo has no judge-intermediate, judge-final, judge-answer template")
  })

  it("a user's compression template drives the run on the simulator and changes the recorded hash", async () => {
    const file = write("mine.json", compress())
    const common = [
      "--preset",
      "paper",
      "--rounds",
      "1",
      "--steps",
      "1",
      "--skip-test",
      "--cache-mode",
      "off"
    ]
    const plain = await runCli(["optimize", ...common, "--out", join(work, "plain")], { cwd: work })
    expect(plain.stderr).toBe("")
    expect(plain.code).toBe(0)
    const mine = await runCli(
      ["optimize", ...common, "--config", runConfig({ compress: file }), "--out", join(work, "mine")],
      { cwd: work }
    )
    expect(mine.stderr).toBe("")
    expect(mine.code).toBe(0)
    const record = (dir: string) => JSON.parse(readFileSync(join(work, dir, "templates.json"), "utf8"))
    // A run with the preset's own set records nothing new (its outputs are as before templates).
    expect(existsSync(join(work, "plain", "templates.json"))).toBe(false)
    expect(record("mine").set).toBe("paper")
    expect(record("mine").hash).not.toBe(templateSetHash(PAPER_TEMPLATES))
    // The simulator read the user's compression requests: successors saw real summaries, so the
    // reviewer's traces carry the solver's answers and the search found candidates to score.
    const steps = readFileSync(join(work, "mine", "steps.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    expect(steps.every((s: { children: Array<unknown> }) => s.children.length > 0)).toBe(true)
    expect(steps[1].children[0].prompt).not.toMatch(/could not find/)
  })

  it("templateSet and singleJudgeRequest are switches of --set optimizer.*, checked against each other", async () => {
    const optimize = ["optimize", "--rounds", "1", "--steps", "1", "--skip-test", "--cache-mode", "off"]
    expect(await rejected([...optimize, "--set", "optimizer.templateSet=papr"])).toContain(
      "optimizer.templateSet"
    )
    expect(
      await rejected([...optimize, "--preset", "paper", "--set", "optimizer.singleJudgeRequest=true"])
    ).toContain("template set paper has no judge-generic template")
    // maspo's feedback note has no place in the paper set's proposal request.
    expect(
      await rejected([
        ...optimize,
        "--set",
        "optimizer.templateSet=paper",
        "--set",
        "optimizer.singleJudgeRequest=false"
      ])
    ).toContain(
      "optimizer.caseFeedbackNote: is true, but the propose template of set paper shows no feedback"
    )
    // The released search on maspo's requests.
    const out = join(work, "released-on-maspo")
    const r = await runCli(
      [
        ...optimize,
        "--preset",
        "paper",
        "--set",
        "optimizer.templateSet=maspo",
        "--set",
        "optimizer.singleJudgeRequest=true",
        "--out",
        out
      ],
      { cwd: work }
    )
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const steps = readFileSync(join(out, "steps.jsonl"), "utf8").trim().split("\n")
    expect(steps.length).toBeGreaterThan(0)
  })
})
