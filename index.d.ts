// Type definitions for containerd-napi (hand-written; the public face described in README.md).
/// <reference types="node" />

// ---------- connection ----------

/** PEM contents (not file paths) for a tcp:// connection to containerd. */
export interface TlsOptions {
  /** CA certificate(s) to verify the daemon; default: the system's trusted roots. */
  ca?: string | Buffer
  /** Client certificate; with `key`, for containerd's mTLS (required when it has `tcp_tls_ca`). */
  cert?: string | Buffer
  key?: string | Buffer
  /** The name to verify the daemon's certificate against; default: the host of the address. */
  serverName?: string
}

export interface ConnectOptions {
  /** '/run/containerd/containerd.sock' | 'unix:///path' | 'tcp://host:port'.
   *  Default: $CONTAINERD_ADDRESS, else /run/containerd/containerd.sock. */
  address?: string
  /** Default: $CONTAINERD_NAMESPACE, else 'default'. */
  namespace?: string
  /** Connect timeout and the deadline of each short unary call, in ms. Default 10000; 0 = none.
   *  Never applied to streams, waits or pulls: those take `signal`. */
  timeoutMs?: number
  tls?: TlsOptions
  /** Aborts the connection attempt. */
  signal?: AbortSignal
}

/** Options every daemon call accepts. */
export interface CallOptions {
  /** Aborting rejects the call with a CancelledError (name 'AbortError'). */
  signal?: AbortSignal
}

export interface VersionInfo {
  version: string
  revision: string
}

export type PluginStatus = 'ok' | 'error' | 'skip'

export interface PluginInfo {
  type: string
  id: string
  /** 'skip' when the plugin's init error says it was skipped, 'error' for other init errors. */
  status: PluginStatus
  /** The init error's message, for 'skip' and 'error'. */
  error?: string
  requires: string[]
}

export interface NamespaceInfo {
  name: string
  labels: Record<string, string>
}

// ---------- images ----------

export interface PullOptions {
  /** For registries with their own CA. Passing tls makes a loopback registry HTTPS too. */
  tls?: { ca?: string | Buffer; insecureSkipVerify?: boolean }
  /** 'linux/amd64', 'linux/arm64/v8'; default: this host. */
  platform?: string
  /** Unpack the layers into the snapshotter (default true). */
  unpack?: boolean
  /** Default 'overlayfs'. */
  snapshotter?: string
  /** Else credentials from $DOCKER_CONFIG/config.json or ~/.docker/config.json, else anonymous. */
  auth?: { username: string; password: string } | { token: string }
  /** Default: true only for localhost / 127.0.0.0/8 / [::1] (and no `tls` option). */
  plainHttp?: boolean
  /** Default 3. */
  maxConcurrentDownloads?: number
  /** Labels on the image record. */
  labels?: Record<string, string>
  /** How long any registry read (an answer, a body's next bytes) may wait for data before the pull
   *  fails with an UnavailableError and removes what it made (default 30000). */
  stallTimeoutMs?: number
  /** Called on every state change and at least every 1 MiB or 100 ms of download; a throw only warns. */
  onProgress?: (progress: PullProgress) => void
  signal?: AbortSignal
}

export type PullPhase = 'resolving' | 'downloading' | 'unpacking' | 'done'
export type LayerStatus = 'waiting' | 'downloading' | 'exists' | 'downloaded' | 'unpacking' | 'unpacked'

export interface LayerProgress {
  digest: string
  mediaType: string
  size: number
  downloaded: number
  status: LayerStatus
}

export interface PullProgress {
  ref: string
  /** 'downloading' until every blob is in; layers may already be unpacking then (see their status). */
  phase: PullPhase
  /** All blobs of the selected platform (index, manifest, config, layers); present ones count as downloaded. */
  totalBytes: number
  downloadedBytes: number
  layers: LayerProgress[]
}

export interface CommitOptions {
  /** Pause a running task while diffing (default true). */
  pause?: boolean
  /** Overrides for the image config's `config` (User, Env, Entrypoint, Cmd, WorkingDir, Labels, ExposedPorts, Volumes, StopSignal, ArgsEscaped); null removes a key. */
  config?: Record<string, unknown>
  /** The history entry's comment. */
  message?: string
  author?: string
  signal?: AbortSignal
}

export interface ImportOptions {
  /** Unpack into the snapshotter (default true), for `platform` (default: this host). */
  unpack?: boolean
  snapshotter?: string
  platform?: string
  /** Labels on every image record. */
  labels?: Record<string, string>
  signal?: AbortSignal
}

