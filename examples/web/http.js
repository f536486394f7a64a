'use strict'
// The HTTP pieces both servers share: the one error → status mapping, Server-Sent Events, a
// JSON body reader, the few static files of the web UI, and listening behind the access checks
// of access.js (Host, token, body size).

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { ContainerdError, httpStatus } = require('../..')
const { BODY_LIMIT, isImport, newToken, createGuard } = require('./access.js')

/** An error with an HTTP status of its own (bad JSON, wrong content type, unknown route). */
class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
    this.expose = true
  }
}

/**
 * Any error → { status, body: { error: { code, message } } }. Typed client errors map by their
 * code (the package's httpStatus()); 4xx errors of body parsers (and HttpError) keep their status; the rest is a 500 whose
 * message stays in the server's log.
 */
function errorResponse(err) {
  if (err instanceof ContainerdError) {
    return { status: httpStatus(err), body: { error: { code: err.code, message: err.message } } }
  }
  const status = Number(err?.status ?? err?.statusCode)
  if (Number.isInteger(status) && status >= 400 && status < 500 && err.expose !== false) {
    const code = (http.STATUS_CODES[status] ?? 'Client Error').toUpperCase().replace(/[^A-Z]+/g, '_')
    return { status, body: { error: { code, message: err.message } } }
  }
  console.error('internal error:', err)
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } } }
}

const hostOf = (url) => { try { return new URL(url).host } catch { return null } }

/**
 * Every API request: a browser request from another origin is refused (browsers always send
 * Origin on cross-origin POSTs and DELETEs, so another web page cannot drive the API through the
 * user's browser), and a POST body must be JSON.
 */
function checkRequest(method, headers, pathname = '') {
  const origin = headers.origin
  if (origin !== undefined && hostOf(origin) !== headers.host) {
    throw new HttpError(403, `cross-origin requests are not allowed (origin ${origin})`)
  }
  const hasBody = Number(headers['content-length'] || 0) > 0 || headers['transfer-encoding'] !== undefined
  if (isImport(method, `/api${pathname}`)) {
    // An archive, not JSON (a form's multipart or a text type would be a cross-site "simple request").
    if (!/^application\/(x-tar|gzip|x-gzip|octet-stream)\b/i.test(headers['content-type'] || '')) {
      throw new HttpError(415, 'an archive upload must be application/x-tar, application/gzip or application/octet-stream')
    }
    return
  }
  if (method === 'POST' && hasBody && !/^application\/json\b/i.test(headers['content-type'] || '')) {
    throw new HttpError(415, 'a request body must be JSON (Content-Type: application/json)')
  }
}

/** Reads a JSON request body (at most 1 MiB; access.js already refused a larger Content-Length). */
async function readJson(req, limit = BODY_LIMIT) {
  const chunks = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size <= limit) chunks.push(chunk) // past the limit: read on (so the client sees the answer), keep nothing
  }
  if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`)
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${err.message}`)
  }
}

/**
 * Sends `stream` (an image archive) as a download; destroys it if the client goes away, and ends
 * the response abruptly if it fails midway (the status is long sent: a cut archive is the sign).
 */
function sendArchive(res, { stream, filename }) {
  res.writeHead(200, {
    'content-type': 'application/x-tar',
    'content-disposition': `attachment; filename="${filename.replace(/["\\]/g, '_')}"`,
    'cache-control': 'no-store',
  })
  stream.on('error', (err) => { console.error('export:', err.message); res.destroy() })
  res.on('close', () => stream.destroy())
  stream.pipe(res)
}

/** Buffers (undecoded payloads) become a short note in JSON instead of a list of numbers. */
function jsonReplacer(key, value) {
  if (value && value.type === 'Buffer' && Array.isArray(value.data)) return `<${value.data.length} bytes>`
  return value
}

/**
 * Turns a response into an event stream. Returns { send(event, data, id?), end(), signal }:
 * `send` JSON-encodes data and resolves once the socket took it (backpressure); `signal` aborts
 * when the client goes away (or the server closes its connections).
 */
function openSse(res) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  res.write('retry: 2000\n\n')
  const controller = new AbortController()
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000)
  const end = () => {
    clearInterval(heartbeat)
    controller.abort()
    if (!res.writableEnded) res.end()
  }
  res.on('close', end)
  if (res.destroyed) end() // the client left before there was anything to stream
  const stream = {
    signal: controller.signal,
    async send(event, data, id) {
      if (controller.signal.aborted) return
      const lines = [`event: ${event}`]
      if (id !== undefined) lines.push(`id: ${id}`)
      lines.push(`data: ${JSON.stringify(data, jsonReplacer)}`)
      if (!res.write(lines.join('\n') + '\n\n')) {
        await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve) })
      }
    },
    end,
  }
  return stream
}

// The web UI: a fixed list of files, never a path taken from the request.
const PUBLIC = path.join(__dirname, 'public')
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
}

/** { type, body } for a file of the web UI, or null. */
function staticFile(urlPath) {
  const entry = STATIC[urlPath]
  if (!entry) return null
  return { type: entry[1], body: fs.createReadStream(path.join(PUBLIC, entry[0])) }
}

/**
 * Serves `handler` on host:port (port 0: any free one) behind the access checks of access.js.
 * `token` defaults to a fresh random one. Resolves with { url, loginUrl, token, close() }:
 * loginUrl (url + ?token=…) is what a browser opens; close() drops every connection (which ends
 * the event streams and what they follow) and the service's containerd connection.
 */
async function listen(handler, service, { port = 0, host = '127.0.0.1', token = newToken() } = {}) {
  let guard = null // set once the address is known; nothing is served before that
  const server = http.createServer((req, res) => {
    if (!guard) { res.writeHead(503).end(); return }
    if (guard(req, res)) handler(req, res)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const { address, port: actual } = server.address()
  guard = createGuard({ token, address, port: actual, publicPaths: new Set(Object.keys(STATIC)) })
  const shown = address.includes(':') ? `[${address}]` : address === '0.0.0.0' ? 'localhost' : address
  const url = `http://${shown}:${actual}/`
  return {
    url,
    loginUrl: `${url}?token=${token}`,
    token,
    server,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve))
      server.closeAllConnections()
      await Promise.all([closed, service.close()])
    },
  }
}

/**
 * The command line of a server: `--allow-mount DIR` (repeatable: bind mounts from these
 * directories only) and `--allow-host` (privileged containers, the host's network, added
 * capabilities). Without them a container gets nothing of the host.
 */
function serverOptions(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: { 'allow-mount': { type: 'string', multiple: true, default: [] }, 'allow-host': { type: 'boolean', default: false } },
  })
  return { allowMounts: values['allow-mount'], allowHost: values['allow-host'] }
}

/** Runs a server standalone (`node examples/<framework>-api/server.js [--allow-mount DIR] [--allow-host]`). */
function runStandalone(createServer, framework) {
  Promise.resolve().then(() => createServer({
    address: process.env.CONTAINERD_ADDRESS,
    port: Number(process.env.PORT || 8080),
    host: process.env.HOST || '127.0.0.1',
    ...serverOptions(),
  })).then(({ loginUrl, close }) => {
    console.log(`containerd web UI (${framework}): ${loginUrl}`)
    const stop = () => close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  }, (err) => {
    console.error(err.message)
    process.exit(1)
  })
}

module.exports = { sendArchive, HttpError, errorResponse, checkRequest, readJson, openSse, staticFile, listen, serverOptions, runStandalone, PUBLIC }
