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

const state = {
  namespace: new URLSearchParams(location.search).get('ns') || localStorage.getItem('namespace') || 'default',
  images: [],
  containers: [],
  logFor: null, // container id whose log is shown
  logSource: null,
  eventSource: null,
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
  const where = err instanceof ApiError ? `${err.status} ${err.code}: ` : ''
  toast(`${where}${err.message}`, 'error')
}

/** Runs `fn` with `button` disabled; errors become toasts. */
async function busy(button, fn) {
  if (button) button.disabled = true
  try {
    return await fn()
  } catch (err) {
    fail(err)
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
  const list = await api('GET', '/namespaces')
  const names = list.map((n) => n.name)
  if (!names.includes(state.namespace)) names.push(state.namespace)
  const select = $('#namespace')
  select.replaceChildren(...names.sort().map((n) => h('option', { value: n, selected: n === state.namespace }, n)))
}

function setNamespace(name) {
  state.namespace = name
  localStorage.setItem('namespace', name)
  const url = new URL(location.href)
  url.searchParams.set('ns', name)
  history.replaceState(null, '', url)
  $('#namespace').value = name
  showLog(null)
  $('#events').replaceChildren()
  updateEventsEmpty()
  connectEvents()
  refreshImages()
  refreshContainers()
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
    await loadNamespaces()
    setNamespace(name)
  })
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

function renderImages() {
  const rows = state.images.map((img) => h('tr', {},
    h('td', { class: 'mono strong' }, img.name),
    h('td', { class: 'mono muted', title: img.digest }, shortDigest(img.digest)),
    h('td', { class: 'num' }, bytes(img.size)),
    h('td', { class: 'muted', title: new Date(img.createdAt).toLocaleString() }, ago(img.createdAt)),
    h('td', { class: 'row-actions' },
      h('button', { class: 'btn small', type: 'button', title: 'Use in the container form', onclick: () => useImage(img.name) }, 'Use'),
      h('button', { class: 'btn small danger', type: 'button', onclick: (e) => deleteImage(e.currentTarget, img.name) }, 'Delete')),
  ))
  $('#images tbody').replaceChildren(...rows)
  $('#images').hidden = rows.length === 0
  $('#images-empty').hidden = rows.length > 0
  $('#image-count').textContent = rows.length ? String(rows.length) : ''
  $('#pulled-images').replaceChildren(...state.images.map((img) => h('option', { value: img.name })))
  const imageInput = $('#create-image')
  if (!imageInput.value && state.images.length) imageInput.value = state.images[0].name
}

function useImage(name) {
  $('#create-image').value = name
  $('#create-id').focus()
}

function deleteImage(button, name) {
  if (!confirm(`Delete image ${name}?`)) return
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
  })
})

