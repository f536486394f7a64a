// containerd-napi as an ES module: the same objects as require('containerd-napi') (index.js), each
// a named export. The list is static so that every runtime's ESM loader sees it; the unit tier
// holds it equal to index.js's keys. Importing this loads the lazily loaded classes at once.
import cjs from './index.js'

export const {
  Client, httpStatus, ContainerdError, CancelledError, UnknownError, InvalidArgumentError,
  DeadlineExceededError, NotFoundError, AlreadyExistsError, PermissionDeniedError,
  ResourceExhaustedError, FailedPreconditionError, AbortedError, OutOfRangeError,
  UnimplementedError, InternalError, UnavailableError, DataLossError, UnauthenticatedError,
  Image, Container, Task, Process, EventStream,
} = cjs

export default cjs
