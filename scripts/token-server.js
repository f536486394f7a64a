#!/usr/bin/env node
'use strict'
// A token server for docker-registry's `auth: token` (the Docker registry token protocol), run by
// the sandbox. It checks one user's credentials and answers with an RS256 JWT granting the
// requested repository scopes. The registry trusts the token because its header carries the
// signing certificate (`x5c`), which is the registry's `rootcertbundle`.
//
//   GET  /token?service=S&scope=repository:NAME:pull,push   HTTP basic credentials (docker, skopeo)
//   POST /token  grant_type=password&username&password&scope&service   (OAuth2 form; containerd
//        tries it first and falls back to GET on 400/401/404)
//
//   node token-server.js CONFIG   JSON: { port, cert, key, issuer, service, username, password }
//   (a file, so that the password does not show in the process list)

const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const key = crypto.createPrivateKey(fs.readFileSync(config.key))
const x5c = [new crypto.X509Certificate(fs.readFileSync(config.cert)).raw.toString('base64')]
const TTL = 300

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

function jwt(claims) {
  const input = `${b64url({ typ: 'JWT', alg: 'RS256', x5c })}.${b64url(claims)}`
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

/** `repository:NAME:pull,push` scopes (several per parameter, space-separated, as containerd sends them). */
function repositoryAccess(scopes) {
  const access = []
  for (const scope of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
    const first = scope.indexOf(':')
    const last = scope.lastIndexOf(':')
    if (first < 0 || first === last || scope.slice(0, first) !== 'repository') continue
    access.push({ type: 'repository', name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) })
  }
  return access
}

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function basicCredentials(header = '') {
  const [scheme, encoded] = header.split(' ')
  if (!/^basic$/i.test(scheme) || !encoded) return null
  const decoded = Buffer.from(encoded, 'base64').toString()
  const colon = decoded.indexOf(':')
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://token-server')
  if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' })
  let params = url.searchParams
  let user
  if (req.method === 'POST') {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    params = new URLSearchParams(Buffer.concat(chunks).toString())
    if (params.get('grant_type') !== 'password') return reply(res, 400, { error: 'unsupported_grant_type' })
    user = { username: params.get('username'), password: params.get('password') }
  } else if (req.method === 'GET') {
    user = basicCredentials(req.headers.authorization)
  } else {
    return reply(res, 405, { error: 'method not allowed' })
  }
  if (!user || user.username !== config.username || user.password !== config.password) {
    return reply(res, 401, { error: 'invalid credentials' }, { 'www-authenticate': 'Basic realm="containerd-napi-token-server"' })
  }
  const now = Math.floor(Date.now() / 1000)
  const token = jwt({
    iss: config.issuer,
    sub: user.username,
    aud: config.service,
    exp: now + TTL,
    nbf: now - 5,
    iat: now,
    jti: crypto.randomUUID(),
    access: repositoryAccess(params.getAll('scope')),
  })
  reply(res, 200, { token, access_token: token, expires_in: TTL, issued_at: new Date(now * 1000).toISOString() })
}

http.createServer((req, res) => {
  // One log line per request (the query names the scopes; credentials never appear in it).
  res.on('finish', () => console.log(`${new Date().toISOString()} ${req.method} ${req.url} ${res.statusCode}`))
  handle(req, res).catch((err) => { if (!res.headersSent) reply(res, 500, { error: String(err) }) })
}).listen(Number(config.port), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
