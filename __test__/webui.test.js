'use strict'
// The web UI examples (examples/koa-api, examples/express-api over examples/web): every route of
// both servers against the real daemon, including each error status; who may call them (token,
// Host, body size: examples/web/access.js) and what containers may take from the host
// (examples/web/policy.js); then the UI itself in a headless Chromium (playwright-core driving
// Debian's /usr/bin/chromium), logged in through the printed /?token=… address.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { sandbox, uniqueName, closedPort } = require('./helpers.js')

const sb = sandbox()
const SERVERS = {
  koa: require('../examples/koa-api/server.js'),
  express: require('../examples/express-api/server.js'),
}
const CHROMIUM = '/usr/bin/chromium'
const OUTPUT = path.join(__dirname, '..', 'test-output')
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-webui-logs-'))
// The one directory the servers may bind-mount from (--allow-mount), with a file, a
// subdirectory and a symlink pointing out of it.
const mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-webui-mounts-'))
fs.mkdirSync(path.join(mountDir, 'data'))
fs.writeFileSync(path.join(mountDir, 'data', 'hello.txt'), 'hello from the host\n')
fs.symlinkSync('/etc', path.join(mountDir, 'etc-link'))
after(() => {
  fs.rmSync(logDir, { recursive: true, force: true })
  fs.rmSync(mountDir, { recursive: true, force: true })
})

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const bearer = (server) => ({ authorization: `Bearer ${server.token}` })

/**
 * A JSON client for `server` (with its token; `headers` may replace the authorization): resolves
 * with { status, body } (body parsed, undefined if empty).
 */
function apiClient(server) {
  return async (method, route, body, headers = {}) => {
    const raw = typeof body === 'string'
    headers = { ...bearer(server), ...headers }
    const res = await fetch(new URL(`api${route}`, server.url), {
      method,
      headers: body === undefined || raw ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
}

/**
 * A request with exactly these headers (fetch cannot send a foreign Host): resolves with
 * { status, body, closed } (closed: the server closed the connection after answering).
 */
function raw(server, route, headers, body) {
  const { host, port } = new URL(server.url)
  return new Promise((resolve, reject) => {
    headers = { host, ...headers }
    const req = http.request({ host: '127.0.0.1', port, path: route, method: body === undefined ? 'GET' : 'POST', headers, agent: false, setHost: false })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => {
        let parsed
        try { parsed = JSON.parse(text) } catch { parsed = text }
        const closed = new Promise((r) => { if (req.socket.destroyed) r(true); else req.socket.once('close', () => r(true)) })
        Promise.race([closed, sleep(2000).then(() => false)]).then((c) => resolve({ status: res.statusCode, body: parsed, closed: c }))
      })
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    if (headers['transfer-encoding'] !== undefined || headers['content-length'] === undefined) req.end()
  })
}

/** Asserts an error response: the status and the { error: { code, message } } body. */
function assertError(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body))
  assert.equal(res.body.error.code, code)
  assert.equal(typeof res.body.error.message, 'string')
}

/**
 * Opens a Server-Sent Events stream. Not an event stream (an error status): { status, body }.
 * Otherwise { status, events, until(predicate), ended, close() } with events parsed ({ event, data, id }).
 */
async function openEvents(url, headers = {}) {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, body: await res.json() }
  const events = []
  const stream = { status: res.status, events, done: false, close: () => controller.abort() }
  stream.ended = (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true })
        for (let i; (i = buffer.indexOf('\n\n')) >= 0;) {
          const event = { event: 'message', data: undefined, id: undefined }
          for (const line of buffer.slice(0, i).split('\n')) {
            const [field, value] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).replace(/^ /, '')]
            if (field === 'event') event.event = value
            else if (field === 'data') event.data = JSON.parse(value)
            else if (field === 'id') event.id = value
          }
          buffer = buffer.slice(i + 2)
          if (event.data !== undefined) events.push(event)
        }
      }
    } catch (err) {
      if (err.name !== 'AbortError') throw err
    } finally {
      stream.done = true
    }
  })()
  /** The first event matching `predicate`, waiting up to `ms`. */
  stream.until = async (predicate, ms = 30000, what = 'an event') => {
    const deadline = Date.now() + ms
    for (;;) {
      const found = events.find(predicate)
      if (found) return found
      if (stream.done) throw new Error(`the stream ended without ${what}; got ${JSON.stringify(events).slice(0, 2000)}`)
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(events).slice(0, 2000)}`)
      await sleep(25)
    }
  }
  return stream
}

const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' }).split('\n').filter(Boolean)

/**
 * A registry in front of `target` (host:port) that passes everything through but holds every
 * blob download until close(): a pull through it stays in progress.
 */
async function stallingRegistry(target) {
  const [host, port] = target.split(':')
  const held = new Set()
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url)) { held.add(res); return }
    const up = http.request({ host, port, path: req.url, method: req.method, headers: { ...req.headers, host: target } }, (r) => {
      res.writeHead(r.statusCode, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    host: `127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { for (const res of held) res.destroy(); server.closeAllConnections(); server.close(r) }),
  }
}

/** axe-core's serious and critical violations on `page` (the library injected from node_modules). */
async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') })
  const results = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }))
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/** The contrast ratio of the text color against the background of every visible, enabled input. */
function inputContrasts(page) {
  return page.evaluate(() => {
    const luminance = (color) => {
      const [r, g, b] = color.match(/[\d.]+/g).slice(0, 3).map((x) => {
        const v = Number(x) / 255
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
      })
      return 0.2126 * r + 0.7152 * g + 0.0722 * b
    }
    const background = (el) => {
      for (; el; el = el.parentElement) {
        const parts = globalThis.getComputedStyle(el).backgroundColor.match(/[\d.]+/g)
        if (parts && (parts.length < 4 || Number(parts[3]) > 0.5)) return globalThis.getComputedStyle(el).backgroundColor
      }
      return 'rgb(255, 255, 255)'
    }
    return [...document.querySelectorAll('input:not([type=checkbox]), textarea, select')]
      .filter((el) => el.getClientRects().length > 0 && !el.disabled)
      .map((el) => {
        const [a, b] = [luminance(globalThis.getComputedStyle(el).color), luminance(background(el))]
        return { id: el.id, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) }
      })
  })
}

/** The text of `url`, retrying (up to ~5 s) while the server in a container starts. */
async function getText(url) {
  let last
  for (let i = 0; i < 50; i++) {
    try {
      return await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text()
    } catch (err) {
      last = err
      await sleep(100)
    }
  }
  throw last
}

/** Polls GET containers until `id`'s task is in `status`. */
async function waitForTask(api, ns, id, status) {
  const deadline = Date.now() + 30000
  for (;;) {
    const { body } = await api('GET', `/namespaces/${ns}/containers`)
    const c = body.find((x) => x.id === id)
    if ((c?.task?.status ?? null) === status) return c
    if (Date.now() > deadline) throw new Error(`${id} did not reach ${status}: ${JSON.stringify(c)}`)
    await sleep(50)
  }
}

/** Kills, deletes the tasks of and deletes every container left in `ns` (through the API). */
async function cleanNamespace(api, ns) {
  const { status, body } = await api('GET', `/namespaces/${ns}/containers`)
  if (status !== 200) return
  for (const c of body) {
    const p = `/namespaces/${ns}/containers/${c.id}`
    if (c.task && c.task.status !== 'stopped') {
      if (c.task.status === 'paused') await api('POST', `${p}/task/resume`)
      await api('POST', `${p}/task/kill`, { signal: 'SIGKILL' })
      await waitForTask(api, ns, c.id, 'stopped')
    }
    await api('DELETE', p)
  }
}

