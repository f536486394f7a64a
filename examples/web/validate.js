'use strict'
// Request input checks. Everything a request carries is checked here before it reaches the
// client; a bad value is an InvalidArgumentError, which errorResponse() maps to 400.

const { InvalidArgumentError } = require('../..')

const bad = (message) => new InvalidArgumentError(message)
const describe = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v)
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// containerd's identifier rules (namespaces, containers, exec ids): alphanumeric runs joined by
// single '.', '_' or '-', at most 76 characters. Such names are also safe as file names.
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/

function identifier(value, what) {
  if (typeof value !== 'string' || value.length > 76 || !IDENTIFIER.test(value)) {
    throw bad(`${what} must be letters and digits joined by single '.', '_' or '-' (at most 76 characters), got ${JSON.stringify(value)}`)
  }
  return value
}

function body(value) {
  if (value === undefined) return {}
  if (!isObject(value)) throw bad(`the request body must be a JSON object, got ${describe(value)}`)
  return value
}

function string(value, what, { max = 4096, optional = false } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw bad(`${what} must be a non-empty string of at most ${max} characters, got ${describe(value)}`)
  }
  return value
}

function boolean(value, what) {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw bad(`${what} must be true or false, got ${describe(value)}`)
  return value
}

function strings(value, what, { optional = true, nonEmpty = false, max = 256 } = {}) {
  if (value === undefined && optional) return undefined
  if (!Array.isArray(value)) throw bad(`${what} must be an array of strings, got ${describe(value)}`)
  if (nonEmpty && value.length === 0) throw bad(`${what} must not be empty`)
  if (value.length > max) throw bad(`${what} has more than ${max} entries`)
  value.forEach((v, i) => { if (typeof v !== 'string') throw bad(`${what}[${i}] must be a string, got ${describe(v)}`) })
  return value
}

function stringMap(value, what) {
  if (value === undefined) return undefined
  if (!isObject(value)) throw bad(`${what} must be an object of strings, got ${describe(value)}`)
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw bad(`${what}[${JSON.stringify(k)}] must be a string, got ${describe(v)}`)
  }
  return value
}

/** A reference like 'busybox' or '127.0.0.1:5000/app:1.0' (the client checks the grammar). */
function imageRef(value, what = 'ref') {
  string(value, what, { max: 512 })
  if (/\s/.test(value)) throw bad(`${what} must not contain whitespace`)
  return value
}

/** { KEY: 'value' } or ['KEY=value']. */
function env(value) {
  if (value === undefined || isObject(value)) return stringMap(value, 'env')
  strings(value, 'env')
  value.forEach((e, i) => { if (!/^[^=\s]+=/.test(e)) throw bad(`env[${i}] must look like KEY=value, got ${JSON.stringify(e)}`) })
  return value
}

function mounts(value) {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length > 64) throw bad(`mounts must be an array (at most 64), got ${describe(value)}`)
  return value.map((m, i) => {
    if (!isObject(m)) throw bad(`mounts[${i}] must be an object, got ${describe(m)}`)
    const out = {
      type: string(m.type, `mounts[${i}].type`, { max: 64, optional: true }),
      source: string(m.source, `mounts[${i}].source`),
      destination: string(m.destination, `mounts[${i}].destination`),
      options: strings(m.options, `mounts[${i}].options`),
    }
    if (!out.destination.startsWith('/')) throw bad(`mounts[${i}].destination must be an absolute path`)
    return out
  })
}

/** { add?, drop? }: capability names like 'NET_ADMIN', 'CAP_NET_ADMIN' or 'ALL'. */
function capabilities(value) {
  if (value === undefined) return undefined
  if (!isObject(value)) throw bad(`capabilities must be an object { add?, drop? }, got ${describe(value)}`)
  const unknown = Object.keys(value).filter((k) => k !== 'add' && k !== 'drop')
  if (unknown.length > 0) throw bad(`capabilities has unknown field(s): ${unknown.join(', ')}`)
  for (const key of ['add', 'drop']) {
    strings(value[key], `capabilities.${key}`, { max: 64 })?.forEach((c, i) => {
      if (!/^[A-Za-z_]{1,40}$/.test(c)) throw bad(`capabilities.${key}[${i}] must be a name like 'NET_ADMIN', got ${JSON.stringify(c)}`)
    })
  }
  return value
}

