import type { TaskKind } from "@maspo/core"

/** The six evaluation sets of the MASPO paper. */
export const DATASET_NAMES = ["math500", "agieval-math", "aqua", "gpqa", "mbpp", "humaneval-et"] as const
export type DatasetName = (typeof DATASET_NAMES)[number]

/** Which file of a set an item comes from: AQuA ships a validation file beside its test file. */
export type Origin = "test" | "val"

export interface DatasetFile {
  /** Path relative to the data directory. */
  readonly path: string
  /** Pinned sha256 of the file (from the data directory's SHA256SUMS); checked before decoding. */
  readonly sha256: string
  readonly origin: Origin
}

export interface DatasetDescriptor {
  readonly name: DatasetName
  readonly kind: TaskKind
  readonly files: ReadonlyArray<DatasetFile>
  /** Option letters of a multiple-choice set. */
  readonly letters?: string
  /**
   * Its authors ask that its questions not be republished in plain text: an export of the call
   * cache for publishing withholds every request quoting one (see `protectedTexts`).
   */
  readonly withholdText?: true
}

/**
 * Descriptor table. GPQA's authors ask that its questions not be republished in plain text: publish
 * GPQA item ids and scores, never question text.
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetDescriptor>> = {
  math500: {
    name: "math500",
    kind: "math",
    files: [
      {
        path: "math-500/math_500.jsonl",
        sha256: "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
        origin: "test"
      }
    ]
  },
  "agieval-math": {
    name: "agieval-math",
    kind: "math",
    files: [
      {
        path: "AGIEval_MATH/test.jsonl",
        sha256: "11f244e13d696a082570692ca0ef7bc632a35712db21e48b75a4aaaade5f2f8a",
        origin: "test"
      }
    ]
  },
  aqua: {
    name: "aqua",
    kind: "choice",
    letters: "ABCDE",
    files: [
      {
        path: "aqua/test.jsonl",
        sha256: "3aba28cc68efd0ed6ff6108dd3d98b5b4f64ada4ac4a3b0f6705188385d60575",
        origin: "test"
      },
      {
        path: "aqua/val.jsonl",
        sha256: "714ff1fef955a4a565a293b5472d43315e044fa73b116f7cb00287ce41100ff2",
        origin: "val"
      }
    ]
  },
  gpqa: {
    name: "gpqa",
    kind: "choice",
    letters: "ABCD",
    withholdText: true,
    files: [
      {
        path: "gpqa/gpqa_diamond.jsonl",
        sha256: "107b29dec2e1bd0094f75051b20e849f31d1c24f65dbf0db4a78d9468bb5f303",
        origin: "test"
      }
    ]
  },
  mbpp: {
    name: "mbpp",
    kind: "code",
    files: [
      {
        path: "mbpp/sanitized-mbpp.jsonl",
        sha256: "7a76be064e2b9ca27ccb80896caadb253ff911343acc61eb4870968e2ec88350",
        origin: "test"
      }
    ]
  },
  "humaneval-et": {
    name: "humaneval-et",
    kind: "code",
    files: [
      {
        path: "humaneval-et/HumanEval_ET.jsonl",
        sha256: "07dcbc5137a21c51d7f702e35e754fbe4be2502087fc4f6be7058626efe88a69",
        origin: "test"
      }
    ]
  }
}

export const isDatasetName = (name: string): name is DatasetName =>
  (DATASET_NAMES as ReadonlyArray<string>).includes(name)

/** The datasets whose question texts must not be republished. */
export const PROTECTED_DATASETS: ReadonlyArray<DatasetName> = DATASET_NAMES.filter(
  (name) => DATASETS[name].withholdText === true
)