for (const [name, { createServer }] of Object.entries(SERVERS)) {
  describe(`${name} server`, () => {
    let server
    let api
    const ns = uniqueName(`web-${name}`)

    before(async () => {
      server = await createServer({ address: sb.address, registry: sb.registry, images: sb.images, logDir, allowMounts: [mountDir] })
      api = apiClient(server)
    })
    after(async () => {
      await cleanNamespace(api, ns)
      await server.close()
    })

    test('the UI and its files are served; unknown routes are JSON 404s', async () => {
      const page = await fetch(server.url)
      assert.equal(page.status, 200)
      assert.match(page.headers.get('content-type'), /text\/html/)
      assert.match(await page.text(), /<script type="module" src="app.js">/)
      for (const [file, type] of [['app.js', /javascript/], ['style.css', /text\/css/]]) {
        const res = await fetch(new URL(file, server.url))
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type'), type)
        await res.arrayBuffer()
      }
      // Only the UI's own files are served without the token.
      assert.equal((await fetch(new URL('../package.json', server.url))).status, 401)
      assert.equal((await fetch(new URL('../package.json', server.url), { headers: bearer(server) })).status, 404)
      assertError(await api('GET', '/nope'), 404, 'NOT_FOUND')
      const info = await api('GET', '/info')
      assert.equal(info.status, 200)
      assert.match(info.body.version.version, /^1\./)
      assert.deepEqual(info.body.images, Object.values(sb.images))
    })

    test('namespaces: create, list, delete; 409 for a duplicate, 400/413/415/403 for bad requests', async () => {
      const created = await api('POST', '/namespaces', { name: ns, labels: { app: 'webui' } })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const list = await api('GET', '/namespaces')
      assert.equal(list.status, 200)
      assert.deepEqual(list.body.find((n) => n.name === ns), { name: ns, labels: { app: 'webui' } })
      assertError(await api('POST', '/namespaces', { name: ns }), 409, 'ALREADY_EXISTS')
      assertError(await api('POST', '/namespaces', { name: 'not valid!' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', '/namespaces', { name: 'x', labels: { a: 1 } }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', '/namespaces', { name: 'x', colour: 'blue' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', '/namespaces', ['x']), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', '/namespaces', '{"name":', { 'content-type': 'application/json' }), 400, 'BAD_REQUEST')
      assertError(await api('POST', '/namespaces', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
      assertError(await api('POST', '/namespaces', JSON.stringify({ name: 'x'.repeat(2 << 20) }), { 'content-type': 'application/json' }), 413, 'PAYLOAD_TOO_LARGE')
      // Another web page cannot drive the API through the user's browser.
      assertError(await api('DELETE', `/namespaces/${ns}`, undefined, { origin: 'http://evil.example' }), 403, 'FORBIDDEN')
      assertError(await api('GET', '/namespaces/bad..name/containers'), 400, 'INVALID_ARGUMENT')

      const spare = uniqueName('web-spare')
      assert.equal((await api('POST', '/namespaces', { name: spare })).status, 201)
      assert.equal((await api('DELETE', `/namespaces/${spare}`)).status, 204)
      assert.ok(!(await api('GET', '/namespaces')).body.some((n) => n.name === spare))
    })

    test('images: a pull streams per-layer progress over SSE; list, delete; 401/404/503/400 for bad pulls', async () => {
      const start = await api('POST', `/namespaces/${ns}/pulls`, { ref: sb.images.busybox })
      assert.equal(start.status, 202, JSON.stringify(start.body))
      assert.equal(start.body.ref, sb.images.busybox)
      const stream = await openEvents(new URL(`api/pulls/${start.body.id}/events`, server.url), bearer(server))
      assert.equal(stream.status, 200)
      const done = await stream.until((e) => e.event !== 'progress', 30000, 'the end of the pull')
      await stream.ended // the server ends the stream after the final event
      assert.equal(done.event, 'done', JSON.stringify(done.data))
      assert.equal(done.data.name, sb.images.busybox)
      assert.equal(done.data.digest, sb.fixtures.busybox.digest)
      const progress = stream.events.filter((e) => e.event === 'progress').map((e) => e.data)
      assert.ok(progress.length >= 1)
      const last = progress.at(-1)
      assert.equal(last.phase, 'done')
      assert.equal(last.downloadedBytes, last.totalBytes)
      assert.deepEqual(last.layers.map((l) => l.digest), sb.fixtures.busybox.platforms[0].layers.map((l) => l.digest))
      assert.ok(last.layers.every((l) => l.status === 'unpacked' || l.status === 'exists'), JSON.stringify(last.layers))

      // A late subscriber still gets the outcome; unknown pulls are 404.
      const again = await openEvents(new URL(`api/pulls/${start.body.id}/events`, server.url), bearer(server))
      assert.equal((await again.until((e) => e.event === 'done')).data.name, sb.images.busybox)
      assertError(await openEvents(new URL('api/pulls/no-such-pull/events', server.url), bearer(server)), 404, 'NOT_FOUND')

      // Pull and wait, list, delete (names travel URL-encoded).
      const v2s2 = await api('POST', `/namespaces/${ns}/images`, { ref: sb.images.v2s2 })
      assert.equal(v2s2.status, 201, JSON.stringify(v2s2.body))
      const images = (await api('GET', `/namespaces/${ns}/images`)).body
      assert.deepEqual(images.map((i) => i.name).sort(), [sb.images.busybox, sb.images.v2s2].sort())
      assert.ok(images.every((i) => i.size > 0 && /^sha256:/.test(i.digest)))
      assert.equal((await api('DELETE', `/namespaces/${ns}/images/${encodeURIComponent(sb.images.v2s2)}`)).status, 204)
      assertError(await api('DELETE', `/namespaces/${ns}/images/${encodeURIComponent(sb.images.v2s2)}`), 404, 'NOT_FOUND')

      const { basic } = sb.registries
      assertError(await api('POST', `/namespaces/${ns}/images`, { ref: basic.ref }), 401, 'UNAUTHENTICATED')
      const withAuth = await api('POST', `/namespaces/${ns}/images`, { ref: basic.ref, auth: { username: basic.username, password: basic.password } })
      assert.equal(withAuth.status, 201, JSON.stringify(withAuth.body))
      assertError(await api('POST', `/namespaces/${ns}/images`, { ref: `${sb.registry}/busybox:no-such-tag` }), 404, 'NOT_FOUND')
      assertError(await api('POST', `/namespaces/${ns}/images`, { ref: `127.0.0.1:${await closedPort()}/busybox:latest` }), 503, 'UNAVAILABLE')
      assertError(await api('POST', `/namespaces/${ns}/images`, { ref: 'busy box' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/images`, { ref: 'UPPER/Case:tag' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/pulls`, { ref: sb.images.busybox, auth: 'user:pass' }), 400, 'INVALID_ARGUMENT')

      // A background pull that fails ends with an error event carrying the status.
      const failing = await api('POST', `/namespaces/${ns}/pulls`, { ref: basic.ref.replace('busybox', 'other') })
      const failed = await (await openEvents(new URL(`api/pulls/${failing.body.id}/events`, server.url), bearer(server))).until((e) => e.event === 'error')
      assert.equal(failed.data.status, 401)
      assert.equal(failed.data.error.code, 'UNAUTHENTICATED')
      // In words for the browser's user: credentials are asked for, or were rejected.
      assert.match(failed.data.error.message, /needs credentials .*Credentials/)
      const rejected = await api('POST', `/namespaces/${ns}/images`, { ref: basic.ref, auth: { username: basic.username, password: 'wrong' } })
      assertError(rejected, 401, 'UNAUTHENTICATED')
      assert.match(rejected.body.error.message, /rejected the credentials/)

      // The pulls of the namespace are listed (a reloaded page re-attaches to them); DELETE of a
      // finished one forgets it.
      const pulls = (await api('GET', `/namespaces/${ns}/pulls`)).body
      assert.deepEqual(pulls.map((p) => [p.id, p.state]), [[failing.body.id, 'error'], [start.body.id, 'done']])
      assert.equal((await api('DELETE', `/pulls/${failing.body.id}`)).status, 204)
      assert.deepEqual((await api('GET', `/namespaces/${ns}/pulls`)).body.map((p) => p.id), [start.body.id])
    })

    test('containers and tasks: create, start, logs, exec, pause, resume, kill, restart, delete; events; 404/409/400', async () => {
      const id = uniqueName('web')
      const c = `/namespaces/${ns}/containers/${id}`
      const events = await openEvents(new URL(`api/namespaces/${ns}/events`, server.url), bearer(server))
      await events.until((e) => e.event === 'ready')

      const spec = {
        id,
        image: sb.images.busybox,
        args: ['sh', '-c', 'echo "hello from $NAME"; sleep 300'],
        env: { NAME: id },
        mounts: [
          { type: 'tmpfs', source: 'tmpfs', destination: '/scratch' },
          { source: path.join(mountDir, 'data'), destination: '/data', options: ['ro'] }, // allowed (--allow-mount)
        ],
      }
      const created = await api('POST', `/namespaces/${ns}/containers`, spec)
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.equal(created.body.image, sb.images.busybox)
      assertError(await api('POST', `/namespaces/${ns}/containers`, spec), 409, 'ALREADY_EXISTS')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: 'bad id' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: uniqueName('x'), args: 'sleep 300' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: uniqueName('x'), env: ['NO_EQUALS'] }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: uniqueName('x'), mounts: [{ source: '/tmp', destination: 'relative' }] }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: uniqueName('x'), hostNetwork: 'yes' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/containers`, { ...spec, id: uniqueName('x'), image: sb.images.config }), 404, 'NOT_FOUND')

      let listed = (await api('GET', `/namespaces/${ns}/containers`)).body.find((x) => x.id === id)
      assert.deepEqual(listed.command, spec.args)
      assert.equal(listed.task, null)

      // Start: the task writes to a log file that the server follows.
      const started = await api('POST', `${c}/task/start`)
      assert.equal(started.status, 201, JSON.stringify(started.body))
      assert.ok(started.body.pid > 0)
      assertError(await api('POST', `${c}/task/start`), 409, 'FAILED_PRECONDITION')
      listed = await waitForTask(api, ns, id, 'running')
      assert.equal(listed.task.pid, started.body.pid)

      // The container was made with `log`: the stream reads the library's logs(), one record per event.
      const logs = await openEvents(new URL(`api${c}/logs`, server.url), bearer(server))
      const greeting = await logs.until((e) => e.event === 'log' && e.data.line === `hello from ${id}`, 30000, 'the log line')
      assert.equal(greeting.data.stream, 'stdout')
      assert.ok(Math.abs(Date.parse(greeting.data.time) - Date.now()) < 60000, greeting.data.time)
      assert.match(greeting.id, /^\d+\.\d+$/) // <ms>.<n>, for EventSource's Last-Event-ID
      assert.equal(logs.events[0].event, 'task') // where the task began

      const exec = await api('POST', `${c}/task/exec`, { args: ['sh', '-c', 'echo "$NAME $X"; ls -d /scratch; echo oops >&2; exit 3'], env: { X: 'y' } })
      assert.equal(exec.status, 200, JSON.stringify(exec.body))
      assert.deepEqual(exec.body, { exitCode: 3, stdout: `${id} y\n/scratch\n`, stderr: 'oops\n', truncated: false })
      // The allowed bind mount is there, read-only as asked, and both mounts are nosuid,nodev.
      const mounts = await api('POST', `${c}/task/exec`, { args: ['sh', '-c', 'cat /data/hello.txt; grep -E " /(data|scratch) " /proc/mounts'] })
      assert.equal(mounts.status, 200, JSON.stringify(mounts.body))
      const [hello, ...lines] = mounts.body.stdout.trim().split('\n')
      assert.equal(hello, 'hello from the host')
      assert.equal(lines.length, 2, mounts.body.stdout)
      for (const line of lines) {
        const flags = line.split(' ')[3].split(',')
        assert.ok(flags.includes('nosuid') && flags.includes('nodev'), line)
        if (line.includes(' /data ')) assert.ok(flags.includes('ro'), line)
      }
      assertError(await api('POST', `${c}/task/exec`, { args: [] }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `${c}/task/exec`, {}), 400, 'INVALID_ARGUMENT')

      assert.equal((await api('POST', `${c}/task/pause`)).status, 204)
      await waitForTask(api, ns, id, 'paused')
      assert.equal((await api('POST', `${c}/task/resume`)).status, 204)
      await waitForTask(api, ns, id, 'running')

      // A live task can be neither deleted nor have its container deleted.
      assertError(await api('DELETE', `${c}/task`), 409, 'FAILED_PRECONDITION')
      assertError(await api('DELETE', c), 409, 'FAILED_PRECONDITION')
      assertError(await api('POST', `${c}/task/kill`, { signal: 'not a signal!' }), 400, 'INVALID_ARGUMENT')

      assert.equal((await api('POST', `${c}/task/kill`, { signal: 'SIGKILL' })).status, 204)
      const exit = await events.until((e) => e.event === 'event' && e.data.topic === '/tasks/exit' && e.data.event.id === id)
      assert.equal(exit.data.event.exitStatus, 137)
      listed = await waitForTask(api, ns, id, 'stopped')
      assert.equal(listed.task.exitCode, 137)

      // Starting again replaces the stopped task; the log stream, still open, sees its output too,
      // after a `task` separator.
      assert.equal((await api('POST', `${c}/task/start`)).status, 201)
      const second = await logs.until((e) => e.event === 'log' && e.data.line === `hello from ${id}` && e !== greeting, 30000, 'the second log line')
      const between = logs.events.slice(logs.events.indexOf(greeting) + 1, logs.events.indexOf(second))
      assert.deepEqual(between.map((e) => e.event), ['task'], JSON.stringify(between))
      // Stop: SIGTERM (sh as PID 1 ignores it), then SIGKILL after timeoutMs.
      assertError(await api('POST', `${c}/task/stop`, { timeoutMs: -1 }), 400, 'INVALID_ARGUMENT')
      const stopped = await api('POST', `${c}/task/stop`, { timeoutMs: 300 })
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body))
      assert.deepEqual(stopped.body, { exitCode: 137, killed: true })
      await waitForTask(api, ns, id, 'stopped')
      logs.close()

      const deleted = await api('DELETE', `${c}/task`)
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body))
      assert.equal(deleted.body.exitCode, 137)
      assertError(await api('DELETE', `${c}/task`), 404, 'NOT_FOUND')
      assert.equal((await api('DELETE', c)).status, 204)
      assert.ok(!(await api('GET', `/namespaces/${ns}/containers`)).body.some((x) => x.id === id))

      const missing = `/namespaces/${ns}/containers/no-such-container`
      assertError(await api('DELETE', missing), 404, 'NOT_FOUND')
      assertError(await api('POST', `${missing}/task/start`), 404, 'NOT_FOUND')
      assertError(await api('POST', `${missing}/task/kill`), 404, 'NOT_FOUND')
      assertError(await api('POST', `${missing}/task/exec`, { args: ['true'] }), 404, 'NOT_FOUND')
      assertError(await openEvents(new URL(`api${missing}/logs`, server.url), bearer(server)), 404, 'NOT_FOUND')

      await events.until((e) => e.event === 'event' && e.data.topic === '/containers/delete' && e.data.event.id === id)
      const topics = events.events.filter((e) => e.event === 'event' && (e.data.event?.id === id || e.data.event?.containerId === id)).map((e) => e.data.topic)
      for (const topic of ['/containers/create', '/tasks/create', '/tasks/start', '/tasks/paused', '/tasks/resumed', '/tasks/exit', '/tasks/delete', '/containers/delete']) {
        assert.ok(topics.includes(topic), `${topic} missing from ${topics.join(' ')}`)
      }
      assert.ok(events.events.every((e) => e.event !== 'event' || e.data.namespace === ns))
      events.close()
    })

    test('logs outlive the server: a new server object reads the lines again, with a separator per task; deleting ends the stream', async () => {
      const id = uniqueName('web-logs')
      const c = `/namespaces/${ns}/containers/${id}`
      const args = ['sh', '-c', 'echo one; echo two >&2; echo three']
      assert.equal((await api('POST', `/namespaces/${ns}/containers`, { id, image: sb.images.busybox, args })).status, 201)
      const expected = [['stdout', 'one'], ['stderr', 'two'], ['stdout', 'three']]
      const records = (events) => events.filter((e) => e.event === 'log').map((e) => [e.data.stream, e.data.line]).sort()
      /** Runs a task to its end; the log stream (opened on `srv`) then holds `n` more lines. */
      const runOnce = async (srv) => {
        assert.equal((await apiClient(srv)('POST', `${c}/task/start`)).status, 201)
        await waitForTask(apiClient(srv), ns, id, 'stopped')
      }
      await runOnce(server)
      let logs = await openEvents(new URL(`api${c}/logs`, server.url), bearer(server))
      await logs.until(() => logs.events.filter((e) => e.event === 'log').length === 3, 30000, 'three lines')
      assert.deepEqual(records(logs.events), [...expected].sort())
      assert.equal(logs.events[0].event, 'task')
      await runOnce(server)
      await logs.until(() => logs.events.filter((e) => e.event === 'log').length === 6, 30000, 'six lines')
      logs.close()

      // The server restarts (a new server object, a new connection, a new token): the lines are
      // read again, each task's after its separator.
      await server.close()
      server = await createServer({ address: sb.address, registry: sb.registry, images: sb.images, logDir, allowMounts: [mountDir] })
      api = apiClient(server)
      logs = await openEvents(new URL(`api${c}/logs`, server.url), bearer(server))
      await logs.until(() => logs.events.filter((e) => e.event === 'log').length === 6, 30000, 'six lines after the restart')
      const kinds = logs.events.map((e) => e.event)
      assert.deepEqual(kinds, ['task', 'log', 'log', 'log', 'task', 'log', 'log', 'log'], JSON.stringify(logs.events))
      assert.deepEqual(records(logs.events.slice(1, 4)), [...expected].sort())
      assert.deepEqual(records(logs.events.slice(5)), [...expected].sort())
      const [first, second] = logs.events.filter((e) => e.event === 'task').map((e) => Date.parse(e.data.time))
      assert.ok(first < second && second <= Date.parse(logs.events[5].data.time))
      // Reconnecting with Last-Event-ID continues after that record.
      const resumed = await openEvents(new URL(`api${c}/logs`, server.url), { ...bearer(server), 'last-event-id': logs.events[2].id })
      await resumed.until(() => resumed.events.filter((e) => e.event === 'log').length === 4, 30000, 'the rest')
      assert.deepEqual(resumed.events.filter((e) => e.event === 'log').map((e) => e.id), logs.events.slice(3).filter((e) => e.event === 'log').map((e) => e.id))
      resumed.close()

      // A third task, followed live by the new server.
      await runOnce(server)
      await logs.until(() => logs.events.filter((e) => e.event === 'log').length === 9, 30000, 'nine lines')
      assert.equal(logs.events.filter((e) => e.event === 'task').length, 3)
      // Deleting the container ends the stream.
      assert.equal((await api('DELETE', c)).status, 204)
      await Promise.race([logs.ended, sleep(15000).then(() => { throw new Error('the log stream did not end') })])
    })

    test('networks: a container on bridge answers on its published 127.0.0.1 port; the list shows its IP and ports; 403/409/404/400', async () => {
      const containers = `/namespaces/${ns}/containers`
      assert.equal((await api('POST', `/namespaces/${ns}/images`, { ref: sb.images.httpd })).status, 201)
      const networks = await api('GET', '/networks')
      assert.equal(networks.status, 200, JSON.stringify(networks.body))
      const bridge = networks.body.find((n) => n.name === 'bridge')
      assert.ok(bridge, JSON.stringify(networks.body))
      // The test's containers need no name service: never the host's nameserver.
      const httpd = { image: sb.images.httpd, args: ['httpd', '-f', '-p', '80', '-h', '/var/www'], network: 'bridge', dns: ['127.0.0.1'] }
      const port = await closedPort()
      const id = uniqueName('web-httpd')
      const created = await api('POST', containers, { id, ...httpd, ports: [`127.0.0.1:${port}:80`] })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const published = [{ hostPort: port, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }]
      assert.deepEqual(created.body.network.ports, published)
      try {
        assert.equal((await api('POST', `${containers}/${id}/task/start`)).status, 201)
        assert.equal(await getText(`http://127.0.0.1:${port}/`), sb.fixtures.httpd.expect.body)
        const listed = (await waitForTask(api, ns, id, 'running')).network
        assert.equal(listed.name, 'bridge')
        assert.equal(listed.gateway, bridge.gateway)
        assert.match(listed.ip, /^\d+\.\d+\.\d+\.\d+$/)
        assert.equal(listed.ip.split('.').slice(0, 3).join('.'), bridge.gateway.split('.').slice(0, 3).join('.'))
        assert.deepEqual(listed.ports, published)
        assert.equal(created.body.network.ip, listed.ip)

        // Only 127.0.0.1 without --allow-host ('8080:80' means 0.0.0.0); a taken port is a 409.
        const other = await closedPort()
        const refused = []
        for (const ports of [[`0.0.0.0:${other}:80`], [`${other}:80`], [`127.0.0.1:${other}:80`, `0.0.0.0:${other + 1}:81`]]) {
          const rid = uniqueName('web-port')
          refused.push(rid)
          assertError(await api('POST', containers, { id: rid, ...httpd, ports }), 403, 'PERMISSION_DENIED')
        }
        const taken = uniqueName('web-taken')
        refused.push(taken)
        assertError(await api('POST', containers, { id: taken, ...httpd, ports: [`127.0.0.1:${port}:80`] }), 409, 'ALREADY_EXISTS')
        for (const [extra, status, code] of [
          [{ network: uniqueName('no-such-net') }, 404, 'NOT_FOUND'],
          [{ ports: ['abc'] }, 400, 'INVALID_ARGUMENT'],
          [{ ports: [`127.0.0.1:${other}:0`] }, 400, 'INVALID_ARGUMENT'],
          [{ ports: '127.0.0.1:80:80' }, 400, 'INVALID_ARGUMENT'],
          [{ network: 'none', ports: [`127.0.0.1:${other}:80`] }, 400, 'INVALID_ARGUMENT'],
          [{ dns: ['localhost'] }, 400, 'INVALID_ARGUMENT'],
        ]) {
          const rid = uniqueName('web-bad')
          refused.push(rid)
          assertError(await api('POST', containers, { id: rid, ...httpd, ports: [`127.0.0.1:${other}:80`], ...extra }), status, code)
        }
        const ids = (await api('GET', containers)).body.map((c) => c.id)
        assert.deepEqual(refused.filter((r) => ids.includes(r)), [], 'a refused container was created')

        // With --allow-host the address is the client's to check (no network: a 400, nothing published).
        const open = await createServer({ address: sb.address, logDir, allowHost: true })
        try {
          assertError(await apiClient(open)('POST', containers, { id: uniqueName('x'), image: sb.images.httpd, network: 'none', ports: [`0.0.0.0:${other}:80`] }), 400, 'INVALID_ARGUMENT')
        } finally {
          await open.close()
        }
      } finally {
        await api('POST', `${containers}/${id}/task/kill`, { signal: 'SIGKILL' })
        await waitForTask(api, ns, id, 'stopped')
        assert.equal((await api('DELETE', `${containers}/${id}`)).status, 204)
      }
      // Deleting the container gave its port back.
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }))
    })

    test('image lifecycle: push to the plain registry (progress over SSE), export and import an archive, commit a container', async () => {
      const images = `/namespaces/${ns}/images`
      assert.equal((await api('POST', images, { ref: sb.images.busybox })).status, 201)
      const digest = (await api('GET', images)).body.find((i) => i.name === sb.images.busybox).digest

      // Push: only to a registry the user names; progress like a pull's; the manifest is there.
      const repo = `webui-${name}/busybox`
      assertError(await api('POST', `/namespaces/${ns}/pushes`, { name: sb.images.busybox, target: 'library/busybox:x' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/pushes`, { name: sb.images.busybox }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', `/namespaces/${ns}/pushes`, { name: 'no-such-image:1', target: `${sb.registry}/${repo}:x` }), 404, 'NOT_FOUND')
      const push = await api('POST', `/namespaces/${ns}/pushes`, { name: sb.images.busybox, target: `${sb.registry}/${repo}:pushed` })
      assert.equal(push.status, 202, JSON.stringify(push.body))
      const pushStream = await openEvents(new URL(`api/pushes/${push.body.id}/events`, server.url), bearer(server))
      const pushed = await pushStream.until((e) => e.event !== 'progress', 60000, 'the end of the push')
      assert.equal(pushed.event, 'done', JSON.stringify(pushed.data))
      assert.equal(pushed.data.digest, digest)
      assert.ok(pushStream.events.some((e) => e.event === 'progress' && e.data.phase === 'done'))
      const manifest = await fetch(`http://${sb.registry}/v2/${repo}/manifests/pushed`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      })
      assert.equal(manifest.status, 200)
      assert.equal(manifest.headers.get('docker-content-digest'), digest)

      // Export → delete → import: the same image again.
      assertError(await api('GET', `/namespaces/${ns}/export?name=no-such-image:1`), 404, 'NOT_FOUND')
      const exported = await fetch(new URL(`api/namespaces/${ns}/export?name=${encodeURIComponent(sb.images.busybox)}`, server.url), { headers: bearer(server) })
      assert.equal(exported.status, 200)
      assert.match(exported.headers.get('content-disposition'), /^attachment; filename=".+\.tar"$/)
      const archive = Buffer.from(await exported.arrayBuffer())
      assert.ok(archive.length > 1024)
      assert.equal((await api('DELETE', `${images}/${encodeURIComponent(sb.images.busybox)}`)).status, 204)
      assertError(await api('POST', `/namespaces/${ns}/import`, archive.toString('latin1'), { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
      const imported = await fetch(new URL(`api/namespaces/${ns}/import`, server.url), {
        method: 'POST', headers: { ...bearer(server), 'content-type': 'application/x-tar' }, body: archive,
      })
      const importedBody = await imported.json()
      assert.equal(imported.status, 201, JSON.stringify(importedBody))
      assert.deepEqual(importedBody.map((i) => [i.name, i.digest]), [[sb.images.busybox, digest]])
      const bad = await fetch(new URL(`api/namespaces/${ns}/import`, server.url), {
        method: 'POST', headers: { ...bearer(server), 'content-type': 'application/x-tar' }, body: Buffer.alloc(4096, 1),
      })
      assert.equal(bad.status, 400, await bad.text())
      // The upload route takes more than 1 MiB, but still no more than its own limit and only with a length.
      assertError(await raw(server, `/api/namespaces/${ns}/import`, { ...bearer(server), 'content-type': 'application/x-tar', 'content-length': String(2 ** 31 + 1) }, ''), 413, 'PAYLOAD_TOO_LARGE')
      assertError(await raw(server, `/api/namespaces/${ns}/import`, { ...bearer(server), 'content-type': 'application/x-tar', 'transfer-encoding': 'chunked' }, ''), 411, 'LENGTH_REQUIRED')
      assertError(await raw(server, `/api/namespaces/${ns}/import`, { 'content-type': 'application/x-tar', 'content-length': '4' }, 'abcd'), 401, 'UNAUTHORIZED')

      // Commit a container that wrote a file: the new image is listed and has the file.
      const containers = `/namespaces/${ns}/containers`
      const id = uniqueName('web-commit')
      assert.equal((await api('POST', containers, { id, image: sb.images.busybox, args: ['sh', '-c', 'echo committed > /made-here; sleep 600'] })).status, 201)
      try {
        assert.equal((await api('POST', `${containers}/${id}/task/start`)).status, 201)
        const wrote = await api('POST', `${containers}/${id}/task/exec`, { args: ['sh', '-c', 'while [ ! -f /made-here ]; do sleep 0.05; done'] })
        assert.equal(wrote.body.exitCode, 0)
        const target = `${sb.registry}/webui-${name}/committed:1`
        assertError(await api('POST', `${containers}/${id}/commit`, { name: 'not a ref' }), 400, 'INVALID_ARGUMENT')
        const committed = await api('POST', `${containers}/${id}/commit`, { name: target, message: 'from the web UI' })
        assert.equal(committed.status, 201, JSON.stringify(committed.body))
        assert.equal(committed.body.name, target)
        assert.ok((await api('GET', images)).body.some((i) => i.name === target && i.digest === committed.body.digest))
        const check = uniqueName('web-committed')
        assert.equal((await api('POST', containers, { id: check, image: target, args: ['cat', '/made-here'] })).status, 201)
        assert.equal((await api('POST', `${containers}/${check}/task/start`)).status, 201)
        await waitForTask(api, ns, check, 'stopped')
        const c = (await api('GET', containers)).body.find((x) => x.id === check)
        assert.equal(c.task.exitCode, 0)
        assert.equal((await api('DELETE', `${containers}/${check}`)).status, 204)
      } finally {
        await api('POST', `${containers}/${id}/task/kill`, { signal: 'SIGKILL' })
        await waitForTask(api, ns, id, 'stopped')
        assert.equal((await api('DELETE', `${containers}/${id}`)).status, 204)
      }
    })

    test('services: a restart policy at create, a live memory limit into the cgroup, stats over SSE', async () => {
      const containers = `/namespaces/${ns}/containers`
      assert.equal((await api('POST', `/namespaces/${ns}/images`, { ref: sb.images.busybox })).status, 201)
      const id = uniqueName('web-svc')
      assertError(await api('POST', containers, { id, image: sb.images.busybox, restart: 'sometimes' }), 400, 'INVALID_ARGUMENT')
      assertError(await api('POST', containers, { id, image: sb.images.busybox, restart: 'on-failure' }), 400, 'INVALID_ARGUMENT')
      const created = await api('POST', containers, { id, image: sb.images.busybox, args: ['sh', '-c', 'while :; do :; done'], restart: 'unless-stopped' })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const labels = (await api('GET', containers)).body.find((c) => c.id === id).labels
      assert.ok(Object.entries(labels).some(([k, value]) => /restart/.test(k) && value === 'unless-stopped'), JSON.stringify(labels))
      try {
        assertError(await api('POST', `${containers}/${id}/task/update`, { memoryLimitBytes: 64 << 20 }), 404, 'NOT_FOUND')
        assert.equal((await api('POST', `${containers}/${id}/task/start`)).status, 201)
        assertError(await api('POST', `${containers}/${id}/task/update`, { memoryLimitBytes: -1 }), 400, 'INVALID_ARGUMENT')
        assertError(await api('POST', `${containers}/${id}/task/update`, { cpus: 1 }), 400, 'INVALID_ARGUMENT')
        const updated = await api('POST', `${containers}/${id}/task/update`, { memoryLimitBytes: 96 << 20 })
        assert.equal(updated.status, 200, JSON.stringify(updated.body))
        assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/${ns}/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(96 << 20))

        const stats = await openEvents(new URL(`api${containers}/${id}/stats`, server.url), bearer(server))
        assert.equal(stats.status, 200)
        await stats.until((e) => e.event === 'stats' && stats.events.filter((x) => x.event === 'stats').length >= 3, 15000, '3 samples')
        const samples = stats.events.filter((e) => e.event === 'stats').map((e) => e.data)
        assert.ok(samples.every((x) => x.memoryBytes > 0 && x.memoryLimitBytes === 96 << 20 && typeof x.cpuPercent === 'number'), JSON.stringify(samples))
        assert.ok(samples.at(-1).cpuPercent > 20, JSON.stringify(samples))
        // The task's exit ends the stream (unless-stopped: a kill through the API stops the restarts).
        await api('POST', `${containers}/${id}/task/kill`, { signal: 'SIGKILL' })
        await stats.ended
        await waitForTask(api, ns, id, 'stopped')
        await sleep(2500) // the test stack's restart monitor looks every second: it leaves the task stopped
        assert.equal((await api('GET', containers)).body.find((c) => c.id === id).task.status, 'stopped')
        assertError(await api('POST', `${containers}/${id}/task/update`, { memoryLimitBytes: 64 << 20 }), 409, 'FAILED_PRECONDITION')
        assertError(await openEvents(new URL(`api${containers}/no-such-container/stats`, server.url), bearer(server)), 404, 'NOT_FOUND')
      } finally {
        await cleanNamespace(api, ns)
      }
    })

    test('access: no token or a wrong one is a 401 on every route and stream; a foreign Host is a 403', async () => {
      const routes = [
        ['GET', '/info'], ['GET', '/networks'], ['GET', '/namespaces'], ['POST', '/namespaces', { name: uniqueName('web-nope') }],
        ['DELETE', `/namespaces/${ns}`], ['GET', `/namespaces/${ns}/images`], ['POST', `/namespaces/${ns}/images`, { ref: sb.images.busybox }],
        ['DELETE', `/namespaces/${ns}/images/x`], ['POST', `/namespaces/${ns}/pulls`, { ref: sb.images.busybox }],
        ['GET', '/pulls/x/events'], ['DELETE', '/pulls/x'], ['GET', `/namespaces/${ns}/pulls`], ['GET', `/namespaces/${ns}/containers`],
        ['POST', `/namespaces/${ns}/containers`, { id: 'x', image: sb.images.busybox }], ['DELETE', `/namespaces/${ns}/containers/x`],
        ['GET', `/namespaces/${ns}/containers/x/logs`], ['POST', `/namespaces/${ns}/containers/x/task/start`],
        ['POST', `/namespaces/${ns}/containers/x/task/kill`], ['POST', `/namespaces/${ns}/containers/x/task/stop`], ['POST', `/namespaces/${ns}/containers/x/task/pause`],
        ['POST', `/namespaces/${ns}/containers/x/task/resume`], ['POST', `/namespaces/${ns}/containers/x/task/exec`, { args: ['id'] }],
        ['DELETE', `/namespaces/${ns}/containers/x/task`], ['GET', `/namespaces/${ns}/events`], ['GET', '/nope'],
      ]
      const wrongs = [
        {}, // no credential at all
        { authorization: 'Bearer wrong' },
        { authorization: `Bearer ${server.token}x` },
        { authorization: `Basic ${Buffer.from(`user:${server.token}`).toString('base64')}` },
        { cookie: `containerd_napi_token_${new URL(server.url).port}=wrong` },
      ]
      for (const [method, route, body] of routes) {
        for (const headers of wrongs) {
          const res = await api(method, route, body, { authorization: '', ...headers, accept: 'text/event-stream' })
          assertError(res, 401, 'UNAUTHORIZED')
        }
      }
      // Nothing happened meanwhile.
      const names = (await api('GET', '/namespaces')).body.map((n) => n.name)
      assert.ok(!names.some((n) => n.startsWith('web-nope')), names.join(' '))

      // The login address sets an HttpOnly SameSite=Strict cookie and drops the token from the URL;
      // the cookie then works like the header (EventSource sends it).
      const login = await fetch(server.loginUrl, { redirect: 'manual' })
      assert.equal(login.status, 303)
      assert.equal(login.headers.get('location'), '/')
      const cookie = login.headers.get('set-cookie')
      assert.match(cookie, /; HttpOnly/)
      assert.match(cookie, /; SameSite=Strict/)
      const withCookie = { authorization: '', cookie: cookie.split(';')[0] }
      assert.equal((await api('GET', '/info', undefined, withCookie)).status, 200)
      const stream = await openEvents(new URL(`api/namespaces/${ns}/events`, server.url), withCookie)
      await stream.until((e) => e.event === 'ready')
      stream.close()
      assert.equal((await fetch(`${server.url}?token=wrong`, { redirect: 'manual' })).status, 401)

      // Host: the address the server listens on (and localhost), nothing else (DNS rebinding).
      const port = new URL(server.url).port
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        assert.equal((await raw(server, '/api/info', { host, ...bearer(server) })).status, 200, host)
      }
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, '127.0.0.1', '']) {
        const res = await raw(server, '/api/info', { host, ...bearer(server) })
        assert.equal(res.status, 403, host)
        assert.equal(res.body.error.code, 'FORBIDDEN')
        assert.equal((await raw(server, '/', { host })).status, 403, host)
      }
      // The UI's own files need no token (they hold no data).
      assert.equal((await fetch(new URL('app.js', server.url))).status, 200)
    })

    test('request bodies: over 1 MiB is a 413 and the connection closes; no Content-Length is a 411', async () => {
      const big = await raw(server, '/api/namespaces', { ...bearer(server), 'content-type': 'application/json', 'content-length': String(64 << 20) }, 'x'.repeat(1000))
      assert.equal(big.status, 413)
      assert.equal(big.body.error.code, 'PAYLOAD_TOO_LARGE')
      assert.ok(big.closed, 'the connection is closed')
      const chunked = await raw(server, '/api/namespaces', { ...bearer(server), 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '{}')
      assert.equal(chunked.status, 411)
    })

    test('event streams are bounded: past 64 open ones, a 429 until one closes', async () => {
      const streams = []
      try {
        for (let i = 0; i < 64; i++) streams.push(await openEvents(new URL(`api/namespaces/${ns}/events`, server.url), bearer(server)))
        await Promise.all(streams.map((s) => s.until((e) => e.event === 'ready')))
        assertError(await openEvents(new URL(`api/namespaces/${ns}/events`, server.url), bearer(server)), 429, 'RESOURCE_EXHAUSTED')
        streams.pop().close()
        for (let i = 0; ; i++) { // the server sees the close a moment later
          const again = await openEvents(new URL(`api/namespaces/${ns}/events`, server.url), bearer(server))
          if (again.status === 200) { streams.push(again); break }
          assert.ok(i < 100, 'a closed stream is never given back')
          await sleep(20)
        }
      } finally {
        for (const s of streams) s.close()
      }
    })

    test('containers get nothing of the host unless the server allows it (403)', async () => {
      const create = (extra) => api('POST', `/namespaces/${ns}/containers`, { id: uniqueName('policy'), image: sb.images.busybox, ...extra })
      for (const mounts of [
        [{ source: '/', destination: '/host' }],
        [{ source: '/etc', destination: '/host', options: ['ro'] }],
        [{ source: path.join(mountDir, '..'), destination: '/host' }],
        [{ source: `${mountDir}/data/../..`, destination: '/host' }],
        [{ source: path.join(mountDir, 'etc-link'), destination: '/host' }], // a symlink pointing out
        [{ source: path.join(mountDir, 'data'), destination: '/data', options: ['suid'] }],
        [{ type: 'overlay', source: 'overlay', destination: '/host', options: ['lowerdir=/'] }],
        [{ type: 'proc', source: 'proc', destination: '/hostproc' }],
      ]) {
        assertError(await create({ mounts }), 403, 'PERMISSION_DENIED')
      }
      for (const extra of [{ privileged: true }, { hostNetwork: true }, { network: 'host' }, { capabilities: { add: ['SYS_ADMIN'] } }]) {
        assertError(await create(extra), 403, 'PERMISSION_DENIED')
      }
      assertError(await create({ network: 'no such network' }), 400, 'INVALID_ARGUMENT')
      assertError(await create({ mounts: [{ source: path.join(mountDir, 'missing'), destination: '/m' }] }), 400, 'INVALID_ARGUMENT')
      // Allowed without --allow-host: a mount under the allowed directory, dropping capabilities.
      const allowed = await create({ mounts: [{ source: path.join(mountDir, 'data'), destination: '/data' }], capabilities: { drop: ['NET_RAW'] } })
      assert.equal(allowed.status, 201, JSON.stringify(allowed.body))
      const listed = (await api('GET', `/namespaces/${ns}/containers`)).body.map((c) => c.id)
      assert.ok(!listed.some((id) => id.startsWith('policy-') && id !== allowed.body.id), 'a refused container was created')

      // A server started with --allow-host allows them (its own bind mount rules unchanged).
      const open = await createServer({ address: sb.address, logDir, allowHost: true })
      try {
        const openApi = apiClient(open)
        const id = uniqueName('hostnet')
        const created = await openApi('POST', `/namespaces/${ns}/containers`, { id, image: sb.images.busybox, network: 'host', capabilities: { add: ['NET_ADMIN'] } })
        assert.equal(created.status, 201, JSON.stringify(created.body))
        assertError(await openApi('POST', `/namespaces/${ns}/containers`, { id: uniqueName('x'), image: sb.images.busybox, mounts: [{ source: '/', destination: '/host' }] }), 403, 'PERMISSION_DENIED')
      } finally {
        await open.close()
      }
    })

    test('503 with a JSON body when containerd is unreachable', async () => {
      const down = await createServer({ address: `tcp://127.0.0.1:${await closedPort()}`, logDir })
      try {
        const downApi = apiClient(down)
        assertError(await downApi('GET', '/namespaces'), 503, 'UNAVAILABLE')
        assertError(await downApi('GET', '/namespaces/default/containers'), 503, 'UNAVAILABLE')
        assertError(await openEvents(new URL('api/namespaces/default/events', down.url), bearer(down)), 503, 'UNAVAILABLE')
      } finally {
        await down.close()
      }
    })
  })
}

test('browser: pull with a progress bar to 100%, create and start a container, see its log, kill it, delete it; a published port as a link; ' +
  'readable and accessible at 1440 and 800 px; focus kept across a refresh; a pull re-attached after a reload and cancelled; a namespace deleted from the menu', async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`)
  const { chromium } = require('playwright-core')
  const server = await SERVERS.koa.createServer({ address: sb.address, registry: sb.registry, images: sb.images, logDir })
  const api = apiClient(server)
  const ns = uniqueName('web-ui')
  const id = uniqueName('hello')
  const web = uniqueName('web')
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
    page.setDefaultTimeout(30000)
    const pageErrors = []
    page.on('pageerror', (err) => pageErrors.push(err))
    page.on('dialog', (dialog) => dialog.accept()) // "Delete container …?"
    // The address the server prints: the token becomes a cookie, and the URL loses it.
    await page.goto(server.loginUrl)
    assert.equal(`${new URL(page.url()).origin}/`, server.url)
    assert.equal(new URL(page.url()).searchParams.has('token'), false)
    await page.waitForSelector('#live.on') // the event feed is connected

    // Typed text is readable in every input (WCAG AA: 4.5:1), the header's too.
    await page.fill('#namespace-name', 'typed text')
    for (const { id: input, ratio } of await inputContrasts(page)) assert.ok(ratio >= 4.5, `#${input}: contrast ${ratio.toFixed(2)}:1`)

    // A namespace of its own, through the switcher's form.
    await page.fill('#namespace-name', ns)
    await page.click('#namespace-form button')
    await page.waitForFunction((name) => document.querySelector('#namespace').value === name, ns)
    await page.waitForSelector('#live.on')

    // Pull: the overall bar and the layer bar reach 100%.
    await page.fill('#pull-ref', sb.images.busybox)
    await page.click('#pull-form button[type=submit]')
    const pull = page.locator(`.pull[data-ref="${sb.images.busybox}"]`)
    await pull.locator('.bar.total[aria-valuenow="100"]').waitFor()
    assert.equal(await pull.locator('.pull-percent').textContent(), '100%')
    assert.equal(await pull.locator('.layer-bar').count(), 1)
    assert.equal(await pull.locator('.layer-bar').getAttribute('aria-valuenow'), '100')
    await page.locator(`#images tbody tr[data-key="${sb.images.busybox}"]`).waitFor()
    // A multi-arch pull says which platform it chose.
    await page.fill('#pull-ref', sb.images.multiarch)
    await page.click('#pull-form button[type=submit]')
    await page.locator(`.pull[data-ref="${sb.images.multiarch}"][data-state="done"]`).waitFor()
    assert.match(await page.locator(`.pull[data-ref="${sb.images.multiarch}"] .pull-status`).textContent(), /linux\/amd64/)

    // Create and start a container; its log line appears in the log pane.
    await page.fill('#create-id', id)
    await page.fill('#create-image', sb.images.busybox)
    await page.fill('#create-args', 'sh -c "echo hello from the browser; sleep 300"')
    await page.selectOption('#create-restart', 'unless-stopped')
    await page.click('#create-form button[type=submit]')
    const row = page.locator(`#containers tr[data-id="${id}"]`)
    await row.waitFor()
    const made = (await api('GET', `/namespaces/${ns}/containers`)).body.find((c) => c.id === id)
    assert.ok(Object.entries(made.labels).some(([k, value]) => /restart/.test(k) && value === 'unless-stopped'), JSON.stringify(made.labels))
    await row.locator('button[data-action=start]').click()
    await page.locator(`#containers tr[data-id="${id}"][data-state="running"]`).waitFor()
    await page.waitForFunction(() => document.querySelector('#log').textContent.includes('hello from the browser'))
    await page.locator('#events .event', { hasText: '/tasks/start' }).waitFor()
    assert.equal(new URL(page.url()).searchParams.get('log'), id) // the shown log is in the address
    // The shown container's stats (sparklines) and its memory limit editor.
    await page.waitForFunction(() => /%$/.test(document.querySelector('#cpu-value').textContent))
    await page.fill('#memory-mib', '48')
    await page.click('#memory-form button[type=submit]')
    await page.waitForFunction(() => /of 48(\.0)? MiB/.test(document.querySelector('#mem-value').textContent), null, { timeout: 10000 })
    assert.equal(fs.readFileSync(`/sys/fs/cgroup/memory/${ns}/${id}/memory.limit_in_bytes`, 'utf8').trim(), String(48 << 20))
    assert.equal(new URL(page.url()).searchParams.get('ns'), ns)

    // Focus stays on a row's button across a refresh (the rows are updated in place): a container
    // made meanwhile (through the API) makes the table redraw.
    await row.locator('button[data-action=logs]').focus()
    await page.evaluate(() => { globalThis.focusedBefore = document.activeElement })
    const other = uniqueName('other')
    assert.equal((await api('POST', `/namespaces/${ns}/containers`, { id: other, image: sb.images.busybox })).status, 201)
    await page.locator(`#containers tr[data-id="${other}"]`).waitFor()
    assert.ok(await page.evaluate(() => document.activeElement === globalThis.focusedBefore && globalThis.focusedBefore.isConnected), 'the focus was lost')
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), `Logs of ${id}`)
    // After a reload the log pane shows the same container again.
    await page.reload()
    await page.waitForFunction(() => document.querySelector('#log').textContent.includes('hello from the browser'))
    assert.match(await page.locator('#log .log-separator').first().textContent(), /task started/)
    await page.locator('#events .event', { hasText: '/tasks/start' }).waitFor() // the feed is kept for the tab

    // Kill it: the row shows it stopped (exit 137), the feed shows the exit.
    await page.locator(`#containers tr[data-id="${id}"] button[data-action=kill]`).click()
    await page.locator(`#containers tr[data-id="${id}"][data-state="stopped"]`).waitFor()
    assert.match(await page.locator(`#containers tr[data-id="${id}"] .state`).textContent(), /exited \(137\)/)
    await page.locator('#events .event', { hasText: '/tasks/exit' }).waitFor()

    // A web server on the bridge network with a port published on 127.0.0.1: the row shows its IP
    // and the port as a link, which serves the page.
    assert.equal((await api('POST', `/namespaces/${ns}/images`, { ref: sb.images.httpd })).status, 201)
    const port = await closedPort()
    await page.fill('#create-id', web)
    await page.fill('#create-image', sb.images.httpd)
    await page.fill('#create-args', 'httpd -f -p 80 -h /var/www')
    assert.ok(await page.locator('#create-ports').isDisabled(), 'no ports without a network')
    await page.selectOption('#create-network', 'bridge')
    await page.fill('#create-ports', `127.0.0.1:${port}:80`)
    await page.click('#create-form button[type=submit]')
    const webRow = page.locator(`#containers tr[data-id="${web}"]`)
    await webRow.waitFor()
    await webRow.locator('button[data-action=start]').click()
    await page.locator(`#containers tr[data-id="${web}"][data-state="running"]`).waitFor()
    const link = webRow.locator(`a[href="http://127.0.0.1:${port}/"]`)
    assert.equal(await link.textContent(), `${port} → 80`)
    const { network } = (await api('GET', `/namespaces/${ns}/containers`)).body.find((c) => c.id === web)
    assert.match(await webRow.locator('.net .ip').textContent(), new RegExp(`^${network.ip.replaceAll('.', '\\.')} bridge$`))
    assert.equal(await getText(await link.getAttribute('href')), sb.fixtures.httpd.expect.body)
    // A create error is shown next to the form, on the field it is about.
    await page.fill('#create-id', web)
    await page.fill('#create-image', sb.images.httpd)
    await page.click('#create-form button[type=submit]')
    await page.locator('#create-error:not([hidden])').waitFor()
    assert.match(await page.locator('#create-error').textContent(), /409 ALREADY_EXISTS/)
    assert.equal(await page.locator('#create-id').getAttribute('aria-invalid'), 'true')
    assert.equal(await page.locator('#create-network').inputValue(), 'none') // the last container's options were not kept

    fs.mkdirSync(OUTPUT, { recursive: true })
    assert.deepEqual(await axeViolations(page), [], 'axe at 1440 px')
    await page.screenshot({ path: path.join(OUTPUT, 'webui.png'), fullPage: true })
    await page.screenshot({ path: path.join(OUTPUT, 'webui-1440.png'), fullPage: false })
    // 800 px: nothing wider than the window, still accessible.
    await page.setViewportSize({ width: 800, height: 1000 })
    await page.waitForTimeout(200)
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
    assert.ok(widths.scroll <= widths.client, `horizontal overflow at 800 px: ${JSON.stringify(widths)}`)
    assert.ok(await page.locator(`#images tr[data-key="${sb.images.busybox}"] button[data-action=delete]`).isVisible())
    assert.ok(await page.locator('#live').isVisible())
    assert.deepEqual(await axeViolations(page), [], 'axe at 800 px')
    await page.screenshot({ path: path.join(OUTPUT, 'webui-800.png'), fullPage: true })
    await page.setViewportSize({ width: 1440, height: 1000 })

    // Delete it (the confirm dialog is accepted): the row goes, and so does the container.
    await page.locator(`#containers tr[data-id="${id}"] button[data-action=delete]`).click()
    await row.waitFor({ state: 'detached' })
    assert.deepEqual((await api('GET', `/namespaces/${ns}/containers`)).body.map((c) => c.id).sort(), [other, web].sort())

    // A pull that stays in progress; the page reloads: the pull is shown again, and Cancel ends it
    // cancelled, leaving no image and no lease.
    const stall = await stallingRegistry(sb.registry)
    try {
      // An image this daemon has no blob of yet (present blobs are not downloaded again).
      const ref = sb.images.multilayer.replace(sb.registry, stall.host)
      await page.fill('#pull-ref', ref)
      await page.click('#pull-form button[type=submit]')
      await page.locator(`.pull[data-ref="${ref}"][data-state="running"]`).waitFor()
      await page.reload()
      const card = page.locator(`.pull[data-ref="${ref}"]`)
      await page.locator(`.pull[data-ref="${ref}"][data-state="running"]`).waitFor()
      await card.getByRole('button', { name: `Cancel the pull of ${ref}` }).click()
      await page.locator(`.pull[data-ref="${ref}"][data-state="cancelled"]`).waitFor()
      assert.ok(!(await api('GET', `/namespaces/${ns}/images`)).body.some((i) => i.name === ref))
      assert.deepEqual(ctr(ns, 'leases', 'ls', '-q'), [])
      assert.ok(!ctr(ns, 'images', 'ls', '-q').includes(ref))
      await page.screenshot({ path: path.join(OUTPUT, 'webui-cancelled.png') })
      await card.getByRole('button', { name: `Dismiss the pull of ${ref}` }).click()
      await card.waitFor({ state: 'detached' })
    } finally {
      await stall.close()
    }

    // A namespace made from the menu, given an image: deleting it is refused with the reason;
    // emptied, it is deleted from the menu and is gone from it (after a reload too).
    const spare = uniqueName('web-spare')
    await page.fill('#namespace-name', spare)
    await page.click('#namespace-form button')
    await page.waitForFunction((name) => document.querySelector('#namespace').value === name, spare)
    assert.equal((await api('POST', `/namespaces/${spare}/images`, { ref: sb.images.busybox })).status, 201)
    await page.click('#namespace-delete')
    await page.locator('#namespace-error:not([hidden])').waitFor()
    assert.match(await page.locator('#namespace-error').textContent(), new RegExp(`namespace ${spare} was not deleted: 409 FAILED_PRECONDITION: .*must be empty`))
    await page.reload()
    await page.locator(`#images tr[data-key="${sb.images.busybox}"]`).waitFor()
    await page.locator(`#images tr[data-key="${sb.images.busybox}"] button[data-action=delete]`).click()
    await page.locator(`#images tr[data-key="${sb.images.busybox}"]`).waitFor({ state: 'detached' })
    for (let i = 0; ; i++) { // what the image held goes with containerd's garbage collection, a moment later
      const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/api/namespaces/${spare}`))
      await page.click('#namespace-delete')
      if ((await deleted).status() === 204) break
      await page.locator('#namespace-error:not([hidden])').waitFor()
      assert.ok(i < 40, await page.locator('#namespace-error').textContent())
      await page.waitForTimeout(250)
    }
    await page.waitForFunction(() => document.querySelector('#namespace').value === 'default')
    assert.equal(await page.locator(`#namespace option[value="${spare}"]`).count(), 0)
    await page.goto(`${server.url}?ns=${spare}`)
    await page.waitForSelector('#live.on')
    assert.equal(await page.locator('#namespace').inputValue(), 'default')
    assert.equal(await page.locator(`#namespace option[value="${spare}"]`).count(), 0)
    assert.deepEqual(pageErrors, [])
  } finally {
    await browser.close()
    await cleanNamespace(api, ns)
    await server.close()
  }
})
