// The web UI: plain DOM, one module, no build step. Every value from the server is put into the
// page as text (textContent), never as HTML.

const $ = (selector) => document.querySelector(selector)

/** h('div', { class: 'x', onclick }, 'text', child…) */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c))
  return el
}

/**
 * Updates `parent`'s children in place to look like `wanted` (attributes, text, children), so that
 * focus and scroll stay on what did not change: a list redraw does not take the focus from a row's
 * button. Children with a data-key are matched by key, the others by position among the unkeyed.
 */
function morphChildren(parent, wanted) {
  const old = [...parent.childNodes]
  const byKey = new Map(old.filter((n) => n.dataset?.key !== undefined).map((n) => [n.dataset.key, n]))
  const unkeyed = old.filter((n) => n.dataset?.key === undefined)
  let u = 0
  const next = wanted.map((w) => {
    const key = w.dataset?.key
    const match = key !== undefined ? byKey.get(key) : unkeyed[u++]
    if (match === undefined || match.nodeType !== w.nodeType || match.nodeName !== w.nodeName) return w
    if (key !== undefined) byKey.delete(key)
    else unkeyed[u - 1] = undefined
    if (match.isEqualNode(w)) return match
    if (match.nodeType !== Node.ELEMENT_NODE) { match.textContent = w.textContent; return match }
    for (const { name } of [...match.attributes]) if (!w.hasAttribute(name)) match.removeAttribute(name)
    for (const { name, value } of w.attributes) if (match.getAttribute(name) !== value) match.setAttribute(name, value)
    morphChildren(match, [...w.childNodes])
    return match
  })
  const keep = new Set(next)
  for (const n of old) if (!keep.has(n)) n.remove()
  // Move only what is out of place (moving a node takes the focus from it).
  next.forEach((n, i) => { if (parent.childNodes[i] !== n) parent.insertBefore(n, parent.childNodes[i] ?? null) })
}

const params = new URLSearchParams(location.search)
const state = {
  // The namespace and the container whose log is shown live in the URL (a reload keeps them).
  namespace: params.get('ns') || 'default',
  images: [],
  containers: [],
  logFor: params.get('log') || null, // container id whose log is shown
  logSource: null,
  statsSource: null, // the shown container's stats stream
  eventSource: null,
  pulls: new Map(), // pull id → its card
}

/** Writes the namespace and the shown log into the address (no history entry). */
function saveLocation() {
  const url = new URL(location.href)
  url.searchParams.set('ns', state.namespace)
  if (state.logFor) url.searchParams.set('log', state.logFor)
  else url.searchParams.delete('log')
  history.replaceState(null, '', url)
}

// ---------- helpers ----------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function api(method, path, body) {
  const res = await fetch(`/api${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'HTTP_' + res.status, data?.error?.message ?? res.statusText)
  return data
}

const nsPath = (rest = '') => `/namespaces/${encodeURIComponent(state.namespace)}${rest}`

function toast(message, kind = 'info') {
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message)
  $('#toasts').append(el)
  setTimeout(() => { el.classList.add('leaving'); setTimeout(() => el.remove(), 300) }, kind === 'error' ? 8000 : 3500)
}

function fail(err) {
  toast(describeError(err), 'error')
}

const describeError = (err) => `${err instanceof ApiError ? `${err.status} ${err.code}: ` : ''}${err.message}`

/** Shows `err` in the inline error element `el` (next to what failed); null clears it. */
function showError(el, err, prefix = '') {
  el.hidden = !err
  el.textContent = err ? `${prefix}${describeError(err)}` : ''
}

/**
 * Runs `fn` with `button` disabled. An error goes to `errorEl` (the one place for that action's
 * errors, next to it), else a toast; a success clears `errorEl`.
 */
async function busy(button, fn, errorEl = null, prefix = '') {
  if (button) button.disabled = true
  try {
    const result = await fn()
    if (errorEl) showError(errorEl, null)
    return result
  } catch (err) {
    if (errorEl) showError(errorEl, err, prefix)
    else fail(err)
  } finally {
    if (button) button.disabled = false
  }
}

function bytes(n) {
  if (n === null || n === undefined) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i === 0 || n >= 100 ? 0 : 1)} ${units[i]}`
}

function ago(date) {
  const s = Math.round((Date.now() - new Date(date)) / 1000)
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return new Date(date).toLocaleDateString()
}

const shortDigest = (d) => (d || '').replace(/^sha256:/, '').slice(0, 12)

