import { hash } from "node:crypto"

/**
 * JSON with object keys sorted at every depth, so that two objects that differ only in key order
 * serialise (and hash) identically. Cache keys and config hashes depend on this.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = sortKeys(v)
    }
    return out
  }
  return value
}

// One-shot `hash` (no Hash object): every LLM call is keyed by one of these.
export const sha256Hex = (text: string): string => hash("sha256", text, "hex")

/** Hash of any JSON-able value, independent of object key order. */
export const stableHash = (value: unknown): string => sha256Hex(canonicalJson(value))