export interface PushOptions {
  /** Where to push ('host/repo:tag'); default: the image's own name. */
  target?: string
  /** Push only this platform's manifest of an index; default: the index with every manifest (all must be stored). */
  platform?: string
  /** Else credentials from $DOCKER_CONFIG/config.json or ~/.docker/config.json, else anonymous. */
  auth?: { username: string; password: string } | { token: string }
  /** For registries with their own CA. Passing tls makes a loopback registry HTTPS too. */
  tls?: { ca?: string | Buffer; insecureSkipVerify?: boolean }
  /** Default: true only for localhost / 127.0.0.0/8 / [::1] (and no `tls` option). */
  plainHttp?: boolean
  /** Default 3 (1 to 64). */
  maxConcurrentUploads?: number
  /** Called on every state change and at least every 1 MiB or 100 ms of upload; a throw only warns. */
  onProgress?: (progress: PushProgress) => void
  signal?: AbortSignal
}

/** 'exists': the repository had it; 'mounted': linked from another repository of the same registry. */
export type BlobPushStatus = 'waiting' | 'uploading' | 'exists' | 'mounted' | 'uploaded'

export interface BlobPushProgress {
  digest: string
  mediaType: string
  size: number
  uploaded: number
  status: BlobPushStatus
}

export interface PushProgress {
  ref: string
  phase: 'pushing' | 'done'
  /** Configs and layers; skipped and mounted blobs count as uploaded. */
  totalBytes: number
  uploadedBytes: number
  blobs: BlobPushProgress[]
}

/** What went under the tag: the manifest's (or index's) digest and size, unchanged from the store. */
export interface PushResult {
  digest: string
  size: number
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
}

export interface ImageConfig {
  architecture: string
  os: string
  variant?: string
  config: {
    User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string
    ExposedPorts?: Record<string, object>; Labels?: Record<string, string>; StopSignal?: string
  }
  rootfs: { type: 'layers'; diff_ids: string[] }
}

export interface PlatformOptions extends CallOptions {
  /** Default: this host's platform. */
  platform?: string
}

export declare class Image {
  private constructor()
  readonly name: string
  readonly target: Descriptor
  readonly labels: Record<string, string>
  readonly createdAt: Date
  readonly updatedAt: Date
  /** The OCI image config; NotFoundError when that platform's content was not pulled. */
  config(options?: PlatformOptions): Promise<ImageConfig>
  /** Compressed bytes of index + manifest + config + layers. */
  size(options?: PlatformOptions): Promise<number>
  /** Unpacks this host's layers (default snapshotter 'overlayfs'). */
  unpack(snapshotter?: string, options?: CallOptions): Promise<void>
  isUnpacked(snapshotter?: string, options?: CallOptions): Promise<boolean>
}

// ---------- containers ----------

export interface Mount {
  /** Default 'bind' (made recursive unless options say 'bind'). */
  type?: 'bind' | 'tmpfs' | (string & {})
  source: string
  /** Absolute path inside the container. */
  destination: string
  options?: string[]
}