/** A command line → argv, with '…' and "…" quoting and \ escapes. Never run through a shell. */
function splitCommand(text) {
  const args = []
  let current = ''
  let quote = null
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote) {
      if (ch === quote) quote = null
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i]
      else current += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i]
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) args.push(current)
      current = ''
      inWord = false
    } else {
      current += ch
      inWord = true
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in the command`)
  if (inWord) args.push(current)
  return args
}

/** argv → a readable command line (for display only). */
const showCommand = (args) => (args || []).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean)

/** 'src:dst[:opt,opt]' or 'tmpfs:dst' per line. */
function parseMounts(text) {
  return lines(text).map((line) => {
    const [source, destination, options] = line.split(':')
    if (!source || !destination) throw new Error(`a mount is SOURCE:DESTINATION[:OPTIONS], got "${line}"`)
    const mount = { source, destination }
    if (source === 'tmpfs') mount.type = 'tmpfs'
    if (options) mount.options = options.split(',')
    return mount
  })
}

/** '127.0.0.1:8080:80, 8443:443' → ['127.0.0.1:8080:80', '8443:443'] */
const parsePorts = (text) => text.split(',').map((p) => p.trim()).filter(Boolean)

// ---------- namespaces ----------

async function loadNamespaces() {
  // 'default' is always offered (containerd makes it on first use); a namespace from the address
  // that is gone (deleted meanwhile) is not offered again.
  const names = [...new Set(['default', ...(await api('GET', '/namespaces')).map((n) => n.name)])].sort()
  if (!names.includes(state.namespace)) state.namespace = 'default'
  morphChildren($('#namespace'), names.map((n) => h('option', { value: n, dataset: { key: n } }, n)))
  $('#namespace').value = state.namespace
}

let shownNamespace = null // the namespace whose images, containers and events are on the page

function setNamespace(name, { keepLog = false } = {}) {
  const changed = name !== shownNamespace
  shownNamespace = name
  state.namespace = name
  $('#namespace').value = name
  $('#namespace-delete').setAttribute('aria-label', `Delete namespace ${name}`)
  showError($('#namespace-error'), null)
  if (!keepLog) state.logFor = null
  showLog(state.logFor)
  if (changed && keepLog === false) {
    // The create form's image was one of the other namespace's.
    $('#create-image').value = ''
    showError($('#create-error'), null)
  }
  $('#events').replaceChildren()
  restoreEvents()
  updateEventsEmpty()
  connectEvents()
  refreshImages()
  refreshContainers()
  loadPulls()
}

$('#namespace').addEventListener('change', (e) => setNamespace(e.target.value))

$('#namespace-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const input = $('#namespace-name')
  const name = input.value.trim()
  busy(e.submitter, async () => {
    await api('POST', '/namespaces', { name })
    toast(`namespace ${name} created`, 'ok')
    input.value = ''
    state.namespace = name
    await loadNamespaces()
    setNamespace(name)
  }, $('#namespace-error'))
})

// Deleting a namespace that still holds something is refused by containerd (409): its reason is
// shown next to the menu.
$('#namespace-delete').addEventListener('click', (e) => {
  const name = state.namespace
  if (!confirm(`Delete namespace ${name}? (Only an empty namespace can be deleted.)`)) return
  busy(e.currentTarget, async () => {
    await api('DELETE', `/namespaces/${encodeURIComponent(name)}`)
    toast(`namespace ${name} deleted`, 'ok')
    state.namespace = 'default'
    await loadNamespaces()
    setNamespace(state.namespace)
  }, $('#namespace-error'), `namespace ${name} was not deleted: `)
})

// ---------- images ----------

async function refreshImages() {
  const ns = state.namespace
  try {
    const images = await api('GET', nsPath('/images'))
    if (ns !== state.namespace) return
    state.images = images
    renderImages()
  } catch (err) {
    fail(err)
  }
}

/** 'registry.example:5000/team/app:1.0' → ['registry.example:5000/', 'team/app:1.0'] (the registry shown muted). */
function splitRef(name) {
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  if (/[.:]/.test(first) || first === 'localhost') return [`${first}/`, name.slice(slash + 1)]
  return ['', name]
}

function imageName(name) {
  const [registry, rest] = splitRef(name)
  return h('span', { class: 'image-name', title: name }, registry ? h('span', { class: 'registry' }, registry) : null, h('span', { class: 'repo' }, rest))
}

function renderImages() {
  const rows = state.images.map((img) => h('tr', { dataset: { key: img.name } },
    h('td', { class: 'mono strong' }, imageName(img.name)),
    h('td', { class: 'mono muted digest', title: img.digest }, shortDigest(img.digest)),
    h('td', { class: 'num' }, bytes(img.size)),
    h('td', { class: 'muted', title: new Date(img.createdAt).toLocaleString() }, ago(img.createdAt)),
    h('td', { class: 'row-actions' },
      h('button', { class: 'btn small', type: 'button', dataset: { action: 'use', key: 'use' }, 'aria-label': `Use ${img.name} in the container form` }, 'Use'),
      h('a', { class: 'btn small', dataset: { key: 'export' }, href: `/api${nsPath(`/export?name=${encodeURIComponent(img.name)}`)}`, download: '', 'aria-label': `Export ${img.name} as an archive` }, 'Export'),
      h('button', { class: 'btn small danger', type: 'button', dataset: { action: 'delete', key: 'delete' }, 'aria-label': `Delete image ${img.name}` }, 'Delete')),
  ))
  morphChildren($('#images tbody'), rows)
  $('#images').hidden = rows.length === 0
  $('#images-empty').hidden = rows.length > 0
  $('#image-count').textContent = rows.length ? String(rows.length) : ''
  morphChildren($('#pulled-images'), state.images.map((img) => h('option', { value: img.name })))
}

$('#images tbody').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]')
  const name = e.target.closest('tr[data-key]')?.dataset.key
  if (!button || !name) return
  if (button.dataset.action === 'use') {
    $('#create-image').value = name
    $('#create-id').focus()
  } else {
    deleteImage(button, name)
  }
})

function deleteImage(button, name) {
  const users = state.containers.filter((c) => c.image === name).map((c) => c.id)
  const warning = users.length
    ? `\n\nIt is the image of ${users.length === 1 ? 'container' : 'containers'} ${users.join(', ')}: ${users.length === 1 ? 'it keeps' : 'they keep'} running, but cannot be recreated from it.`
    : ''
  if (!confirm(`Delete image ${name}?${warning}`)) return
  busy(button, async () => {
    await api('DELETE', nsPath(`/images/${encodeURIComponent(name)}`))
    toast(`deleted ${name}`, 'ok')
    if ($('#create-image').value === name) $('#create-image').value = ''
    await refreshImages()
  })
}

$('#pull-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const ref = $('#pull-ref').value.trim()
  const username = $('#pull-user').value
  const password = $('#pull-password').value
  const body = { ref }
  if (username || password) body.auth = { username, password }
  busy(e.submitter, async () => {
    const { id } = await api('POST', nsPath('/pulls'), body)
    followPull(id, ref)
  }, $('#pull-error'))
})

// Push: the target names its registry; progress in a card like a pull's.
$('#push-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const body = { name: $('#push-name').value.trim(), target: $('#push-target').value.trim() }
  const username = $('#push-user').value
  const password = $('#push-password').value
  if (username || password) body.auth = { username, password }
  busy(e.submitter, async () => {
    const { id } = await api('POST', nsPath('/pushes'), body)
    followPull(id, body.target, 'push')
  }, $('#pull-error'), 'not pushed: ')
})

// Import: the file is the request body, streamed by the browser (no JSON around it).
$('#import-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const file = $('#import-file').files[0]
  if (!file) return
  busy(e.submitter, async () => {
    const res = await fetch(`/api${nsPath('/import')}`, { method: 'POST', headers: { 'content-type': /gz$/.test(file.name) ? 'application/gzip' : 'application/x-tar' }, body: file })
    const data = await res.json().catch(() => null)
    if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'HTTP_' + res.status, data?.error?.message ?? res.statusText)
    toast(`imported ${data.map((i) => i.name).join(', ')}`, 'ok')
    $('#import-form').reset()
    await refreshImages()
  }, $('#pull-error'), 'not imported: ')
})

function bar(kind, label) {
  const fill = h('div', { class: 'fill' })
  const el = h('div', { class: `bar ${kind}`, role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, fill)
  el.set = (percent, status) => {
    const p = Math.max(0, Math.min(100, Math.floor(percent)))
    fill.style.width = `${p}%`
    el.setAttribute('aria-valuenow', String(p))
    if (status) el.dataset.status = status
  }
  return el
}

/** The pulls of this namespace on the server (running, or finished in the last minutes): shown again after a reload. */
async function loadPulls() {
  const ns = state.namespace
  for (const card of state.pulls.values()) card.detach()
  state.pulls.clear()
  $('#pulls').replaceChildren()
  try {
    const pulls = await api('GET', nsPath('/pulls'))
    if (ns !== state.namespace) return
    for (const p of pulls.reverse()) followPull(p.id, p.ref, p.kind)
  } catch (err) {
    showError($('#pull-error'), err)
  }
}

/**
 * A card with an overall bar and a bar per layer, fed by the pull's event stream: Cancel while it
 * runs (it ends cancelled, leaving nothing), Dismiss once it ended (the server forgets it).
 */
function followPull(id, ref, kind = 'pull') {
  if (state.pulls.has(id)) return
  const what = kind === 'push' ? 'push' : 'pull'
  const total = bar('total', `${what === 'push' ? 'Push' : 'Pull'} of ${ref}`)
  const label = h('span', { class: 'pull-status' }, 'resolving…')
  const percent = h('span', { class: 'pull-percent' }, '0%')
  const layers = h('div', { class: 'layers' })
  const action = h('button', { class: 'btn small', type: 'button', 'aria-label': `Cancel the ${what} of ${ref}` }, 'Cancel')
  const card = h('div', { class: 'pull', dataset: { ref, id, state: 'running' } },
    h('div', { class: 'pull-head' }, h('span', { class: 'mono strong ref' }, imageName(ref)), label, percent, action),
    total, layers)
  $('#pulls').prepend(card)
  const layerBars = new Map()
  const source = new EventSource(`/api/${what}s/${encodeURIComponent(id)}/events`)
  card.detach = () => { source.close(); card.remove() }
  state.pulls.set(id, card)
  const finish = (cardState, text) => {
    source.close()
    card.dataset.state = cardState
    label.textContent = text
    action.textContent = 'Dismiss'
    action.setAttribute('aria-label', `Dismiss the ${what} of ${ref}`)
  }
  action.addEventListener('click', () => busy(action, async () => {
    if (card.dataset.state === 'running') {
      action.textContent = 'Cancelling…'
      await api('DELETE', `/${what}s/${encodeURIComponent(id)}`)
    } else {
      await api('DELETE', `/${what}s/${encodeURIComponent(id)}`).catch(() => {}) // already forgotten: fine
      card.detach()
      state.pulls.delete(id)
    }
  }, null))

  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data)
    const moved = p.downloadedBytes ?? p.uploadedBytes // a pull's or a push's
    const pct = p.phase === 'done' ? 100 : p.totalBytes ? (100 * moved) / p.totalBytes : 0
    total.set(pct)
    percent.textContent = `${Math.floor(pct)}%`
    label.textContent = `${p.phase} · ${bytes(moved)} of ${bytes(p.totalBytes)}`
    for (const layer of p.layers ?? p.blobs) {
      let row = layerBars.get(layer.digest)
      if (!row) {
        row = { bar: bar('layer-bar', `Layer ${shortDigest(layer.digest)}`), text: h('span', { class: 'layer-text' }) }
        layerBars.set(layer.digest, row)
        layers.append(h('div', { class: 'layer' }, h('span', { class: 'mono muted', title: layer.digest }, shortDigest(layer.digest)), row.bar, row.text))
      }
      const done = ['exists', 'downloaded', 'unpacking', 'unpacked', 'mounted', 'uploaded'].includes(layer.status)
      row.bar.set(done ? 100 : layer.size ? (100 * (layer.downloaded ?? layer.uploaded)) / layer.size : 0, layer.status)
      row.text.textContent = `${layer.status} · ${bytes(layer.size)}`
    }
  })
  source.addEventListener('done', (e) => {
    const image = JSON.parse(e.data)
    total.set(100, 'done')
    percent.textContent = '100%'
    if (what === 'push') {
      finish('done', `pushed · ${shortDigest(image.digest)}`)
      setTimeout(() => { if (card.isConnected) card.classList.add('faded') }, 15000)
      return
    }
    finish('done', `pulled · ${bytes(image.size)}${image.platform ? ` · ${image.platform}` : ''}`)
    if (!$('#create-image').value) $('#create-image').value = image.name
    refreshImages()
    setTimeout(() => { if (card.isConnected) card.classList.add('faded') }, 15000)
  })
  source.addEventListener('cancelled', () => {
    percent.textContent = ''
    finish('cancelled', 'cancelled · nothing was kept')
  })
  source.addEventListener('error', (e) => {
    if (!e.data) { // a connection hiccup: EventSource reconnects and gets the latest state
      if (source.readyState === EventSource.CLOSED && card.dataset.state === 'running') finish('failed', 'the pull is no longer known to the server')
      return
    }
    const { status, error } = JSON.parse(e.data)
    percent.textContent = ''
    finish('failed', `${status} ${error.code}: ${error.message}`) // its one error surface: the card
  })
}

// ---------- containers ----------

let refreshTimer = null
function refreshSoon() {
  clearTimeout(refreshTimer)
  refreshTimer = setTimeout(refreshContainers, 150)
}

async function refreshContainers() {
  const ns = state.namespace
  try {
    const containers = await api('GET', nsPath('/containers'))
    if (ns !== state.namespace) return
    state.containers = containers
    renderContainers()
  } catch (err) {
    showError($('#containers-error'), err)
  }
}

function stateOf(c) {
  if (!c.task) return { name: 'created', text: 'not started' }
  if (c.task.status === 'stopped') return { name: 'stopped', text: c.task.exitCode === undefined ? 'stopped' : `exited (${c.task.exitCode})` }
  return { name: c.task.status, text: c.task.status }
}

/** The network cell: the container's IP, and its published ports (TCP on this host as links). */
function networkCell(n) {
  if (!n) return h('td', { class: 'muted' }, '—')
  const port = (p) => {
    // 127.0.0.1 (this host only) goes without saying; any other address is shown.
    const text = `${p.hostIp === '127.0.0.1' ? '' : `${p.hostIp}:`}${p.hostPort} → ${p.containerPort}${p.protocol === 'tcp' ? '' : `/${p.protocol}`}`
    const title = `${p.hostIp}:${p.hostPort} → container port ${p.containerPort}/${p.protocol}`
    if (p.protocol !== 'tcp' || (p.hostIp !== '127.0.0.1' && p.hostIp !== '0.0.0.0')) return h('span', { class: 'port mono', title }, text)
    const url = `http://127.0.0.1:${p.hostPort}/`
    return h('a', { class: 'port mono', href: url, target: '_blank', rel: 'noopener noreferrer', title: `${title}: open ${url}` }, text)
  }
  return h('td', { class: 'net' },
    h('span', { class: 'ip mono', title: `network ${n.name}, gateway ${n.gateway}` }, n.ip, h('span', { class: 'muted small' }, ` ${n.name}`)),
    n.ports.map(port))
}

