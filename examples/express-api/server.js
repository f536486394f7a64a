#!/usr/bin/env node
'use strict'
// The container control API and web UI on Express. Everything but this glue is shared with the
// Koa example (examples/web/): the service, the error → status mapping, event streams and the UI.
//
//   node examples/express-api/server.js [--allow-mount DIR]… [--allow-host]
//     ($CONTAINERD_ADDRESS, $PORT (8080), $HOST (127.0.0.1)); prints the address to open, with its token

const express = require('express')
const { Service } = require('../web/service.js')
const { HttpError, errorResponse, checkRequest, openSse, sendArchive, listen, runStandalone, PUBLIC } = require('../web/http.js')

/**
 * Resolves with { url, loginUrl, token, close() } (examples/web/http.js listen()). `registry` and
 * `images` only feed the UI's pull suggestions; `allowMounts` and `allowHost` say what containers
 * may take from the host (examples/web/policy.js); `token` defaults to a random one.
 */
async function createServer({ address, registry, images, logDir, allowMounts, allowHost, token, port = 0, host = '127.0.0.1' } = {}) {
  const service = new Service({ address, registry, images, logDir, allowMounts, allowHost })
  const app = express()
  app.disable('x-powered-by')
  const api = express.Router()

  // A JSON route: `fn(req)` resolves with the body (undefined: 204 No Content).
  const route = (fn, status = 200) => async (req, res) => {
    const body = await fn(req)
    if (body === undefined) res.status(204).end()
    else res.status(status).json(body)
  }
  // A streaming route: the service calls open() once it has something to stream.
  const stream = (fn) => (req, res) => fn(req, () => openSse(res))

  api.use((req, res, next) => { checkRequest(req.method, req.headers, req.path); next() })
  api.use(express.json({ limit: '1mb' }))

  api.get('/info', route(() => service.info()))
  api.get('/networks', route(() => service.listNetworks()))

  api.get('/namespaces', route(() => service.listNamespaces()))
  api.post('/namespaces', route((req) => service.createNamespace(req.body), 201))
  api.delete('/namespaces/:ns', route(({ params: p }) => service.deleteNamespace(p.ns)))

  api.get('/namespaces/:ns/images', route(({ params: p }) => service.listImages(p.ns)))
  api.post('/namespaces/:ns/images', route(({ params: p, body }) => service.pull(p.ns, body), 201))
  api.delete('/namespaces/:ns/images/:name', route(({ params: p }) => service.deleteImage(p.ns, p.name)))
  api.get('/namespaces/:ns/export', async (req, res) => sendArchive(res, await service.exportImages(req.params.ns, req.query.name)))
  // The archive upload is the raw request stream (express.json() leaves non-JSON bodies unread).
  api.post('/namespaces/:ns/import', route((req) => service.importImages(req.params.ns, req), 201))
  api.post('/namespaces/:ns/pushes', route(({ params: p, body }) => service.startPush(p.ns, body), 202))
  api.get('/pushes/:id/events', stream(({ params: p }, open) => service.pullEvents(p.id, open)))
  api.delete('/pushes/:id', route(({ params: p }) => service.cancelPull(p.id)))
  api.get('/namespaces/:ns/pulls', route(({ params: p }) => service.listPulls(p.ns)))
  api.post('/namespaces/:ns/pulls', route(({ params: p, body }) => service.startPull(p.ns, body), 202))
  api.get('/pulls/:id/events', stream(({ params: p }, open) => service.pullEvents(p.id, open)))
  api.delete('/pulls/:id', route(({ params: p }) => service.cancelPull(p.id)))

  api.get('/namespaces/:ns/containers', route(({ params: p }) => service.listContainers(p.ns)))
  api.post('/namespaces/:ns/containers', route(({ params: p, body }) => service.createContainer(p.ns, body), 201))
  api.delete('/namespaces/:ns/containers/:id', route(({ params: p }) => service.deleteContainer(p.ns, p.id)))
  api.post('/namespaces/:ns/containers/:id/commit', route(({ params: p, body }) => service.commit(p.ns, p.id, body), 201))
  api.get('/namespaces/:ns/containers/:id/stats', stream(({ params: p }, open) => service.stats(p.ns, p.id, open)))
  api.get('/namespaces/:ns/containers/:id/logs', stream((req, open) => service.logs(req.params.ns, req.params.id, req.get('last-event-id'), open)))

  api.post('/namespaces/:ns/containers/:id/task/start', route(({ params: p }) => service.startTask(p.ns, p.id), 201))
  api.post('/namespaces/:ns/containers/:id/task/stop', route(({ params: p, body }) => service.stopTask(p.ns, p.id, body)))
  api.post('/namespaces/:ns/containers/:id/task/kill', route(({ params: p, body }) => service.killTask(p.ns, p.id, body)))
  api.post('/namespaces/:ns/containers/:id/task/pause', route(({ params: p }) => service.pauseTask(p.ns, p.id)))
  api.post('/namespaces/:ns/containers/:id/task/resume', route(({ params: p }) => service.resumeTask(p.ns, p.id)))
  api.post('/namespaces/:ns/containers/:id/task/exec', route(({ params: p, body }) => service.exec(p.ns, p.id, body)))
  api.post('/namespaces/:ns/containers/:id/task/update', route(({ params: p, body }) => service.updateTask(p.ns, p.id, body)))
  api.delete('/namespaces/:ns/containers/:id/task', route(({ params: p }) => service.deleteTask(p.ns, p.id)))

  api.get('/namespaces/:ns/events', stream(({ params: p }, open) => service.events(p.ns, open)))

  api.use((req) => { throw new HttpError(404, `no route ${req.method} ${req.baseUrl}${req.path}`) })
  app.use('/api', api)
  app.use(express.static(PUBLIC))
  app.use((req) => { throw new HttpError(404, `not found: ${req.path}`) })

  // Errors → { error: { code, message } } with the mapped status (one mapping, examples/web/http.js).
  app.use((err, req, res, _next) => { // four parameters: Express's error-handler signature
    if (res.headersSent) return res.end()
    const { status, body } = errorResponse(err)
    res.status(status).json(body)
  })

  return listen(app, service, { port, host, token })
}

module.exports = { createServer }

if (require.main === module) runStandalone(createServer, 'Express')
