import { closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, rmSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/**
 * The files of an import into a cache file that does not exist yet. The import builds the SQLite
 * file under a temporary name beside the target (`<target>.importing-<pid>`), completes it, and only
 * then puts it in place, so a process killed during the import never leaves a half-filled cache
 * where a restart would take it for a complete one (and make every missing call live again).
 */

const SIDE_FILES = ["-wal", "-shm", "-journal"] as const

/** The temporary file this process builds an import into `target` under. */
export const partialImportPath = (target: string): string => `${target}.importing-${process.pid}`

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Removes a file and its SQLite side files (WAL, shared memory, rollback journal). */
export const removeWithSideFiles = (path: string): void => {
  for (const p of [path, ...SIDE_FILES.map((s) => `${path}${s}`)]) rmSync(p, { force: true })
}

/**
 * Removes what interrupted imports into `target` left behind: temporary files (and their side
 * files) of processes that no longer run. Returns how many interrupted imports were discarded.
 */
export const removeInterruptedImports = (target: string): number => {
  const dir = dirname(target)
  if (!existsSync(dir)) return 0
  const pattern = new RegExp(`^${escapeRegExp(basename(target))}\\.importing-(\\d+)(?:-wal|-shm|-journal)?$`)
  const dead = new Set<number>()
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name)
    if (m === null) continue
    const pid = Number(m[1])
    if (pid !== process.pid && !isAlive(pid)) dead.add(pid)
  }
  for (const pid of dead) removeWithSideFiles(join(dir, `${basename(target)}.importing-${pid}`))
  return dead.size
}

/**
 * WAL or shared-memory files of a cache file that is gone: SQLite would read them as belonging to a
 * new file of the same name, so they go before a new file is put in place.
 */
export const removeOrphanSideFiles = (target: string): void => {
  if (existsSync(target)) return
  for (const s of SIDE_FILES) rmSync(`${target}${s}`, { force: true })
}

const fsyncPath = (path: string): void => {
  const fd = openSync(path, "r")
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Puts the completed, self-contained (no WAL) file `built` in place as `target`, durably, unless
 * `target` appeared meanwhile (another process created it): a hard link fails rather than replacing
 * a file someone may already be writing. True when installed; `built` is removed either way.
 */
export const installImported = (built: string, target: string): boolean => {
  fsyncPath(built)
  try {
    linkSync(built, target)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  } finally {
    removeWithSideFiles(built)
  }
  fsyncPath(dirname(target))
  return true
}