function renderContainers() {
  const rows = state.containers.map((c) => {
    const s = stateOf(c)
    const live = s.name === 'running' || s.name === 'paused' || s.name === 'pausing'
    // Each button says which container it acts on (a screen reader hears "Stop web-1").
    const act = (action, text, kind = '', label = `${text} ${c.id}`) => h('button', {
      class: `btn small ${kind}`, type: 'button', dataset: { action, id: c.id, key: action }, 'aria-label': label,
    }, text)
    return h('tr', { class: c.id === state.logFor ? 'selected' : '', dataset: { id: c.id, key: c.id, state: s.name } },
      h('td', { class: 'mono strong' }, c.id),
      h('td', { class: 'mono muted', title: c.image }, splitRef(c.image)[1]), // the repository; the registry in the title
      h('td', { class: 'mono ellipsis', title: showCommand(c.command) }, showCommand(c.command)),
      networkCell(c.network),
      h('td', {}, h('span', { class: `state ${s.name}` }, s.text), c.task && live ? h('span', { class: 'muted small' }, ` pid ${c.task.pid}`) : null),
      h('td', { class: 'row-actions' },
        !live ? act('start', 'Start', 'primary') : null,
        s.name === 'running' ? act('stop', 'Stop', '', `Stop ${c.id} (SIGTERM, then SIGKILL after 10 s)`) : null,
        s.name === 'running' ? act('pause', 'Pause') : null,
        s.name === 'paused' ? act('resume', 'Resume') : null,
        live ? act('kill', 'Kill', 'warn', `Kill ${c.id} (SIGKILL)`) : null,
        act('logs', 'Logs', '', `Logs of ${c.id}`),
        !live ? act('delete', 'Delete', 'danger') : null),
    )
  })
  morphChildren($('#containers tbody'), rows)
  $('#containers').hidden = rows.length === 0
  $('#containers-empty').hidden = rows.length > 0
  $('#container-count').textContent = rows.length ? String(rows.length) : ''
  const selected = state.containers.find((c) => c.id === state.logFor)
  const running = selected?.task?.status === 'running'
  $('#exec-args').disabled = !running
  $('#exec-form button').disabled = !running
}

