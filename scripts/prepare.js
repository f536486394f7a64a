#!/usr/bin/env node
'use strict'
// Makes a fresh checkout runnable before the first build: the Debian packages the build and the
// test stack need (as root), and the npm dev dependencies (napi CLI, example frameworks) when
// node_modules is missing. Used by `npm run demo` and `npm run example`.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { ensureTools } = require('./sandbox.js')

ensureTools()
const root = path.join(__dirname, '..')
if (!fs.existsSync(path.join(root, 'node_modules', '.bin', 'napi'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
}