/** The container's network: 'none', 'host' (the same as hostNetwork: true), 'bridge' or a network name. */
function network(value) {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > 64 || !IDENTIFIER.test(value)) {
    throw bad(`network must be 'none', 'host', 'bridge' or a network name (letters and digits joined by '.', '_' or '-'), got ${JSON.stringify(value)}`)
  }
  return value
}

// '[hostIp:]hostPort:containerPort[/tcp|udp]' (the client checks the numbers and the address).
const PORT = /^(?:\d{1,3}(?:\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}(?:\/(?:tcp|udp))?$/

/** Published ports: strings like '127.0.0.1:8080:80' or '5353:53/udp'. */
function ports(value) {
  strings(value, 'ports', { max: 64 })?.forEach((p, i) => {
    if (!PORT.test(p)) throw bad(`ports[${i}] must look like '127.0.0.1:8080:80' ([hostIp:]hostPort:containerPort[/tcp|udp]), got ${JSON.stringify(p)}`)
  })
  return value
}

/** Nameservers for the container's /etc/resolv.conf: IPv4 addresses. */
function dns(value) {
  strings(value, 'dns', { max: 8 })?.forEach((a, i) => {
    if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(a)) throw bad(`dns[${i}] must be an IPv4 address, got ${JSON.stringify(a)}`)
  })
  return value
}

/** A signal name ('SIGTERM', 'kill', 'SIGRTMIN+1') or number. */
function signal(value) {
  if (value === undefined) return 'SIGTERM'
  if (Number.isInteger(value) && value > 0 && value < 65) return value
  if (typeof value === 'string' && /^[A-Za-z][A-Za-z0-9+-]{0,15}$/.test(value)) return value
  throw bad(`signal must be a name like 'SIGTERM' or a number from 1 to 64, got ${JSON.stringify(value)}`)
}

/** Optional registry credentials: { username, password } or { token }. */
function auth(value) {
  if (value === undefined || value === null) return undefined
  if (!isObject(value)) throw bad(`auth must be an object, got ${describe(value)}`)
  if (value.token !== undefined) return { token: string(value.token, 'auth.token') }
  return { username: string(value.username, 'auth.username', { max: 256 }), password: string(value.password, 'auth.password') }
}

/** A restart policy the UI offers: 'no', 'always' or 'unless-stopped'. */
const RESTART = ['no', 'always', 'unless-stopped']
function restart(value) {
  if (value === undefined) return undefined
  if (!RESTART.includes(value)) throw bad(`restart must be one of ${RESTART.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(value)}`)
  return value
}

/** Where a push goes: a reference that names its registry host ('host[:port]/repo[:tag]'). */
function pushTarget(value) {
  imageRef(value, 'target')
  const first = value.split('/')[0]
  if (!value.includes('/') || !/[.:]|^localhost$/.test(first)) {
    throw bad(`target must name its registry, like '127.0.0.1:5000/app:1' or 'registry.example.com/team/app:1', got ${JSON.stringify(value)}`)
  }
  return value
}

/** A memory limit in bytes: an integer from 4 MiB to 1 TiB. */
function memoryLimit(value) {
  if (!Number.isSafeInteger(value) || value < 4 * 2 ** 20 || value > 2 ** 40) {
    throw bad(`memoryLimitBytes must be an integer from ${4 * 2 ** 20} (4 MiB) to ${2 ** 40} (1 TiB), got ${JSON.stringify(value)}`)
  }
  return value
}

module.exports = { identifier, body, string, boolean, strings, stringMap, imageRef, env, mounts, capabilities, network, ports, dns, signal, auth, restart, pushTarget, memoryLimit }