$('#containers tbody').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]')
  const row = e.target.closest('tr[data-id]')
  if (!button) { if (row && !e.target.closest('a')) showLog(row.dataset.id); return }
  const { action, id } = button.dataset
  const path = nsPath(`/containers/${encodeURIComponent(id)}`)
  const actions = {
    start: async () => { await api('POST', `${path}/task/start`); showLog(id) },
    stop: () => api('POST', `${path}/task/stop`),
    pause: () => api('POST', `${path}/task/pause`),
    resume: () => api('POST', `${path}/task/resume`),
    kill: async () => {
      if (!confirm(`Kill ${id} now (SIGKILL: no chance to clean up)? Stop asks it to exit first.`)) return
      await api('POST', `${path}/task/kill`, { signal: 'SIGKILL' })
    },
    logs: async () => showLog(id),
    delete: async () => {
      if (!confirm(`Delete container ${id}?`)) return
      await api('DELETE', path)
      if (state.logFor === id) showLog(null)
      toast(`deleted ${id}`, 'ok')
    },
  }
  busy(button, async () => {
    await actions[action]()
    await refreshContainers()
  }, $('#containers-error'), `${button.textContent} ${id}: `)
})

/** The create form's field an error is about (highlighted), from the server's message. */
function fieldOf(err) {
  const m = err.message
  if (/^id\b|container .* already exists|already exists/.test(m) && !/port/.test(m)) return '#create-id'
  if (/^(image|ref)\b|image .*not found|not found/.test(m)) return '#create-image'
  if (/^args\b|command|quote/.test(m)) return '#create-args'
  if (/^ports|port/.test(m)) return '#create-ports'
  if (/^env\b/.test(m)) return '#create-env'
  if (/^mounts|mount/.test(m)) return '#create-mounts'
  if (/^network|network/.test(m)) return '#create-network'
  return null
}

