#!/usr/bin/env node
'use strict'
// The container control API and web UI on Koa + @koa/router. Everything but this glue is shared
// with the Express example (examples/web/): the service, the error → status mapping, event
// streams and the UI.
//
//   node examples/koa-api/server.js [--allow-mount DIR]… [--allow-host]
//     ($CONTAINERD_ADDRESS, $PORT (8080), $HOST (127.0.0.1)); prints the address to open, with its token

const Koa = require('koa')
const { Router } = require('@koa/router')
const { Service } = require('../web/service.js')
const { HttpError, errorResponse, checkRequest, readJson, openSse, sendArchive, staticFile, listen, runStandalone } = require('../web/http.js')
const { isImport } = require('../web/access.js')

/**
 * Resolves with { url, loginUrl, token, close() } (examples/web/http.js listen()). `registry` and
 * `images` only feed the UI's pull suggestions; `allowMounts` and `allowHost` say what containers
 * may take from the host (examples/web/policy.js); `token` defaults to a random one.
 */
async function createServer({ address, registry, images, logDir, allowMounts, allowHost, token, port = 0, host = '127.0.0.1' } = {}) {
  const service = new Service({ address, registry, images, logDir, allowMounts, allowHost })
  const app = new Koa()
  const api = new Router({ prefix: '/api' })

  app.use(async (ctx, next) => {
    try {
      await next()
    } catch (err) {
      const { status, body } = errorResponse(err)
      ctx.status = status
      ctx.body = body
    }
  })

  // A JSON route: `fn(ctx)` resolves with the body (undefined: 204 No Content).
  const route = (fn, status = 200) => async (ctx) => {
    const body = await fn(ctx)
    if (body === undefined) ctx.status = 204
    else { ctx.body = body; ctx.status = status }
  }
  // A streaming route: the service calls open() once it has something to stream.
  const stream = (fn) => (ctx) => fn(ctx, () => {
    ctx.respond = false // the raw response is the event stream from here on
    return openSse(ctx.res)
  })

  api.use(async (ctx, next) => {
    checkRequest(ctx.method, ctx.headers, ctx.path.slice('/api'.length))
    // An archive upload stays a stream (service.importImages reads it); other POSTs are JSON.
    if (ctx.method === 'POST' && !isImport(ctx.method, ctx.path)) ctx.request.body = await readJson(ctx.req)
    await next()
  })

  api
    .get('/info', route(() => service.info()))
    .get('/networks', route(() => service.listNetworks()))

    .get('/namespaces', route(() => service.listNamespaces()))
    .post('/namespaces', route((ctx) => service.createNamespace(ctx.request.body), 201))
    .delete('/namespaces/:ns', route(({ params: p }) => service.deleteNamespace(p.ns)))

    .get('/namespaces/:ns/images', route(({ params: p }) => service.listImages(p.ns)))
    .post('/namespaces/:ns/images', route(({ params: p, request }) => service.pull(p.ns, request.body), 201))
    .delete('/namespaces/:ns/images/:name', route(({ params: p }) => service.deleteImage(p.ns, p.name)))
    .get('/namespaces/:ns/export', async (ctx) => {
      const archive = await service.exportImages(ctx.params.ns, ctx.query.name)
      ctx.respond = false // the raw response streams the archive
      sendArchive(ctx.res, archive)
    })
    .post('/namespaces/:ns/import', route(({ params: p, req }) => service.importImages(p.ns, req), 201))
    .post('/namespaces/:ns/pushes', route(({ params: p, request }) => service.startPush(p.ns, request.body), 202))
    .get('/pushes/:id/events', stream(({ params: p }, open) => service.pullEvents(p.id, open)))
    .delete('/pushes/:id', route(({ params: p }) => service.cancelPull(p.id)))
    .get('/namespaces/:ns/pulls', route(({ params: p }) => service.listPulls(p.ns)))
    .post('/namespaces/:ns/pulls', route(({ params: p, request }) => service.startPull(p.ns, request.body), 202))
    .get('/pulls/:id/events', stream(({ params: p }, open) => service.pullEvents(p.id, open)))
    .delete('/pulls/:id', route(({ params: p }) => service.cancelPull(p.id)))

    .get('/namespaces/:ns/containers', route(({ params: p }) => service.listContainers(p.ns)))
    .post('/namespaces/:ns/containers', route(({ params: p, request }) => service.createContainer(p.ns, request.body), 201))
    .delete('/namespaces/:ns/containers/:id', route(({ params: p }) => service.deleteContainer(p.ns, p.id)))
    .post('/namespaces/:ns/containers/:id/commit', route(({ params: p, request }) => service.commit(p.ns, p.id, request.body), 201))
    .get('/namespaces/:ns/containers/:id/stats', stream(({ params: p }, open) => service.stats(p.ns, p.id, open)))
    .get('/namespaces/:ns/containers/:id/logs', stream((ctx, open) => service.logs(ctx.params.ns, ctx.params.id, ctx.get('last-event-id'), open)))

    .post('/namespaces/:ns/containers/:id/task/start', route(({ params: p }) => service.startTask(p.ns, p.id), 201))
    .post('/namespaces/:ns/containers/:id/task/stop', route(({ params: p, request }) => service.stopTask(p.ns, p.id, request.body)))
    .post('/namespaces/:ns/containers/:id/task/kill', route(({ params: p, request }) => service.killTask(p.ns, p.id, request.body)))
    .post('/namespaces/:ns/containers/:id/task/pause', route(({ params: p }) => service.pauseTask(p.ns, p.id)))
    .post('/namespaces/:ns/containers/:id/task/resume', route(({ params: p }) => service.resumeTask(p.ns, p.id)))
    .post('/namespaces/:ns/containers/:id/task/exec', route(({ params: p, request }) => service.exec(p.ns, p.id, request.body)))
    .post('/namespaces/:ns/containers/:id/task/update', route(({ params: p, request }) => service.updateTask(p.ns, p.id, request.body)))
    .delete('/namespaces/:ns/containers/:id/task', route(({ params: p }) => service.deleteTask(p.ns, p.id)))

    .get('/namespaces/:ns/events', stream(({ params: p }, open) => service.events(p.ns, open)))

  app.use(api.routes())
  app.use(async (ctx) => {
    if (ctx.path === '/api' || ctx.path.startsWith('/api/')) throw new HttpError(404, `no route ${ctx.method} ${ctx.path}`)
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? staticFile(ctx.path) : null
    if (!file) throw new HttpError(404, `not found: ${ctx.path}`)
    ctx.type = file.type
    ctx.body = file.body
  })

  return listen(app.callback(), service, { port, host, token })
}

module.exports = { createServer }

if (require.main === module) runStandalone(createServer, 'Koa')