export interface ContainerOptions {
  image: string | Image
  /** Replaces Entrypoint + Cmd (like `ctr run IMAGE ID args...`). */
  args?: string[]
  /** Merged over the image's Env. */
  env?: string[] | Record<string, string>
  cwd?: string
  /** 'uid', 'uid:gid', 'name' or 'name:group' (names from the image's /etc/passwd and /etc/group). */
  user?: string
  hostname?: string
  tty?: boolean
  /** Share the host network namespace, with the host's /etc/hosts and /etc/resolv.conf. */
  hostNetwork?: boolean
  /** 'none' (default: loopback only), 'host' (= hostNetwork: true), or a network name ('bridge' is
   *  the default network, made on first use). A name needs root and the daemon on this host. */
  network?: 'none' | 'host' | 'bridge' | (string & {})
  /** '8080:80', '127.0.0.1:8080:80/tcp', '5353:53/udp' or PortMapping; only with a network name.
   *  A host port already published or bound: AlreadyExistsError, nothing made. */
  ports?: Array<string | PortMapping>
  /** Nameservers for /etc/resolv.conf (default: the host's minus loopback ones); network name only. */
  dns?: string[]
  /** name -> IPv4 address, added to /etc/hosts; network name only. */
  extraHosts?: Record<string, string>
  mounts?: Mount[]
  readonlyRootfs?: boolean
  memoryLimitBytes?: number
  /** e.g. 0.5 */
  cpus?: number
  privileged?: boolean
  /** 'CAP_NET_ADMIN' or 'NET_ADMIN'; 'ALL' allowed. */
  capabilities?: { add?: string[]; drop?: string[] }
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** Default 'overlayfs'. */
  snapshotter?: string
  /** Default 'io.containerd.runc.v2'. */
  runtime?: string
  /** 'default' (moby's default profile, for this arch and the container's capabilities: e.g.
   *  CAP_SYS_ADMIN unlocks mount/unshare), 'unconfined', or a profile object in moby's format (an
   *  OCI LinuxSeccomp object is one too). privileged containers are always unconfined. */
  seccomp?: 'default' | 'unconfined' | SeccompProfile
  /** Default true (NoNewPrivs: 1). */
  noNewPrivileges?: boolean
  /** The cgroup's pids.max (> 0). */
  pidsLimit?: number
  /** name 'nofile', 'nproc', 'core'... or 'RLIMIT_NOFILE'; -1 is unlimited; hard defaults to soft.
   *  Replaces the default nofile 1024/1024 when it names it. */
  ulimits?: Ulimit[]
  /** Namespaced only: net.* (not with hostNetwork), fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*. */
  sysctls?: Record<string, string>
  /** An RFC 7386 JSON merge patch applied to the finished OCI spec, last (null removes a key). */
  specPatch?: Record<string, unknown>
  /** Record its tasks' output with time and stream, rotated, readable with `logs()` after this
   *  process is gone (stdio 'log', the default for its tasks). Local daemons only
   *  (FailedPreconditionError over tcp://); not with run() (InvalidArgumentError). */
  log?: boolean | LogOptions
  /** Through containerd's restart monitor (set when a task's start() succeeds). 'always': a task
   *  that stops comes back, also after kill() through this API; 'unless-stopped': as 'always', but
   *  kill() through this API stops the restarts; 'on-failure[:N]' needs containerd >= 1.7
   *  (FailedPreconditionError before); 'no' (the default). Not with run(). */
  restart?: RestartPolicy
  signal?: AbortSignal
}

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`

export interface LogOptions {
  /** Rotate when a file would pass this size (default 10 MiB; at least 4096). */
  maxSizeBytes?: number
  /** Files kept, the one being written included (default 5; 1 to 100). */
  maxFiles?: number
}

export interface LogRecord {
  /** When the logger read the output (the logger keeps nanoseconds; a Date keeps milliseconds). */
  time: Date
  /** 'stdout' or 'stderr' (with a TTY everything is 'stdout'). */
  stream: 'stdout' | 'stderr'
  /** One line, without its newline (lines past 16 KiB come as several records). */
  line: string
  /** Only on the record the logger writes after it had to drop output: how many bytes. */
  dropped?: number
}

export interface LogsOptions {
  /** After the existing records, wait for new ones (across rotation and task restarts) until
   *  the container is deleted. */
  follow?: boolean
  /** Only the last N existing records. */
  tail?: number
  /** Records at or after this time. */
  since?: Date | number
  /** Records before this time (and with `follow`, stop then). */
  until?: Date | number
  /** Ends the iteration with a CancelledError. */
  signal?: AbortSignal
}

export interface Ulimit {
  name: string
  soft: number
  hard?: number
}

/** moby's seccomp profile format (see moby/profiles seccomp/default.json). */
export interface SeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }>
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: Array<{
    name?: string
    names?: string[]
    action: string
    errnoRet?: number
    args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>
    comment?: string
    includes?: { caps?: string[]; arches?: string[]; minKernel?: string }
    excludes?: { caps?: string[]; arches?: string[]; minKernel?: string }
  }>
}

export interface NetworkOptions {
  /** IPv4 CIDR, e.g. '10.90.0.0/24'; default: a free /24 of 10.90.0.0/16 that no host route uses. */
  subnet?: string
  /** Default: the subnet's first address. */
  gateway?: string
  /** Masquerade outgoing traffic (default true). */
  ipMasq?: boolean
  labels?: Record<string, string>
  signal?: AbortSignal
}

export interface NetworkInfo {
  name: string
  subnet: string
  gateway: string
  /** The host's bridge device (cnapi + 10 hex digits). */
  bridge: string
  ipMasq: boolean
  labels: Record<string, string>
}

export interface PortMapping {
  hostPort: number
  containerPort: number
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp'
  /** Default '0.0.0.0'; '127.0.0.1' publishes on loopback only. */
  hostIp?: string
}

export interface ContainerNetwork {
  name: string
  ip: string
  gateway: string
  ports: Array<Required<PortMapping>>
}

export interface TaskOptions {
  /** Default 'log' for a container made with `log` ('log' elsewhere: FailedPreconditionError),
   *  else 'pipe': Node streams (unread output eventually blocks the container's writes; use
   *  'ignore' or logFile when detached). 'inherit': this process's stdout/stderr. 'ignore': /dev/null. */
  stdio?: 'pipe' | 'inherit' | 'ignore' | 'log'
  /** Open a writable stdin (default false); ending it closes the process's stdin. */
  stdin?: boolean
  /** Absolute path on the daemon's host: the shim appends stdout and stderr there (not for a
   *  container made with `log`: InvalidArgumentError). */
  logFile?: string
  signal?: AbortSignal
}

export interface ExitStatus {
  exitCode: number
  exitedAt: Date
}

export type TaskStatus = 'created' | 'running' | 'stopped' | 'paused' | 'pausing' | 'unknown'

export declare class Container {
  private constructor()
  readonly id: string
  readonly image: string
  readonly labels: Record<string, string>
  readonly snapshotter: string
  readonly snapshotKey: string
  readonly runtime: string
  readonly createdAt: Date
  readonly updatedAt: Date
  /** The OCI runtime spec, as JSON. */
  spec(options?: CallOptions): Promise<Record<string, any>>
  /** Merges; null removes a key. Resolves with the updated container. */
  setLabels(labels: Record<string, string | null>, options?: CallOptions): Promise<Container>
  /** Sets the restart policy (a running task is put under it at once; 'no' ends it) and merges
   *  labels (null removes one). Resolves with the updated container. */
  update(changes: { restart?: RestartPolicy; labels?: Record<string, string | null> }, options?: CallOptions): Promise<Container>
  /** The task's stdio streams are typed by the options: `stdio: 'pipe'` gives `stdout`; `stdin:
   *  true` with it gives `stdin`; no `stdio` (the container's log if it has one, else pipes) gives
   *  them `| null`; 'ignore', 'inherit', 'log' and `logFile` give none. `stderr` is null with a
   *  TTY (the container's `tty`), so it stays `| null` under 'pipe'. */
  newTask<const O extends TaskOptions = {}>(options?: O & NoExtraKeys<O, TaskOptions>): Promise<Task<TaskStdin<O>, TaskStdout<O>, TaskStderr<O>>>
  /** The existing task, re-attached without stdio (NotFoundError if none). */
  task(options?: CallOptions): Promise<Task<null, null, null>>
  /** Its network's name, IP, gateway and published ports; null for none/host. */
  network(options?: CallOptions): Promise<ContainerNetwork | null>
  /** Default removes the snapshot, the network attachment and the log directory too. While the container has a task
   *  (running, or stopped but not deleted): FailedPreconditionError, nothing changed. */
  delete(options?: { snapshot?: boolean; signal?: AbortSignal }): Promise<void>
  /**
   * Its filesystem changes as one new layer on its image, as image `name` (normalised like a pull's
   * reference). A running task is paused while the diff is taken unless `pause: false`.
   */
  commit(name: string, options?: CommitOptions): Promise<Image>
  /** Kills and deletes its task if any, then delete(). */
  [Symbol.asyncDispose](): Promise<void>
  /** Its log (a container made with `log`): NotFoundError on the first next() otherwise. */
  logs(options?: LogsOptions): AsyncIterableIterator<LogRecord>
}

type Writable = import('node:stream').Writable
type Readable = import('node:stream').Readable
/** Rejects keys that `Options` does not have (a generic parameter escapes excess-property checks). */
type NoExtraKeys<O, Options> = { [K in Exclude<keyof O, keyof Options>]: never }
/** 'yes': the stream exists; 'no': it is null; 'maybe': the options leave it open. */
type Presence = 'yes' | 'no' | 'maybe'
type Stream<T, P extends Presence> = P extends 'yes' ? T : P extends 'no' ? null : T | null
type StdinPresence<O, Out extends Presence> = O extends { stdin: true } ? Out
  : 'stdin' extends keyof O ? (O extends { stdin: false | undefined } ? 'no' : Out extends 'no' ? 'no' : 'maybe') : 'no'
type TaskOut<O> = O extends { logFile: string } ? 'no' : O extends { stdio: 'pipe' } ? 'yes'
  : O extends { stdio: 'inherit' | 'ignore' | 'log' } ? 'no' : 'maybe'
/** The stdio a task made with options `O` has (see Container.newTask). */
export type TaskStdin<O> = Stream<Writable, StdinPresence<O, TaskOut<O>>>
export type TaskStdout<O> = Stream<Readable, TaskOut<O>>
export type TaskStderr<O> = Stream<Readable, TaskOut<O> extends 'no' ? 'no' : 'maybe'>
type ExecOut<O> = O extends { stdio: 'inherit' | 'ignore' } ? 'no' : O extends { stdio: 'pipe' } ? 'yes'
  : 'stdio' extends keyof O ? (O extends { stdio: undefined } ? 'yes' : 'maybe') : 'yes'
type ExecErr<O> = ExecOut<O> extends 'no' ? 'no' : O extends { tty: true } ? 'no'
  : 'tty' extends keyof O ? (O extends { tty: false | undefined } ? ExecOut<O> : 'maybe') : ExecOut<O>
/** The stdio an exec process made with options `O` has (see Task.exec). */
export type ExecStdin<O> = Stream<Writable, StdinPresence<O, ExecOut<O>>>
export type ExecStdout<O> = Stream<Readable, ExecOut<O>>
export type ExecStderr<O> = Stream<Readable, ExecErr<O>>

/** A task's or exec's process. The type parameters are its stdio streams: a `Writable`/`Readable`
 *  where the options made them, null where they cannot exist (see newTask and exec). */
export declare class Process<
  Stdin extends Writable | null = Writable | null,
  Stdout extends Readable | null = Readable | null,
  Stderr extends Readable | null = Readable | null,
> {
  protected constructor()
  readonly id: string
  /** 0 for an exec process until start() resolves. */
  readonly pid: number
  readonly stdin: Stdin
  readonly stdout: Stdout
  readonly stderr: Stderr
  start(options?: CallOptions): Promise<void>
  /** Never misses an exit, whenever it is called; keeps waiting across a daemon restart. */
  wait(options?: CallOptions): Promise<ExitStatus>
  /** Default 'SIGTERM'; names ('SIGKILL', 'term', 'SIGRTMIN+1') or numbers. */
  kill(signal?: string | number, options?: CallOptions): Promise<void>
  resize(cols: number, rows: number, options?: CallOptions): Promise<void>
  closeStdin(options?: CallOptions): Promise<void>
  delete(options?: CallOptions): Promise<ExitStatus>
  /** SIGKILL if running, wait, delete (a never-started exec process is only deleted); gone is fine. */
  [Symbol.asyncDispose](): Promise<void>
}

export interface TaskMetrics {
  memoryBytes?: number
  cpuUsageNanos?: number
  pids?: number
  /** The decoded cgroup v1 or v2 metrics, camelCase keys. */
  raw: Record<string, any>
}

export interface ResourceUpdate {
  memoryLimitBytes?: number
  /** CPUs' worth of time per 100 ms period (CFS quota), at least 0.01. */
  cpus?: number
  pidsLimit?: number
}

export interface TaskStats {
  time: Date
  /** CPU time over wall time since the previous sample, in percent of one CPU. */
  cpuPercent: number
  memoryBytes: number
  /** Absent when unlimited. */
  memoryLimitBytes?: number
  pids: number
  /** The container's interfaces (all but lo) when it has a network of this client's. */
  netRxBytes?: number
  netTxBytes?: number
}

export declare class Task<
  Stdin extends Writable | null = Writable | null,
  Stdout extends Readable | null = Readable | null,
  Stderr extends Readable | null = Readable | null,
> extends Process<Stdin, Stdout, Stderr> {
  status(options?: CallOptions): Promise<{ status: TaskStatus; exitCode?: number }>
  /** SIGKILL if running, wait, delete. */
  [Symbol.asyncDispose](): Promise<void>
  pause(options?: CallOptions): Promise<void>
  resume(options?: CallOptions): Promise<void>
  pids(options?: CallOptions): Promise<number[]>
  metrics(options?: CallOptions): Promise<TaskMetrics>
  /** New cgroup limits for the running task (a stopped one: FailedPreconditionError). */
  update(resources: ResourceUpdate, options?: CallOptions): Promise<void>
  /** A sample every `intervalMs` (default 1000, 50 to 3600000); ends when the task exits. */
  stats(options?: { intervalMs?: number; signal?: AbortSignal }): AsyncIterableIterator<TaskStats>
  kill(signal?: string | number, options?: { all?: boolean; signal?: AbortSignal }): Promise<void>
  /** Adds a process to the running task; start() runs it. Duplicate ids are AlreadyExistsError. */
  /** The process's stdio is typed by the options: no `stdio` or 'pipe' gives `stdout`, and
   *  `stderr` unless `tty: true`; `stdin: true` gives `stdin`. */
  exec<const O extends ExecOptions>(execId: string, options: O & NoExtraKeys<O, ExecOptions>): Promise<Process<ExecStdin<O>, ExecStdout<O>, ExecStderr<O>>>
}

export interface ExecOptions {
  args: readonly string[]
  /** Merged over the container's process env. */
  env?: readonly string[] | Record<string, string>
  cwd?: string
  user?: string
  tty?: boolean
  stdio?: 'pipe' | 'inherit' | 'ignore'
  stdin?: boolean
  signal?: AbortSignal
}

export interface RunOptions extends Omit<ContainerOptions, 'image' | 'args'> {
  /** Default: a random id. */
  id?: string
  /** Pull the image if missing (default true); options for that pull. */
  pull?: boolean | Omit<PullOptions, 'onProgress' | 'signal'>
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer
  /** The whole run's budget, from the call: a pull or setup still going when it passes is
   *  aborted and cleaned up (DeadlineExceededError); a process still running is killed with
   *  SIGKILL, cleaned up, and the DeadlineExceededError's `stdout`/`stderr` hold its output so far. */
  timeoutMs?: number
  /** Bytes kept per stream (default 64 MiB; Infinity: no limit). More output: the process is
   *  killed, everything cleaned up, and run() rejects with a ResourceExhaustedError whose
   *  `stdout`/`stderr` hold the output up to the limit. */
  maxBuffer?: number
  /** 'buffer': stdout and stderr as Buffers, byte for byte; else decoded (default 'utf8'). */
  encoding?: BufferEncoding | 'buffer'
  signal?: AbortSignal
}

export interface CleanupResult {
  /** Ids of the run() containers removed. */
  containers: string[]
  /** Ids of the leases removed. */
  leases: string[]
  /** What cleanupNetworks() removed (0 for a remote daemon). */
  networks: number
}

export interface RunResult<T extends string | Buffer = string> {
  exitCode: number
  stdout: T
  stderr: T
  exitedAt: Date
}

// ---------- events ----------

export interface SubscribeOptions {
  /** containerd filter syntax, e.g. 'topic=="/tasks/exit"', 'topic~="/containers/"' (combined with OR). */
  filters?: readonly string[]
  /** Events of every namespace, not only this client's. */
  allNamespaces?: boolean
  /** Events that may wait for the consumer before the stream fails with ResourceExhaustedError (default 4096). */
  queueLimit?: number
  signal?: AbortSignal
}

/** Any event: the stream's items when its filters do not pin the topics (see subscribe()). */
export interface ContainerdEvent {
  namespace: string
  topic: string
  timestamp: Date
  /** e.g. 'containerd.events.TaskExit' */
  type: string
  /** Decoded payload: camelCase fields, Dates for timestamps; nested Anys decoded when known, else
   *  { typeUrl, value: Buffer }; null for unknown types. */
  event: Record<string, any> | null
  /** The payload bytes, for unknown types. */
  raw?: Buffer
}

/** One known event: its topic, its type and its decoded payload. */
interface TypedEvent<Topic extends string, Type extends string, Payload> {
  namespace: string
  topic: Topic
  timestamp: Date
  type: Type
  event: Payload
}
export interface EventMount { type: string; source: string; target: string; options: string[] }
/** The payloads of the common events (containerd 1.6, api/events), keyed by topic and type. */
export type KnownEvent =
  | TypedEvent<'/tasks/create', 'containerd.events.TaskCreate', { containerId: string; bundle: string; rootfs: EventMount[]; io: { stdin: string; stdout: string; stderr: string; terminal: boolean }; checkpoint: string; pid: number }>
  | TypedEvent<'/tasks/start', 'containerd.events.TaskStart', { containerId: string; pid: number }>
  | TypedEvent<'/tasks/exit', 'containerd.events.TaskExit', { containerId: string; id: string; pid: number; exitStatus: number; exitedAt: Date }>
  | TypedEvent<'/tasks/delete', 'containerd.events.TaskDelete', { containerId: string; id: string; pid: number; exitStatus: number; exitedAt: Date }>
  | TypedEvent<'/tasks/oom', 'containerd.events.TaskOOM', { containerId: string }>
  | TypedEvent<'/tasks/exec-added', 'containerd.events.TaskExecAdded', { containerId: string; execId: string }>
  | TypedEvent<'/tasks/exec-started', 'containerd.events.TaskExecStarted', { containerId: string; execId: string; pid: number }>
  | TypedEvent<'/tasks/paused', 'containerd.events.TaskPaused', { containerId: string }>
  | TypedEvent<'/tasks/resumed', 'containerd.events.TaskResumed', { containerId: string }>
  | TypedEvent<'/containers/create', 'containerd.events.ContainerCreate', { id: string; image: string; runtime?: { name: string; options?: unknown } }>
  | TypedEvent<'/containers/update', 'containerd.events.ContainerUpdate', { id: string; image: string; labels: Record<string, string>; snapshotKey: string }>
  | TypedEvent<'/containers/delete', 'containerd.events.ContainerDelete', { id: string }>
  | TypedEvent<'/images/create', 'containerd.services.images.v1.ImageCreate', { name: string; labels: Record<string, string> }>
  | TypedEvent<'/images/update', 'containerd.services.images.v1.ImageUpdate', { name: string; labels: Record<string, string> }>
  | TypedEvent<'/images/delete', 'containerd.services.images.v1.ImageDelete', { name: string }>
  | TypedEvent<'/namespaces/create', 'containerd.events.NamespaceCreate', { name: string; labels: Record<string, string> }>
  | TypedEvent<'/namespaces/update', 'containerd.events.NamespaceUpdate', { name: string; labels: Record<string, string> }>
  | TypedEvent<'/namespaces/delete', 'containerd.events.NamespaceDelete', { name: string }>
  | TypedEvent<'/snapshot/prepare', 'containerd.events.SnapshotPrepare', { key: string; parent: string; snapshotter: string }>
  | TypedEvent<'/snapshot/commit', 'containerd.events.SnapshotCommit', { key: string; name: string; snapshotter: string }>
  | TypedEvent<'/snapshot/remove', 'containerd.events.SnapshotRemove', { key: string; snapshotter: string }>
  | TypedEvent<'/content/delete', 'containerd.events.ContentDelete', { digest: string }>
export type KnownTopic = KnownEvent['topic']
/** The event for a topic: its known shape, else the general one. */
export type EventOf<Topic extends string> = Topic extends KnownTopic ? Extract<KnownEvent, { topic: Topic }> : ContainerdEvent
/** What a stream with these filters yields: when every filter is `topic=="…"` (filters are ORed),
 *  exactly those topics' events, discriminated by `topic` and `type`; else any event. */
export type FilteredEvent<F extends readonly string[]> = F extends readonly []
  ? ContainerdEvent
  : F[number] extends `topic=="${infer Topic}"` ? EventOf<Topic> : ContainerdEvent

/** Starts when subscribe() is called; `ready` resolves once the daemon registered it (events after
 *  that are never missed). One consumer: iterate it once. break / return() / close() / abort end the
 *  server stream. A daemon restart ends it with UnavailableError. */
export declare class EventStream<E extends { topic: string; type: string } = ContainerdEvent> implements AsyncIterableIterator<E> {
  private constructor()
  readonly ready: Promise<void>
  next(): Promise<IteratorResult<E, undefined>>
  return(): Promise<IteratorResult<E, undefined>>
  [Symbol.asyncIterator](): EventStream<E>
  close(): void
  /** close(). */
  [Symbol.asyncDispose](): Promise<void>
}

export declare class Client {
  private constructor()
  static connect(options?: ConnectOptions): Promise<Client>
  readonly address: string
  readonly namespace: string
  /** Another view in `namespace` over the same connection; throws InvalidArgumentError. */
  withNamespace(namespace: string): Client
  version(options?: CallOptions): Promise<VersionInfo>
  plugins(options?: CallOptions): Promise<PluginInfo[]>
  /** Closes the shared connection: later calls on every view fail with FailedPreconditionError. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>

  listNamespaces(options?: CallOptions): Promise<NamespaceInfo[]>
  createNamespace(name: string, labels?: Record<string, string>, options?: CallOptions): Promise<void>
  /** containerd 1.6 deletes a missing namespace without error; a non-empty one is FailedPreconditionError. */
  deleteNamespace(name: string, options?: CallOptions): Promise<void>

  /** Pulls (and by default unpacks) an image; on failure or abort nothing it made is left. */
  pull(ref: string, options?: PullOptions): Promise<Image>
  /** Pushes a stored image; blobs the repository has are skipped, others of the same registry mounted. */
  push(name: string, options?: PushOptions): Promise<PushResult>
  /**
   * One tar of the images (each for `platform`, default this host) that is both an OCI image layout and a
   * `docker save` archive (manifest.json), streamed from the content store. Rejects (NotFoundError…) before any byte.
   */
  exportImages(names: string | string[], options?: { platform?: string; signal?: AbortSignal }): Promise<import('node:stream').Readable>
  /** A second name (normalised like a pull's) on `source`'s target; AlreadyExistsError for a taken name unless `force`. */
  /**
   * Imports an OCI image layout tar or a `docker save` tar (plain or gzip) from a path (read on the
   * host of this process), a Buffer or a Readable; streamed, never held whole. Each blob is verified
   * while written (DataLossError), a malformed archive is an InvalidArgumentError; a failure leaves
   * nothing behind. Records are named from the archive (else `import-<date>@<digest>`).
   */
  importImages(source: string | Uint8Array | import('node:stream').Readable, options?: ImportOptions): Promise<Image[]>
  tagImage(source: string, target: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<Image>
  /** `name` as stored, or as a reference that normalises to it ('busybox' → docker.io/library/busybox:latest). */
  getImage(name: string, options?: CallOptions): Promise<Image>
  /** containerd filter syntax, e.g. 'name~="busybox"', 'labels.team==core'. */
  listImages(filters?: string[], options?: CallOptions): Promise<Image[]>
  /** `sync` waits until the garbage collector has removed what only this image held. */
  deleteImage(name: string, options?: { sync?: boolean; signal?: AbortSignal }): Promise<void>
  /** AlreadyExistsError for a taken name; InvalidArgumentError for a subnet overlapping another. */
  createNetwork(name: string, options?: NetworkOptions): Promise<NetworkInfo>
  /** Includes 'bridge', the default network. */
  listNetworks(options?: CallOptions): Promise<NetworkInfo[]>
  /** NotFoundError for an unknown name. */
  getNetwork(name: string, options?: CallOptions): Promise<NetworkInfo>
  /** Removes the network and its bridge; FailedPreconditionError while a container is attached. */
  deleteNetwork(name: string, options?: CallOptions): Promise<void>
  /** Removes what crashed processes left: namespaces, IP leases, iptables rules of no container. */
  cleanupNetworks(options?: CallOptions): Promise<{ removed: number }>
  /** Removes, in this namespace, what processes on this machine that died left behind: run()
   *  containers (task and snapshot too) and leases (their content goes now); then cleanupNetworks()
   *  when the daemon is local. createContainer/ctr containers and live processes' are untouched. */
  cleanup(options?: CallOptions): Promise<CleanupResult>

  /** Unpacks the image first if needed; bad options fail before anything is made. */
  createContainer(id: string, options: ContainerOptions): Promise<Container>
  getContainer(id: string, options?: CallOptions): Promise<Container>
  /** containerd filter syntax, e.g. 'labels.app==web', 'image~="busybox"'. */
  listContainers(filters?: string[], options?: CallOptions): Promise<Container[]>
  listTasks(options?: CallOptions): Promise<Array<{ id: string; pid: number; status: TaskStatus; exitCode?: number; exitedAt?: Date }>>

  /** Returns at once; await `stream.ready` before acting on what you want to observe. */
  /** Filters that are all `topic=="…"` type the events (e.g. `['topic=="/tasks/exit"']`: TaskExit
   *  payloads); any other filter gives ContainerdEvent. */
  subscribe<const F extends readonly string[] = []>(options?: SubscribeOptions & { filters?: F }): EventStream<FilteredEvent<F>>

  /** Like `ctr run --rm`: always removes its task, container and snapshot again. */
  run(image: string | Image, args: string[] | undefined, options: RunOptions & { encoding: 'buffer' }): Promise<RunResult<Buffer>>
  run(image: string | Image, args?: string[], options?: RunOptions): Promise<RunResult>
}

// ---------- errors ----------

export type ErrorCode =
  | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION' | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED' | 'CANCELLED' | 'PERMISSION_DENIED' | 'UNAUTHENTICATED' | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED' | 'DATA_LOSS' | 'INTERNAL' | 'UNKNOWN' | 'ABORTED' | 'OUT_OF_RANGE'

export declare class ContainerdError extends Error {
  constructor(message: string, options?: { code?: ErrorCode; details?: string; cause?: unknown })
  code: ErrorCode
  /** The gRPC status code number. */
  grpcCode: number
  /** The daemon's (or registry's) own message. */
  details?: string
}
export declare class NotFoundError extends ContainerdError { code: 'NOT_FOUND' }
export declare class AlreadyExistsError extends ContainerdError { code: 'ALREADY_EXISTS' }
export declare class InvalidArgumentError extends ContainerdError { code: 'INVALID_ARGUMENT' }
export declare class FailedPreconditionError extends ContainerdError { code: 'FAILED_PRECONDITION' }
export declare class UnavailableError extends ContainerdError { code: 'UNAVAILABLE' }
export declare class DeadlineExceededError extends ContainerdError {
  code: 'DEADLINE_EXCEEDED'
  /** From run() with timeoutMs: the output captured before the process was killed. */
  stdout?: string
  stderr?: string
}
export declare class CancelledError extends ContainerdError { code: 'CANCELLED' }
export declare class PermissionDeniedError extends ContainerdError { code: 'PERMISSION_DENIED' }
export declare class UnauthenticatedError extends ContainerdError { code: 'UNAUTHENTICATED' }
export declare class ResourceExhaustedError extends ContainerdError {
  code: 'RESOURCE_EXHAUSTED'
  /** From run() past maxBuffer: the output up to the limit (Buffers with encoding 'buffer'). */
  stdout?: string | Buffer
  stderr?: string | Buffer
}
export declare class UnimplementedError extends ContainerdError { code: 'UNIMPLEMENTED' }
export declare class DataLossError extends ContainerdError { code: 'DATA_LOSS' }
export declare class InternalError extends ContainerdError { code: 'INTERNAL' }
export declare class UnknownError extends ContainerdError { code: 'UNKNOWN' }
export declare class AbortedError extends ContainerdError { code: 'ABORTED' }
export declare class OutOfRangeError extends ContainerdError { code: 'OUT_OF_RANGE' }

/**
 * The HTTP status a server should answer for an error: NotFound 404, AlreadyExists and
 * FailedPrecondition 409, InvalidArgument 400, Unauthenticated 401, PermissionDenied 403,
 * ResourceExhausted 429, Unavailable 503, DeadlineExceeded 504; anything else (including
 * errors that are not ContainerdErrors) 500.
 */
export declare function httpStatus(err: unknown): 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503 | 504