function resetCreateForm() {
  for (const el of document.querySelectorAll('#create-form [aria-invalid]')) el.removeAttribute('aria-invalid')
  showError($('#create-error'), null)
}

$('#create-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const button = e.submitter
  resetCreateForm()
  button.disabled = true
  try {
    const body = { id: $('#create-id').value.trim(), image: $('#create-image').value.trim() }
    const args = splitCommand($('#create-args').value)
    if (args.length) body.args = args
    const restart = $('#create-restart').value
    if (restart !== 'no') body.restart = restart
    const network = $('#create-network').value
    if (network !== 'none') body.network = network
    const ports = parsePorts($('#create-ports').value)
    if (ports.length && !$('#create-ports').disabled) body.ports = ports
    const env = lines($('#create-env').value)
    if (env.length) body.env = env
    const mounts = parseMounts($('#create-mounts').value)
    if (mounts.length) body.mounts = mounts
    await api('POST', nsPath('/containers'), body)
    toast(`created ${body.id}`, 'ok')
    // The next container starts from a clean form (no network, ports or mounts carried over).
    const image = $('#create-image').value
    $('#create-form').reset()
    $('#create-image').value = image
    updatePortsField()
    await refreshContainers()
  } catch (err) {
    showError($('#create-error'), err, 'not created: ')
    const field = fieldOf(err)
    if (field) {
      $(field).setAttribute('aria-invalid', 'true')
      $(field).setAttribute('aria-describedby', 'create-error')
      if (field === '#create-env' || field === '#create-mounts') $('#create-form .more').open = true
      $(field).focus()
    }
  } finally {
    button.disabled = false
  }
})

