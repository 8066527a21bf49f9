interface Fenced {
  readonly label: string
  readonly body: string
}

const OPEN = /^ {0,3}(`{3,})[ \t]*([^`\s]*)[^`]*$/
const PYTHON_LABEL = /^(python|py)\d*$/i

/** Fenced blocks in order. A fence left open at the end runs to the end of the reply. */
export const fencedBlocks = (reply: string): ReadonlyArray<Fenced> => {
  const lines = reply.split("\n")
  const blocks: Array<Fenced> = []
  let i = 0
  while (i < lines.length) {
    const open = OPEN.exec((lines[i] ?? "").replace(/\r$/, ""))
    if (!open) {
      i++
      continue
    }
    const ticks = open[1]!.length
    const close = new RegExp(`^ {0,3}\`{${ticks},}[ \\t]*$`)
    let j = i + 1
    while (j < lines.length && !close.test((lines[j] ?? "").replace(/\r$/, ""))) j++
    blocks.push({ label: open[2] ?? "", body: lines.slice(i + 1, j).join("\n") })
    i = j + 1
  }
  return blocks
}

/**
 * The code in a reply: the last fenced block labelled python/py/python3 (any case); else the last
 * unlabelled block; else the last block of any other label; with no fence at all, the whole reply
 * unchanged.
 */
export const extractCode = (reply: string): string => {
  const blocks = fencedBlocks(reply)
  const pick =
    blocks.findLast((b) => PYTHON_LABEL.test(b.label)) ??
    blocks.findLast((b) => b.label === "") ??
    blocks.at(-1)
  return pick === undefined ? reply : pick.body
}

/** Vote key for code: CRLF to LF, trailing whitespace of each line and whitespace-only lines removed. */
export const normalizeCode = (code: string): string =>
  code
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "")
    .join("\n")
