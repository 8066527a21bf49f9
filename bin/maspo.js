#!/usr/bin/env node
// Runs the TypeScript CLI from a bundle of it, built on first use and rebuilt whenever a source or
// an installed package changes (bin/bundle.js): a fresh clone needs no build step, and start-up is
// fast. MASPO_SOURCE_MAPS=1 makes stack traces name the TypeScript files and lines.
import { pathToFileURL } from "node:url"
import { ensureBundle } from "./bundle.js"

if (process.env.MASPO_SOURCE_MAPS === "1") process.setSourceMapsEnabled(true)
await import(pathToFileURL(await ensureBundle()).href)
