'use strict'
// What a container created through the API may take from the host. The server runs as root, so
// a bind mount of `/`, a privileged container or the host's network would hand the host to
// whoever holds the token (and, with exec, to anything running in the container). By default a
// container gets none of it:
//
// - bind mounts only from the directories the server was started with (`--allow-mount DIR`),
//   compared after resolving symlinks, and always nosuid,nodev; tmpfs mounts too get nosuid,nodev;
//   other mount types (overlay, proc, …) are refused;
// - privileged mode, the host's network and added capabilities only with `--allow-host`;
// - published ports only on 127.0.0.1 (this host), unless `--allow-host`: a port on 0.0.0.0 (the
//   default when a port names no address) or another address opens the container to the network.
// A refusal is a PermissionDeniedError (403). Checks here run after validate.js (shapes: 400).

const fs = require('node:fs')
const path = require('node:path')
const { PermissionDeniedError, InvalidArgumentError } = require('../..')

const denied = (message) => new PermissionDeniedError(message)
const FORCED = ['nosuid', 'nodev']

/** The policy of a server: the --allow-mount directories resolved once, at start (each must exist). */
function createPolicy({ allowMounts = [], allowHost = false } = {}) {
  const roots = allowMounts.map((dir) => {
    const real = fs.realpathSync(dir)
    if (!fs.statSync(real).isDirectory()) throw new Error(`--allow-mount ${dir}: not a directory`)
    return real
  })
  return { roots, allowHost: allowHost === true }
}

/** The address a port string of validate.js publishes on ('8080:80' means all of them). */
const hostIpOf = (port) => {
  const parts = port.split('/')[0].split(':')
  return parts.length === 3 ? parts[0] : '0.0.0.0'
}

const inside = (file, root) => file === root || file.startsWith(root.endsWith('/') ? root : root + '/')

function checkMount(mount, i, roots) {
  const what = `mounts[${i}]`
  const type = mount.type ?? 'bind'
  const options = mount.options ?? []
  const contrary = options.filter((o) => o === 'suid' || o === 'dev')
  if (contrary.length > 0) throw denied(`${what}: ${contrary.join(', ')} is not allowed (mounts are always nosuid,nodev)`)
  if (type === 'tmpfs') return { ...mount, options: [...options, ...FORCED] }
  if (type !== 'bind' && type !== 'rbind') throw denied(`${what}: mounts of type ${JSON.stringify(type)} are not allowed (bind and tmpfs only)`)

  const source = mount.source
  if (!path.isAbsolute(source)) throw new InvalidArgumentError(`${what}.source must be an absolute path`)
  if (source.split('/').includes('..')) throw denied(`${what}.source must not contain '..'`)
  let real
  try {
    real = fs.realpathSync(source) // a symlink counts where it points
  } catch (err) {
    if (!roots.some((root) => inside(source, root))) real = source // outside anyway: say so below
    else throw new InvalidArgumentError(`${what}.source ${source}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`)
  }
  if (!roots.some((root) => inside(real, root))) {
    const allowed = roots.length > 0 ? `only ${roots.join(', ')} and below` : 'none: the server was started without --allow-mount'
    throw denied(`${what}.source ${source} may not be mounted (bind mounts allowed: ${allowed})`)
  }
  // The resolved path goes to containerd, so what was checked is what gets mounted.
  return { ...mount, source: real, options: [...options, ...FORCED] }
}

/** Checks the client options of a new container against `policy`; resolves bind mount sources. */
function checkContainer(options, policy) {
  if (!policy.allowHost) {
    const needsHost = [
      options.privileged && 'privileged mode',
      options.hostNetwork && "the host's network",
      options.capabilities?.add?.length > 0 && 'added capabilities',
      options.ports?.some((p) => hostIpOf(p) !== '127.0.0.1') && 'ports on another address than 127.0.0.1 (publish as 127.0.0.1:HOSTPORT:PORT)',
    ].filter(Boolean)
    if (needsHost.length > 0) throw denied(`${needsHost.join(', ')}: only on a server started with --allow-host`)
  }
  if (options.mounts) return { ...options, mounts: options.mounts.map((m, i) => checkMount(m, i, policy.roots)) }
  return options
}

module.exports = { createPolicy, checkContainer }