function bar(kind) {
  const fill = h('div', { class: 'fill' })
  const el = h('div', { class: `bar ${kind}`, role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' }, fill)
  el.set = (percent, status) => {
    const p = Math.max(0, Math.min(100, Math.floor(percent)))
    fill.style.width = `${p}%`
    el.setAttribute('aria-valuenow', String(p))
    if (status) el.dataset.status = status
  }
  return el
}

/** A card with an overall bar and a bar per layer, fed by the pull's event stream. */
function followPull(id, ref) {
  const total = bar('total')
  const label = h('span', { class: 'pull-status' }, 'resolving…')
  const percent = h('span', { class: 'pull-percent' }, '0%')
  const layers = h('div', { class: 'layers' })
  const close = h('button', { class: 'icon-btn', type: 'button', title: 'Dismiss', 'aria-label': 'Dismiss' }, '×')
  const card = h('div', { class: 'pull', dataset: { ref, id } },
    h('div', { class: 'pull-head' }, h('span', { class: 'mono strong' }, ref), label, percent, close),
    total, layers)
  $('#pulls').prepend(card)
  const layerBars = new Map()
  const source = new EventSource(`/api/pulls/${encodeURIComponent(id)}/events`)
  close.addEventListener('click', () => {
    if (card.dataset.state === 'running') api('DELETE', `/pulls/${encodeURIComponent(id)}`).catch(() => {})
    source.close()
    card.remove()
  })
  card.dataset.state = 'running'

  source.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data)
    const pct = p.phase === 'done' ? 100 : p.totalBytes ? (100 * p.downloadedBytes) / p.totalBytes : 0
    total.set(pct)
    percent.textContent = `${Math.floor(pct)}%`
    label.textContent = `${p.phase} · ${bytes(p.downloadedBytes)} of ${bytes(p.totalBytes)}`
    for (const layer of p.layers) {
      let row = layerBars.get(layer.digest)
      if (!row) {
        row = { bar: bar('layer-bar'), text: h('span', { class: 'layer-text' }) }
        layerBars.set(layer.digest, row)
        layers.append(h('div', { class: 'layer' }, h('span', { class: 'mono muted', title: layer.digest }, shortDigest(layer.digest)), row.bar, row.text))
      }
      const done = ['exists', 'downloaded', 'unpacking', 'unpacked'].includes(layer.status)
      row.bar.set(done ? 100 : layer.size ? (100 * layer.downloaded) / layer.size : 0, layer.status)
      row.text.textContent = `${layer.status} · ${bytes(layer.size)}`
    }
  })
  source.addEventListener('done', (e) => {
    const image = JSON.parse(e.data)
    source.close()
    card.dataset.state = 'done'
    total.set(100, 'done')
    percent.textContent = '100%'
    label.textContent = `pulled · ${bytes(image.size)}`
    toast(`pulled ${image.name}`, 'ok')
    if (!$('#create-image').value) $('#create-image').value = image.name
    refreshImages()
    setTimeout(() => { if (card.isConnected) card.classList.add('faded') }, 15000)
  })
  source.addEventListener('error', (e) => {
    if (!e.data) return // a connection hiccup: EventSource reconnects and gets the latest state
    const { status, error } = JSON.parse(e.data)
    source.close()
    card.dataset.state = 'failed'
    card.classList.add('failed')
    label.textContent = `${status} ${error.code}: ${error.message}`
    percent.textContent = ''
    fail(new ApiError(status, error.code, error.message))
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
    fail(err)
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
    const act = (action, text, kind = '') => h('button', { class: `btn small ${kind}`, type: 'button', dataset: { action, id: c.id } }, text)
    return h('tr', { class: c.id === state.logFor ? 'selected' : '', dataset: { id: c.id, state: s.name } },
      h('td', { class: 'mono strong' }, c.id),
      h('td', { class: 'mono muted ellipsis', title: c.image }, c.image),
      h('td', { class: 'mono ellipsis', title: showCommand(c.command) }, showCommand(c.command)),
      networkCell(c.network),
      h('td', { class: 'ellipsis' }, h('span', { class: `state ${s.name}` }, s.text), c.task && live ? h('span', { class: 'muted small' }, ` pid ${c.task.pid}`) : null),
      h('td', { class: 'row-actions' },
        !live ? act('start', 'Start', 'primary') : null,
        s.name === 'running' ? act('pause', 'Pause') : null,
        s.name === 'paused' ? act('resume', 'Resume') : null,
        live ? act('kill', 'Kill', 'warn') : null,
        act('logs', 'Logs'),
        !live ? act('delete', 'Delete', 'danger') : null),
    )
  })
  $('#containers tbody').replaceChildren(...rows)
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
    pause: () => api('POST', `${path}/task/pause`),
    resume: () => api('POST', `${path}/task/resume`),
    kill: () => api('POST', `${path}/task/kill`, { signal: 'SIGKILL' }),
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
  })
})

$('#create-form').addEventListener('submit', (e) => {
  e.preventDefault()
  busy(e.submitter, async () => {
    const body = { id: $('#create-id').value.trim(), image: $('#create-image').value.trim() }
    const args = splitCommand($('#create-args').value)
    if (args.length) body.args = args
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
    $('#create-id').value = ''
    await refreshContainers()
  })
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

const LOG_LIMIT = 200_000

function showLog(id) {
  state.logSource?.close()
  state.logSource = null
  state.logFor = id
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
  const source = new EventSource(`/api${nsPath(`/containers/${encodeURIComponent(id)}/logs`)}`)
  state.logSource = source
  source.addEventListener('log', (e) => {
    if (state.logSource !== source) return
    const follow = $('#log-follow').checked
    log.dataset.empty = 'false'
    log.append(JSON.parse(e.data))
    if (log.textContent.length > LOG_LIMIT) log.textContent = log.textContent.slice(-LOG_LIMIT / 2)
    if (follow) log.scrollTop = log.scrollHeight
  })
  renderContainers()
}

$('#log-clear').addEventListener('click', () => { if (state.logFor) $('#log').replaceChildren() })

$('#exec-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const id = state.logFor
  if (!id) return
  busy(e.submitter, async () => {
    const command = $('#exec-args').value
    const args = splitCommand(command)
    if (args.length === 0) return
    const out = $('#exec-output')
    out.hidden = false
    out.replaceChildren(h('span', { class: 'cmd' }, `$ ${command}\n`), 'running…')
    const result = await api('POST', nsPath(`/containers/${encodeURIComponent(id)}/task/exec`), { args })
    out.replaceChildren(
      h('span', { class: 'cmd' }, `$ ${command}\n`),
      result.stdout,
      result.stderr ? h('span', { class: 'stderr' }, result.stderr) : '',
      h('span', { class: result.exitCode === 0 ? 'exit ok' : 'exit bad' }, `exit ${result.exitCode}${result.truncated ? ' (output truncated)' : ''}`),
    )
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
  })
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
    $('#image-suggestions').replaceChildren(...info.images.map((ref) => h('option', { value: ref })))
    if (info.images.length) $('#pull-ref').value = info.images[0]
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
  setNamespace(state.namespace)
  setInterval(() => { if (document.visibilityState === 'visible') refreshContainers() }, 15000)
}

start()
