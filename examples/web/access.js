'use strict'
// Who may use a server, checked on the raw request before either framework sees it (so Koa and
// Express share one implementation). The server runs as root and drives containerd, so whoever
// may call its API is root on the host:
//
// - Host must name the address the server listens on. A page on a rebinding domain (evil.example
//   resolving to 127.0.0.1) would otherwise be same-origin with the API in the browser's eyes.
// - Every API route and event stream needs the token of this start, as `Authorization: Bearer`
//   or in the cookie that opening `/?token=…` sets (EventSource cannot send headers).
// - API request bodies carry a Content-Length of at most 1 MiB; a larger one is refused before
//   it is read and the connection is closed. One route takes more: an image archive uploaded to
//   POST /api/namespaces/:ns/import may have up to 2 GiB (still with a Content-Length, and the token).
// Only the UI's own files (public code, no data) are served without the token.

const crypto = require('node:crypto')
const os = require('node:os')

const BODY_LIMIT = 1 << 20
const IMPORT_LIMIT = 2 ** 31
const IMPORT_ROUTE = /^\/api\/namespaces\/[^/]+\/import$/

/** The largest body a request may carry: IMPORT_LIMIT for an archive upload, else BODY_LIMIT. */
const isImport = (method, pathname) => method === 'POST' && IMPORT_ROUTE.test(pathname)
const bodyLimit = (method, pathname) => (isImport(method, pathname) ? IMPORT_LIMIT : BODY_LIMIT)

/** A fresh random token (256 bits). */
const newToken = () => crypto.randomBytes(32).toString('base64url')

/** Constant time: hashing first makes the lengths equal and leaks nothing about the token. */
function sameToken(given, token) {
  if (typeof given !== 'string') return false
  const digest = (s) => crypto.createHash('sha256').update(s).digest()
  return crypto.timingSafeEqual(digest(given), digest(token))
}

/** The Host values that name a server listening on address:port (also localhost on loopback). */
function allowedHosts(address, port) {
  const wildcard = address === '0.0.0.0' || address === '::'
  const addresses = wildcard ? Object.values(os.networkInterfaces()).flat().map((i) => i.address) : [address]
  const hosts = new Set(addresses.map((a) => `${a.includes(':') ? `[${a}]` : a}:${port}`))
  if (addresses.includes('127.0.0.1') || addresses.includes('::1')) hosts.add(`localhost:${port}`)
  return hosts
}

function cookieValue(header, name) {
  for (const part of String(header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

function refuse(res, status, code, message, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
  res.end(JSON.stringify({ error: { code, message } }))
  return false
}

/**
 * The checks for one listening server. `publicPaths` (GET/HEAD only) need no token. Returns
 * guard(req, res): true when the request may go on to the framework; otherwise it has answered.
 */
function createGuard({ token, address, port, publicPaths }) {
  const hosts = allowedHosts(address, port)
  // Cookies are not kept apart by port: the port in the name keeps two servers' tokens apart.
  const cookie = `containerd_napi_token_${port}`

  return function guard(req, res) {
    const host = String(req.headers.host ?? '').toLowerCase()
    if (!hosts.has(host)) {
      return refuse(res, 403, 'FORBIDDEN', `Host ${JSON.stringify(req.headers.host ?? '')} is not this server (${[...hosts].join(', ')})`)
    }
    const url = new URL(req.url, 'http://server')
    const readOnly = req.method === 'GET' || req.method === 'HEAD'
    if (readOnly && (url.pathname === '/' || url.pathname === '/index.html') && url.searchParams.has('token')) {
      return login(res, url)
    }
    if (readOnly && publicPaths.has(url.pathname)) return true

    const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (!sameToken(bearer ?? cookieValue(req.headers.cookie, cookie), token)) {
      return refuse(res, 401, 'UNAUTHORIZED', 'this server needs its token: open the address with ?token=… that it printed, or send Authorization: Bearer <token>',
        { 'www-authenticate': 'Bearer' })
    }
    // Bodies must say their size up front, so a large one is refused without reading it.
    if (req.headers['transfer-encoding'] !== undefined) {
      return refuse(res, 411, 'LENGTH_REQUIRED', 'a request body needs a Content-Length', { connection: 'close' })
    }
    const limit = bodyLimit(req.method, url.pathname)
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`, { connection: 'close' })
    }
    if (isImport(req.method, url.pathname) && req.headers['content-length'] === undefined) {
      return refuse(res, 411, 'LENGTH_REQUIRED', 'an archive upload needs a Content-Length', { connection: 'close' })
    }
    return true
  }

  /** `/?token=…`: the right token becomes an HttpOnly cookie, and the URL loses it (303 to itself). */
  function login(res, url) {
    if (!sameToken(url.searchParams.get('token'), token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      res.end('wrong token: open the address that the server printed when it started\n')
      return false
    }
    url.searchParams.delete('token')
    res.writeHead(303, {
      location: `/${url.search}`,
      'set-cookie': `${cookie}=${token}; Path=/; HttpOnly; SameSite=Strict`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    })
    res.end()
    return false
  }
}

module.exports = { BODY_LIMIT, IMPORT_LIMIT, isImport, bodyLimit, newToken, sameToken, allowedHosts, createGuard }
