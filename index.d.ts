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
