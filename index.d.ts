// Type definitions for containerd-napi (hand-written; the public face described in API.md).
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
  /** `name` as stored, or as a reference that normalises to it ('busybox' → docker.io/library/busybox:latest). */
  getImage(name: string, options?: CallOptions): Promise<Image>
  /** containerd filter syntax, e.g. 'name~="busybox"', 'labels.team==core'. */
  listImages(filters?: string[], options?: CallOptions): Promise<Image[]>
  /** `sync` waits until the garbage collector has removed what only this image held. */
  deleteImage(name: string, options?: { sync?: boolean; signal?: AbortSignal }): Promise<void>
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
export declare class DeadlineExceededError extends ContainerdError { code: 'DEADLINE_EXCEEDED' }
export declare class CancelledError extends ContainerdError { code: 'CANCELLED' }
export declare class PermissionDeniedError extends ContainerdError { code: 'PERMISSION_DENIED' }
export declare class UnauthenticatedError extends ContainerdError { code: 'UNAUTHENTICATED' }
export declare class ResourceExhaustedError extends ContainerdError { code: 'RESOURCE_EXHAUSTED' }
export declare class UnimplementedError extends ContainerdError { code: 'UNIMPLEMENTED' }
export declare class DataLossError extends ContainerdError { code: 'DATA_LOSS' }
export declare class InternalError extends ContainerdError { code: 'INTERNAL' }
export declare class UnknownError extends ContainerdError { code: 'UNKNOWN' }
export declare class AbortedError extends ContainerdError { code: 'ABORTED' }
export declare class OutOfRangeError extends ContainerdError { code: 'OUT_OF_RANGE' }
