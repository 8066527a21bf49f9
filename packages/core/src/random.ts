import { createHash } from "node:crypto"

/**
 * Deterministic randomness. Every random choice in maspo is either a pure function of a hash of
 * its inputs (`unitFromParts`) or drawn from a `SeededRng` whose state can be checkpointed, so a
 * run is reproducible from its seed alone.
 */

/** A uniform number in [0, 1) that depends only on the given parts. */
export const unitFromParts = (...parts: ReadonlyArray<string | number>): number => {
  const digest = createHash("sha256").update(parts.join("\u241f")).digest()
  // 52 bits of the digest give a double with full mantissa precision.
  const hi = digest.readUInt32BE(0) >>> 6 // 26 bits
  const lo = digest.readUInt32BE(4) >>> 6 // 26 bits
  return (hi * 67108864 + lo) / 4503599627370496
}

/** A 32-bit integer seed derived from a parent seed and a label (e.g. "batches", "provider"). */
export const deriveSeed = (seed: number, label: string): number =>
  Math.floor(unitFromParts("derive", seed, label) * 0x7fffffff)

/** sfc32 generator: small, fast, and its whole state is four integers, so it checkpoints as JSON. */
export class SeededRng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seedOrState: number | ReadonlyArray<number>) {
    if (typeof seedOrState === "number") {
      this.a = 0x9e3779b9
      this.b = 0x243f6a88
      this.c = 0xb7e15162
      this.d = seedOrState | 0
      for (let i = 0; i < 15; i++) this.nextUint32()
    } else {
      const [a, b, c, d] = seedOrState
      this.a = a! | 0
      this.b = b! | 0
      this.c = c! | 0
      this.d = d! | 0
    }
  }

  get state(): ReadonlyArray<number> {
    return [this.a, this.b, this.c, this.d]
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /**
   * The mean of `values.length` draws with replacement from `values` (0 for none): a bootstrap
   * resample's mean. The same numbers as `values[this.int(values.length)]` in a loop, with the
   * generator's state in locals: bootstrap CIs make millions of these draws a table.
   */
  resampleMean(values: ReadonlyArray<number>): number {
    const n = values.length
    if (n === 0) return 0
    // `| 0` keeps the loop's state in int32 registers (the fields may be stored as doubles).
    let a = this.a | 0
    let b = this.b | 0
    let c = this.c | 0
    let d = this.d | 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      const t = (((a + b) | 0) + d) | 0
      d = (d + 1) | 0
      a = b ^ (b >>> 9)
      b = (c + (c << 3)) | 0
      c = (c << 21) | (c >>> 11)
      c = (c + t) | 0
      sum += values[Math.floor(((t >>> 0) / 4294967296) * n)]!
    }
    this.a = a
    this.b = b
    this.c = c
    this.d = d
    return sum / n
  }

  /** A uniformly random sample of k distinct elements, in sampled order. */
  sample<A>(items: ReadonlyArray<A>, k: number): Array<A> {
    const pool = items.slice()
    const out: Array<A> = []
    for (let i = 0; i < Math.min(k, pool.length); i++) {
      const j = i + this.int(pool.length - i)
      ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
      out.push(pool[i]!)
    }
    return out
  }

  shuffle<A>(items: ReadonlyArray<A>): Array<A> {
    return this.sample(items, items.length)
  }
}
