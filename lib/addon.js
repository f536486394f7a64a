'use strict'
// The native binding, loaded once (lib/native.js calls through it; lib/errors.js takes the error
// codes from it, so the core's list is the only one).

const PLATFORM_PACKAGE = 'containerd-napi-linux-x64-gnu'

/**
 * Where the addon comes from, in order:
 * 1. the one built in this checkout (`npm run build`), next to the package, loaded directly:
 *    napi-rs's generated binding.js first probes for musl (reading /usr/bin/ldd) and for a dozen
 *    platform packages, which was a quarter of the package's load time;
 * 2. the platform package npm installed as an optional dependency (the published package carries
 *    no .node of its own; `npm run pack` wires it the napi-rs way);
 * 3. binding.js, for anything unusual (another libc, another platform's package).
 */
function load() {
  const { existsSync } = require('node:fs')
  const { join } = require('node:path')
  const { platform, arch } = process
  const libc = platform === 'linux' ? ['-gnu', '-musl'] : ['']
  const found = libc.map((abi) => join(__dirname, '..', `containerd-napi.${platform}-${arch}${abi}.node`)).filter((f) => existsSync(f))
  if (found.length === 1) return require(found[0])
  if (platform === 'linux' && arch === 'x64') {
    try {
      return require(PLATFORM_PACKAGE)
    } catch {
      // not installed, or not loadable here (musl): binding.js says what is wrong
    }
  }
  return require('../binding.js')
}

const binding = load()
// NODE_DEBUG=containerd-napi: the core writes a line per RPC and registry request (crates/core/src/debug.rs).
if (require('node:util').debuglog('containerd-napi').enabled) binding.setDebug(true)
module.exports = binding