/** Ports need a network of the container's own (not none, not the host's). */
function updatePortsField() {
  const network = $('#create-network').value
  $('#create-ports').disabled = network === 'none' || network === 'host'
}
$('#create-network').addEventListener('change', updatePortsField)

/** The network choice: none, bridge, the host's (with --allow-host) and every listed network. */
async function loadNetworks() {
  const select = $('#create-network')
  const known = new Set([...select.options].map((o) => o.value))
  const networks = await api('GET', '/networks')
  for (const n of networks) {
    if (!known.has(n.name)) select.append(h('option', { value: n.name }, `${n.name} (${n.subnet})`))
  }
}

// ---------- logs and exec ----------

const LOG_LINES = 5000 // lines kept in the pane
const GAP_MS = 60_000 // a pause this long between two lines gets a separator

const clock = (date) => new Date(date).toLocaleTimeString([], { hourCycle: 'h23' })

function duration(ms) {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}

function showLog(id) {
  state.logSource?.close()
  state.logSource = null
  state.logFor = id
  saveLocation()
  showTaskTools(id)
  const log = $('#log')
  $('#exec-output').hidden = true
  $('#log-target').textContent = id ? `· ${id}` : ''
  for (const row of document.querySelectorAll('#containers tr[data-id]')) row.classList.toggle('selected', row.dataset.id === id)
  if (!id) {
    log.replaceChildren(h('span', { class: 'placeholder' }, 'Select a container to follow its output.'))
    return renderContainers()
  }
  log.replaceChildren()
  log.dataset.empty = 'true'
  let lastTime = null
  let separated = false
  const append = (node) => {
    log.dataset.empty = 'false'
    log.append(node)
    while (log.childElementCount > LOG_LINES) log.firstElementChild.remove()
    if ($('#log-follow').checked) log.scrollTop = log.scrollHeight
  }
  const separator = (text) => { append(h('span', { class: 'log-separator', role: 'separator' }, text)); separated = true }
  const source = new EventSource(`/api${nsPath(`/containers/${encodeURIComponent(id)}/logs`)}`)
  state.logSource = source
  // A container made with `log`: records { time, stream, line }, and `task` where each task began.
  source.addEventListener('task', (e) => {
    if (state.logSource !== source) return
    separator(`── task started ${clock(JSON.parse(e.data).time)} ──`)
  })
  source.addEventListener('log', (e) => {
    if (state.logSource !== source) return
    const data = JSON.parse(e.data)
    if (typeof data === 'string') return append(h('span', { class: 'chunk' }, data)) // a plain log file's text
    const time = Date.parse(data.time)
    if (lastTime !== null && !separated && time - lastTime >= GAP_MS) separator(`── ${duration(time - lastTime)} later ──`)
    lastTime = time
    separated = false
    append(h('span', { class: `line ${data.stream}`, title: `${new Date(time).toLocaleString()} · ${data.stream}` },
      data.dropped ? `[${data.dropped} bytes dropped by the logger]` : data.line, '\n'))
  })
  source.addEventListener('error', (e) => {
    if (state.logSource !== source || !e.data) return
    separator(`── the log ended: ${JSON.parse(e.data).message} ──`)
  })
  renderContainers()
}

