'use strict'
// The web UI examples (examples/koa-api, examples/express-api over examples/web): every route of
// both servers against the real daemon, including each error status, then the UI itself in a
// headless Chromium (playwright-core driving Debian's /usr/bin/chromium).

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
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
after(() => fs.rmSync(logDir, { recursive: true, force: true }))

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A JSON client for `base`: resolves with { status, body } (body parsed, undefined if empty). */
function apiClient(base) {
  return async (method, route, body, headers = {}) => {
    const raw = typeof body === 'string'
    const res = await fetch(new URL(`api${route}`, base), {
      method,
      headers: body === undefined || raw ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
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
      server = await createServer({ address: sb.address, registry: sb.registry, images: sb.images, logDir })
      api = apiClient(server.url)
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
      assert.equal((await fetch(new URL('../package.json', server.url))).status, 404)
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
      const stream = await openEvents(new URL(`api/pulls/${start.body.id}/events`, server.url))
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
      const again = await openEvents(new URL(`api/pulls/${start.body.id}/events`, server.url))
      assert.equal((await again.until((e) => e.event === 'done')).data.name, sb.images.busybox)
      assertError(await openEvents(new URL('api/pulls/no-such-pull/events', server.url)), 404, 'NOT_FOUND')

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
      const failed = await (await openEvents(new URL(`api/pulls/${failing.body.id}/events`, server.url))).until((e) => e.event === 'error')
      assert.equal(failed.data.status, 401)
      assert.equal(failed.data.error.code, 'UNAUTHENTICATED')
    })

    test('containers and tasks: create, start, logs, exec, pause, resume, kill, restart, delete; events; 404/409/400', async () => {
      const id = uniqueName('web')
      const c = `/namespaces/${ns}/containers/${id}`
      const events = await openEvents(new URL(`api/namespaces/${ns}/events`, server.url))
      await events.until((e) => e.event === 'ready')

      const spec = {
        id,
        image: sb.images.busybox,
        args: ['sh', '-c', 'echo "hello from $NAME"; sleep 300'],
        env: { NAME: id },
        hostNetwork: true,
        mounts: [{ type: 'tmpfs', source: 'tmpfs', destination: '/scratch' }],
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

      const logs = await openEvents(new URL(`api${c}/logs`, server.url))
      await logs.until((e) => e.event === 'log' && e.data.includes(`hello from ${id}\n`), 30000, 'the log line')
      assert.match(logs.events[0].id, /^\d+$/) // the file offset, for EventSource's Last-Event-ID

      const exec = await api('POST', `${c}/task/exec`, { args: ['sh', '-c', 'echo "$NAME $X"; ls -d /scratch; echo oops >&2; exit 3'], env: { X: 'y' } })
      assert.equal(exec.status, 200, JSON.stringify(exec.body))
      assert.deepEqual(exec.body, { exitCode: 3, stdout: `${id} y\n/scratch\n`, stderr: 'oops\n', truncated: false })
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

      // Starting again replaces the stopped task; the log stream, still open, sees its output too.
      assert.equal((await api('POST', `${c}/task/start`)).status, 201)
      await logs.until((e) => e.event === 'log' && e.data.includes(`hello from ${id}\n`) && e !== logs.events.find((x) => x.data.includes('hello')), 30000, 'the second log line')
      await api('POST', `${c}/task/kill`, { signal: 'SIGKILL' })
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
      assertError(await openEvents(new URL(`api${missing}/logs`, server.url)), 404, 'NOT_FOUND')

      await events.until((e) => e.event === 'event' && e.data.topic === '/containers/delete' && e.data.event.id === id)
      const topics = events.events.filter((e) => e.event === 'event' && (e.data.event?.id === id || e.data.event?.containerId === id)).map((e) => e.data.topic)
      for (const topic of ['/containers/create', '/tasks/create', '/tasks/start', '/tasks/paused', '/tasks/resumed', '/tasks/exit', '/tasks/delete', '/containers/delete']) {
        assert.ok(topics.includes(topic), `${topic} missing from ${topics.join(' ')}`)
      }
      assert.ok(events.events.every((e) => e.event !== 'event' || e.data.namespace === ns))
      events.close()
    })

    test('503 with a JSON body when containerd is unreachable', async () => {
      const down = await createServer({ address: `tcp://127.0.0.1:${await closedPort()}`, logDir })
      try {
        const downApi = apiClient(down.url)
        assertError(await downApi('GET', '/namespaces'), 503, 'UNAVAILABLE')
        assertError(await downApi('GET', '/namespaces/default/containers'), 503, 'UNAVAILABLE')
        assertError(await openEvents(new URL('api/namespaces/default/events', down.url)), 503, 'UNAVAILABLE')
      } finally {
        await down.close()
      }
    })
  })
}

test('browser: pull with a progress bar to 100%, create and start a container, see its log, kill it, delete it', async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`)
  const { chromium } = require('playwright-core')
  const server = await SERVERS.koa.createServer({ address: sb.address, registry: sb.registry, images: sb.images, logDir })
  const api = apiClient(server.url)
  const ns = uniqueName('web-ui')
  const id = uniqueName('hello')
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
    await page.goto(server.url)
    await page.waitForSelector('#live.on') // the event feed is connected

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
    await page.locator('#images tbody tr', { hasText: sb.images.busybox }).waitFor()

    // Create and start a container; its log line appears in the log pane.
    await page.fill('#create-id', id)
    await page.fill('#create-image', sb.images.busybox)
    await page.fill('#create-args', 'sh -c "echo hello from the browser; sleep 300"')
    await page.click('#create-form button[type=submit]')
    const row = page.locator(`#containers tr[data-id="${id}"]`)
    await row.waitFor()
    await row.locator('button[data-action=start]').click()
    await page.locator(`#containers tr[data-id="${id}"][data-state="running"]`).waitFor()
    await page.waitForFunction(() => document.querySelector('#log').textContent.includes('hello from the browser'))
    await page.locator('#events .event', { hasText: '/tasks/start' }).waitFor()

    // Kill it: the row shows it stopped (exit 137), the feed shows the exit.
    await page.locator(`#containers tr[data-id="${id}"] button[data-action=kill]`).click()
    await page.locator(`#containers tr[data-id="${id}"][data-state="stopped"]`).waitFor()
    assert.match(await page.locator(`#containers tr[data-id="${id}"] .state`).textContent(), /exited \(137\)/)
    await page.locator('#events .event', { hasText: '/tasks/exit' }).waitFor()
    fs.mkdirSync(OUTPUT, { recursive: true })
    await page.screenshot({ path: path.join(OUTPUT, 'webui.png'), fullPage: true })

    // Delete it (the confirm dialog is accepted): the row goes, and so does the container.
    await page.locator(`#containers tr[data-id="${id}"] button[data-action=delete]`).click()
    await row.waitFor({ state: 'detached' })
    assert.deepEqual((await api('GET', `/namespaces/${ns}/containers`)).body, [])
    assert.deepEqual(pageErrors, [])
  } finally {
    await browser.close()
    await cleanNamespace(api, ns)
    await server.close()
  }
})
