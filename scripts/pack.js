#!/usr/bin/env node
'use strict'
// Packs what npm publish would publish, the napi-rs way: the platform package (npm/linux-x64-gnu
// with this checkout's .node and logger binary) and the main package, which carries no binary but
// names the platform package as an optional dependency of the same version (added here, at pack
// time, as `napi pre-publish` does, so the repository's lock file never names an unpublished
// package). Usage: node scripts/pack.js [destination]; prints the two tarballs' paths as JSON.
// Build first (`npm run build`). No shell: npm runs from argument arrays.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const NODE_FILE = 'containerd-napi.linux-x64-gnu.node'
const LOGGER = 'containerd-napi-logger'

function npmPack(dir, destination) {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: dir, encoding: 'utf8' })
  return path.join(destination, out.trim().split('\n').pop())
}

/** Copies `files` (paths relative to `from`) into `to`, keeping modes. */
function copyAll(from, to, files) {
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true })
    fs.copyFileSync(path.join(from, f), path.join(to, f))
    fs.chmodSync(path.join(to, f), fs.statSync(path.join(from, f)).mode & 0o777)
  }
}

function pack(destination) {
  fs.mkdirSync(destination, { recursive: true })
  const main = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-stage-'))
  try {
    for (const f of [NODE_FILE, LOGGER]) {
      if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first`)
    }
    const platformDir = path.join(root, 'npm', 'linux-x64-gnu')
    const platformStage = path.join(stage, 'platform')
    const platform = JSON.parse(fs.readFileSync(path.join(platformDir, 'package.json'), 'utf8'))
    platform.version = main.version
    copyAll(platformDir, platformStage, ['README.md'])
    copyAll(root, platformStage, [NODE_FILE, LOGGER])
    fs.writeFileSync(path.join(platformStage, 'package.json'), JSON.stringify(platform, null, 2) + '\n')

    // The main package's file list as npm computes it, staged with the optional dependency added.
    const listed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }))[0].files.map((f) => f.path)
    const mainStage = path.join(stage, 'main')
    copyAll(root, mainStage, listed)
    main.optionalDependencies = { [platform.name]: main.version }
    fs.writeFileSync(path.join(mainStage, 'package.json'), JSON.stringify(main, null, 2) + '\n')
    return { main: npmPack(mainStage, destination), platform: npmPack(platformStage, destination) }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

module.exports = { pack }

if (require.main === module) {
  console.log(JSON.stringify(pack(path.resolve(process.argv[2] ?? '.'))))
}