// ---------- the shown container: CPU and memory sparklines, memory limit, commit ----------

const SPARK_POINTS = 60
function drawSpark(svg, values, max) {
  const top = Math.max(max, ...values, 1)
  svg.querySelector('polyline').setAttribute('points',
    values.map((x, i) => `${(i * 60) / (SPARK_POINTS - 1)},${(20 - (20 * x) / top).toFixed(2)}`).join(' '))
}

function showTaskTools(id) {
  state.statsSource?.close()
  state.statsSource = null
  const tools = $('#task-tools')
  tools.hidden = !id
  if (!id) return
  const cpu = []
  const mem = []
  $('#cpu-value').textContent = '—'
  $('#mem-value').textContent = '—'
  drawSpark($('#cpu-spark'), cpu, 100)
  drawSpark($('#mem-spark'), mem, 1)
  const source = new EventSource(`/api${nsPath(`/containers/${encodeURIComponent(id)}/stats`)}`)
  state.statsSource = source
  source.addEventListener('stats', (e) => {
    const s = JSON.parse(e.data)
    cpu.push(s.cpuPercent)
    mem.push(s.memoryBytes)
    if (cpu.length > SPARK_POINTS) { cpu.shift(); mem.shift() }
    $('#cpu-value').textContent = `${s.cpuPercent.toFixed(1)}%`
    $('#mem-value').textContent = `${bytes(s.memoryBytes)}${s.memoryLimitBytes ? ` of ${bytes(s.memoryLimitBytes)}` : ''}`
    drawSpark($('#cpu-spark'), cpu, 100)
    drawSpark($('#mem-spark'), mem, s.memoryLimitBytes ?? 1)
  })
  // No task (404) or it ended: stop asking; selecting the container again restarts it.
  source.addEventListener('end', () => source.close())
  source.addEventListener('error', () => source.close())
}

$('#memory-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const id = state.logFor
  const mib = Number($('#memory-mib').value)
  busy(e.submitter, async () => {
    await api('POST', nsPath(`/containers/${encodeURIComponent(id)}/task/update`), { memoryLimitBytes: Math.round(mib * 1048576) })
    toast(`${id}: memory limit ${mib} MiB`, 'ok')
  })
})

$('#commit-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const id = state.logFor
  const name = $('#commit-name').value.trim()
  busy(e.submitter, async () => {
    const image = await api('POST', nsPath(`/containers/${encodeURIComponent(id)}/commit`), { name })
    toast(`committed ${id} as ${image.name}`, 'ok')
    await refreshImages()
  })
})

$('#log-clear').addEventListener('click', () => { if (state.logFor) $('#log').replaceChildren() })

$('#exec-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const id = state.logFor
  if (!id) return
  const out = $('#exec-output')
  busy(e.submitter, async () => {
    const command = $('#exec-args').value
    const args = splitCommand(command)
    if (args.length === 0) return
    out.hidden = false
    out.replaceChildren(h('span', { class: 'cmd' }, `$ ${command}\n`), 'running…')
    try {
      const result = await api('POST', nsPath(`/containers/${encodeURIComponent(id)}/task/exec`), { args })
      out.replaceChildren(
        h('span', { class: 'cmd' }, `$ ${command}\n`),
        result.stdout,
        result.stderr ? h('span', { class: 'stderr' }, result.stderr) : '',
        h('span', { class: result.exitCode === 0 ? 'exit ok' : 'exit bad' }, `exit ${result.exitCode}${result.truncated ? ' (output truncated)' : ''}`),
      )
    } catch (err) {
      out.replaceChildren(h('span', { class: 'cmd' }, `$ ${command}\n`), h('span', { class: 'stderr', role: 'alert' }, describeError(err)))
    }
  })
})

// ---------- events ----------

const TOPIC_KIND = (topic) => topic.split('/')[1] || 'other'

function eventSummary(e) {
  const ev = e.event || {}
  const subject = ev.containerId || ev.id || ev.name || ev.key || ''
  const extra = []
  if (ev.execId) extra.push(`exec ${ev.execId}`)
  if (e.topic === '/tasks/exit') extra.push(ev.id && ev.id !== ev.containerId ? `exec ${ev.id} · status ${ev.exitStatus}` : `status ${ev.exitStatus}`)
  if (ev.pid && e.topic === '/tasks/start') extra.push(`pid ${ev.pid}`)
  if (ev.image && e.topic.startsWith('/containers/')) extra.push(ev.image)
  return [subject, extra.join(' · ')]
}

