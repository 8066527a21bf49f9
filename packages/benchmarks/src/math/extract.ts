/**
 * Answer extraction for math replies: the last `<answer>…</answer>` tag or the last `\boxed{…}` /
 * `\fbox{…}` (nested braces allowed), whichever occurs last in the reply. Pure.
 */

/** The index just after the brace group opening at `open` (text[open] === "{"), or -1 if unclosed. */
export const matchBrace = (text: string, open: number): number => {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === "\\") {
      i++ // an escaped character (\{, \}) never opens or closes a group
      continue
    }
    if (c === "{") depth++
    else if (c === "}") {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return -1
}

interface Found {
  readonly at: number
  readonly content: string
}

const lastBoxed = (reply: string): Found | undefined => {
  let found: Found | undefined
  for (const m of reply.matchAll(/\\(?:boxed|fbox)(?![a-zA-Z])\s*/g)) {
    const start = m.index + m[0].length
    if (reply[start] === "{") {
      const end = matchBrace(reply, start)
      if (end < 0) continue
      const content = reply.slice(start + 1, end - 1).trim()
      if (content !== "") found = { at: m.index, content }
    } else {
      // `\boxed 5`: a single token up to whitespace or `$`.
      const token = /^[^\s$}]+/.exec(reply.slice(start))
      if (token && /\s$/.test(m[0])) found = { at: m.index, content: token[0].replace(/[.,;]+$/, "") }
    }
  }
  return found
}

const lastAnswerTag = (reply: string): Found | undefined => {
  let found: Found | undefined
  for (const m of reply.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)) {
    const content = m[1]!.trim()
    if (content !== "") found = { at: m.index, content }
  }
  return found
}

/** The final answer stated in a reply, or undefined when it states none. */
export const extractMathAnswer = (reply: string): string | undefined => {
  const tag = lastAnswerTag(reply)
  const boxed = lastBoxed(reply)
  if (tag === undefined) return boxed?.content
  if (boxed === undefined) return tag.content
  return boxed.at > tag.at ? boxed.content : tag.content
}
