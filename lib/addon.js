'use strict'
// The native binding, loaded once (lib/native.js calls through it; lib/errors.js takes the error
// codes from it, so the core's list is the only one).

/**
 * The addon built in this checkout, loaded directly: napi-rs's generated binding.js first probes
 * for musl (reading /usr/bin/ldd) and for a dozen platform packages, which was a quarter of the
 * package's load time. Anything unusual (another libc, a prebuilt package) still goes through it.
 */
function load() {
  const { existsSync } = require('node:fs')
  const { join } = require('node:path')
  const { platform, arch } = process
  const libc = platform === 'linux' ? ['-gnu', '-musl'] : ['']
  const found = libc.map((abi) => join(__dirname, '..', `containerd-napi.${platform}-${arch}${abi}.node`)).filter((f) => existsSync(f))
  return found.length === 1 ? require(found[0]) : require('../binding.js')
}

module.exports = load()