function connectEvents() {
  state.eventSource?.close()
  const live = $('#live')
  live.textContent = 'connecting'
  live.className = 'live connecting'
  const source = new EventSource(`/api${nsPath('/events')}`)
  state.eventSource = source
  source.addEventListener('ready', () => { live.textContent = 'live'; live.className = 'live on' })
  source.addEventListener('error', () => {
    if (state.eventSource !== source) return
    live.textContent = source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting'
    live.className = 'live off'
  })
  source.addEventListener('event', (msg) => {
    const e = JSON.parse(msg.data)
    const kind = TOPIC_KIND(e.topic)
    if (kind === 'tasks' || kind === 'containers') refreshSoon()
    if (kind === 'images') refreshImages()
    showEvent(e)
    // Kept for this tab, so a reload shows the feed again.
    const key = `events:${state.namespace}`
    try {
      const kept = JSON.parse(sessionStorage.getItem(key) ?? '[]')
      kept.push(e)
      sessionStorage.setItem(key, JSON.stringify(kept.slice(-KEPT_EVENTS)))
    } catch { /* storage full or unavailable: the feed still works */ }
  })
}

const KEPT_EVENTS = 150

/** The events kept in this tab for the namespace (after a reload). */
function restoreEvents() {
  let kept = []
  try { kept = JSON.parse(sessionStorage.getItem(`events:${state.namespace}`) ?? '[]') } catch { /* none */ }
  for (const e of kept) showEvent(e)
}

function showEvent(e) {
  const kind = TOPIC_KIND(e.topic)
  const [subject, extra] = eventSummary(e)
  const item = h('li', { class: `event ${kind}`, dataset: { kind } },
    h('time', { datetime: e.timestamp }, new Date(e.timestamp).toLocaleTimeString([], { hourCycle: 'h23' })),
    h('span', { class: 'topic' }, e.topic),
    h('span', { class: 'mono subject' }, subject),
    extra ? h('span', { class: 'muted extra' }, extra) : null)
  const list = $('#events')
  list.prepend(item)
  while (list.children.length > 300) list.lastChild.remove()
  updateEventsEmpty()
}

function updateEventsEmpty() {
  const selector = $('#events-quiet').checked ? '.event:not(.snapshot):not(.content)' : '.event'
  $('#events-empty').hidden = $('#events').querySelector(selector) !== null
}

function applyQuiet() {
  document.body.classList.toggle('quiet-events', $('#events-quiet').checked)
  updateEventsEmpty()
}
$('#events-quiet').addEventListener('change', applyQuiet)

// ---------- start ----------

async function start() {
  applyQuiet()
  try {
    const info = await api('GET', '/info')
    $('#daemon').textContent = `${info.version.version} · ${info.address}`
    // The sample images, one click each (they fill the form; Pull pulls).
    $('#samples').hidden = info.images.length === 0
    $('#samples').append(...info.images.map((ref) => h('button', {
      class: 'btn small sample', type: 'button', 'aria-label': `Fill in the sample image ${ref}`,
      onclick: () => { $('#pull-ref').value = ref; $('#pull-ref').focus() },
    }, splitRef(ref)[1])))
    // What the server lets containers take from the host (--allow-host, --allow-mount).
    const hostNet = $('#create-network option[value=host]')
    hostNet.disabled = !info.allowHost
    hostNet.textContent = info.allowHost ? 'host' : 'host (needs --allow-host)'
    $('#create-ports').placeholder = info.allowHost
      ? '127.0.0.1:8080:80, 8443:443 (needs a network other than none or host)'
      : '127.0.0.1:8080:80, … (only on 127.0.0.1: the server was started without --allow-host)'
    $('#create-mounts').placeholder = info.allowMounts.length
      ? `tmpfs:/scratch, or a path under ${info.allowMounts.join(', ')}:/container/path[:ro]`
      : 'tmpfs:/scratch (bind mounts: start the server with --allow-mount DIR)'
  } catch (err) {
    $('#daemon').textContent = 'daemon unreachable'
    fail(err)
  }
  updatePortsField()
  // Networks need the daemon on this host: without them, the choice stays none, bridge, host.
  loadNetworks().catch(() => {})
  try {
    await loadNamespaces()
  } catch (err) {
    fail(err)
  }
  setNamespace(state.namespace, { keepLog: true })
  setInterval(() => { if (document.visibilityState === 'visible') refreshContainers() }, 15000)
}

start()
