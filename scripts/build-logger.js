'use strict'
// Builds the logger binary (crates/logger) and copies it next to the .node file, where
// lib/container.js finds it and the package ships it. `--debug` builds the dev profile.
// Honours $CARGO_TARGET_DIR like napi build does. No shell: cargo runs from an argument array.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const debug = process.argv.includes('--debug')
const args = ['build', '-p', 'containerd-napi-logger', ...(debug ? [] : ['--release'])]
execFileSync('cargo', args, { cwd: root, stdio: 'inherit' })
const target = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
const built = path.join(target, debug ? 'debug' : 'release', 'containerd-napi-logger')
const dest = path.join(root, 'containerd-napi-logger')
const temp = `${dest}.${process.pid}.tmp`
fs.copyFileSync(built, temp)
fs.chmodSync(temp, 0o755)
fs.renameSync(temp, dest)
console.log(`logger: ${path.relative(root, dest)} (${fs.statSync(dest).size} bytes)`)
