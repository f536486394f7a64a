//! Short unary calls done on the JS thread that makes them.
//!
//! A call spawned on the tokio runtime costs three thread wake-ups: a worker to send it, the
//! worker again for the answer, then the JS thread to settle the promise. Here each JS thread
//! has its own HTTP/2 connection per client connection, its socket watched by libuv (`uv_poll`),
//! and a small executor that polls the calls and hyper's connection tasks when the socket is
//! ready: the calls started in one turn of the event loop are written together at the start of
//! the next, and the answer costs one wake-up, the JS thread's own. See `core::transport` for
//! how calls pick the connection up.
//!
//! Node only: libuv's functions are looked up at run time and lib/native.js enables this on
//! Node; Deno and Bun (which do not run libuv) keep the worker path. Nothing CPU-heavy may run
//! here: it would stall the event loop.

use super::runtime;
use super::settle::JsThread;
use crate::core;
use crate::core::transport::{with_thread_channel, ThreadChannel};
use napi::sys;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns the JS-thread path on or off for calls started from now on (lib/native.js: on for Node).
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled && uv().is_some(), Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

// ---- libuv, looked up in the host process -------------------------------------------------

const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;
const UV_IDLE: c_int = 6; // uv_handle_type
const UV_POLL: c_int = 8;

type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
type CloseCb = unsafe extern "C" fn(*mut c_void);
type PollInit = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int;
type PollStart = unsafe extern "C" fn(*mut c_void, c_int, PollCb) -> c_int;
type PollStop = unsafe extern "C" fn(*mut c_void) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void, Option<CloseCb>);
type Unref = unsafe extern "C" fn(*mut c_void);
type HandleSize = unsafe extern "C" fn(c_int) -> usize;
type IdleCb = unsafe extern "C" fn(*mut c_void);
type IdleInit = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;
type IdleStart = unsafe extern "C" fn(*mut c_void, IdleCb) -> c_int;
type IdleStop = unsafe extern "C" fn(*mut c_void) -> c_int;

struct Uv {
    poll_init: PollInit,
    poll_start: PollStart,
    poll_stop: PollStop,
    close: Close,
    unref: Unref,
    idle_init: IdleInit,
    idle_start: IdleStart,
    idle_stop: IdleStop,
    /// `uv_poll_t`'s and `uv_idle_t`'s sizes in this libuv.
    poll_size: usize,
    idle_size: usize,
}

fn uv() -> Option<&'static Uv> {
    static UV: OnceLock<Option<Uv>> = OnceLock::new();
    UV.get_or_init(|| unsafe {
        use std::mem::transmute;
        let find = |name: &[u8]| {
            let f = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr().cast());
            (!f.is_null()).then_some(f)
        };
        let handle_size = transmute::<*mut c_void, HandleSize>(find(b"uv_handle_size\0")?);
        Some(Uv {
            poll_init: transmute::<*mut c_void, PollInit>(find(b"uv_poll_init\0")?),
            poll_start: transmute::<*mut c_void, PollStart>(find(b"uv_poll_start\0")?),
            poll_stop: transmute::<*mut c_void, PollStop>(find(b"uv_poll_stop\0")?),
            close: transmute::<*mut c_void, Close>(find(b"uv_close\0")?),
            unref: transmute::<*mut c_void, Unref>(find(b"uv_unref\0")?),
            idle_init: transmute::<*mut c_void, IdleInit>(find(b"uv_idle_init\0")?),
            idle_start: transmute::<*mut c_void, IdleStart>(find(b"uv_idle_start\0")?),
            idle_stop: transmute::<*mut c_void, IdleStop>(find(b"uv_idle_stop\0")?),
            poll_size: handle_size(UV_POLL),
            idle_size: handle_size(UV_IDLE),
        })
    })
    .as_ref()
}

/// Memory for a libuv handle (freed in its close callback, which knows only the handle).
fn handle_layout(uv: &Uv) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(uv.poll_size.max(uv.idle_size).max(64), 16).expect("uv handle layout")
}

unsafe extern "C" fn free_handle(handle: *mut c_void) {
    if let Some(uv) = uv() {
        unsafe { std::alloc::dealloc(handle.cast(), handle_layout(uv)) };
    }
}

// ---- the executor -------------------------------------------------------------------------

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Task ids to poll. Wakers push from any thread; a wake from outside a drain asks the JS thread
/// (through the settle threadsafe function) for one.
struct Queue {
    state: Mutex<QueueState>,
    js: JsThread,
}

#[derive(Default)]
struct QueueState {
    ready: Vec<usize>,
    draining: bool,
    scheduled: bool,
}

struct TaskWaker {
    id: usize,
    queue: Arc<Queue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let ask = {
            let mut state = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
            state.ready.push(self.id);
            let ask = !state.draining && !state.scheduled;
            state.scheduled |= ask;
            ask
        };
        if ask {
            self.queue.js.run(|env| with_executor(env, Executor::drain_in_scope));
        }
    }
}

struct Lent {
    channel: ThreadChannel,
    /// False once no client refers to the connection any more.
    alive: Box<dyn Fn() -> bool>,
}

struct Executor {
    env: sys::napi_env,
    uv_loop: *mut c_void,
    uv: &'static Uv,
    tasks: RefCell<Vec<Option<Task>>>,
    /// One waker per task slot, made once (a slot's waker wakes whichever task holds it).
    wakers: RefCell<Vec<Waker>>,
    free: RefCell<Vec<usize>>,
    queue: Arc<Queue>,
    connections: RefCell<HashMap<usize, Lent>>,
    /// Sockets with output to send, and whether this drain sends it (the one from `on_idle`).
    unsent: RefCell<Vec<Rc<Watch>>>,
    send_now: Cell<bool>,
    async_context: sys::napi_async_context,
    /// A `uv_idle_t`: calls started during one turn of the event loop are polled together at the
    /// start of the next, so a burst of calls goes out in one write.
    idle: *mut c_void,
    idle_armed: Cell<bool>,
}

thread_local! {
    /// This thread's executor (one JS environment per thread).
    static EXECUTOR: RefCell<Option<Rc<Executor>>> = const { RefCell::new(None) };
}

fn current() -> Option<Rc<Executor>> {
    EXECUTOR.with_borrow(|e| e.clone())
}

/// The environment of this thread's executor: for a task it polls, the one to settle in.
pub fn current_env() -> Option<sys::napi_env> {
    EXECUTOR.with_borrow(|e| e.as_ref().map(|e| e.env))
}

fn with_executor(env: sys::napi_env, f: impl FnOnce(&Executor)) {
    if let Some(executor) = current().filter(|e| e.env == env) {
        f(&executor);
    }
}

fn executor(env: sys::napi_env) -> Option<Rc<Executor>> {
    if let Some(executor) = current().filter(|e| e.env == env) {
        return Some(executor);
    }
    let uv = uv()?;
    let mut uv_loop = std::ptr::null_mut();
    if unsafe { sys::napi_get_uv_event_loop(env, &mut uv_loop) } != sys::Status::napi_ok || uv_loop.is_null() {
        return None;
    }
    let mut async_context = std::ptr::null_mut();
    let mut name = std::ptr::null_mut();
    let label = "containerd-napi";
    unsafe {
        if sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name)
            != sys::Status::napi_ok
            || sys::napi_async_init(env, std::ptr::null_mut(), name, &mut async_context) != sys::Status::napi_ok
        {
            return None;
        }
    }
    let js = JsThread::of(env).ok()?;
    let idle = unsafe { std::alloc::alloc_zeroed(handle_layout(uv)) }.cast::<c_void>();
    if idle.is_null() || unsafe { (uv.idle_init)(uv_loop.cast(), idle) } < 0 {
        return None; // (a handle uv_idle_init refused is not registered anywhere: leaking it is safe)
    }
    // Pending calls hold the loop open (the settle threadsafe function), not this handle.
    unsafe { (uv.unref)(idle) };
    let executor = Rc::new(Executor {
        env,
        uv_loop: uv_loop.cast(),
        uv,
        tasks: RefCell::default(),
        wakers: RefCell::default(),
        free: RefCell::default(),
        queue: Arc::new(Queue { state: Mutex::default(), js }),
        connections: RefCell::default(),
        unsent: RefCell::default(),
        send_now: Cell::new(false),
        async_context,
        idle,
        idle_armed: Cell::new(false),
    });
    if unsafe { sys::napi_add_env_cleanup_hook(env, Some(teardown), env.cast()) } != sys::Status::napi_ok {
        unsafe {
            (uv.close)(idle, Some(free_handle));
            sys::napi_async_destroy(env, async_context);
        }
        return None;
    }
    EXECUTOR.with_borrow_mut(|e| *e = Some(executor.clone()));
    Some(executor)
}

/// The environment is going away: drop every task and connection (closing their uv handles).
unsafe extern "C" fn teardown(data: *mut c_void) {
    let env: sys::napi_env = data.cast();
    let executor = EXECUTOR.with_borrow_mut(|e| if e.as_ref().is_some_and(|e| e.env == env) { e.take() } else { None });
    if let Some(executor) = executor {
        executor.connections.borrow_mut().clear();
        let tasks = std::mem::take(&mut *executor.tasks.borrow_mut());
        drop(tasks);
        unsafe { (executor.uv.close)(executor.idle, Some(free_handle)) };
        unsafe { sys::napi_async_destroy(env, executor.async_context) };
    }
}

impl Executor {
    fn spawn(&self, task: Task) {
        let id = match self.free.borrow_mut().pop() {
            Some(id) => {
                self.tasks.borrow_mut()[id] = Some(task);
                id
            }
            None => {
                let mut tasks = self.tasks.borrow_mut();
                tasks.push(Some(task));
                let id = tasks.len() - 1;
                self.wakers.borrow_mut().push(Waker::from(Arc::new(TaskWaker { id, queue: self.queue.clone() })));
                id
            }
        };
        self.queue.state.lock().unwrap_or_else(|e| e.into_inner()).ready.push(id);
    }

    /// Polls the ready tasks at the start of the next turn of the event loop.
    fn drain_soon(&self) {
        if !self.idle_armed.replace(true) {
            unsafe { (self.uv.idle_start)(self.idle, on_idle) };
        }
    }

    /// Polls ready tasks until none is left. Callers are on the JS thread, in a JS call or a
    /// callback scope (a promise settled here runs its reactions when that scope closes).
    fn drain(&self) {
        {
            let mut state = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.draining {
                return; // the drain further up the stack picks the new work up
            }
            state.draining = true;
            state.scheduled = false;
        }
        let _runtime = runtime::handle().ok().map(|h| h.enter()); // timers, tokio::sync
                                                                  // Should anything below unwind (task polls catch their own panics), clears `draining`
                                                                  // so that later drains still run.
        struct Reset<'a> {
            queue: &'a Queue,
            unwinding: bool,
        }
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                if self.unwinding {
                    self.queue.state.lock().unwrap_or_else(|e| e.into_inner()).draining = false;
                }
            }
        }
        let mut reset = Reset { queue: &self.queue, unwinding: true };
        let send = self.send_now.replace(false);
        loop {
            let ready = std::mem::take(&mut self.queue.state.lock().unwrap_or_else(|e| e.into_inner()).ready);
            if ready.is_empty() {
                // Everything polled. What the tasks wrote goes out at the start of the next turn
                // of the loop, together with the calls JS starts before then: an answer's PING
                // ACK and the next request leave in one write.
                if !send {
                    if !self.unsent.borrow().is_empty() {
                        self.drain_soon();
                    }
                } else {
                    let unsent = std::mem::take(&mut *self.unsent.borrow_mut());
                    unsent.iter().for_each(|watch| watch.flush()); // may wake writers
                }
                let mut state = self.queue.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.ready.is_empty() {
                    // Under the lock of the last look: a wake after it asks for a new drain.
                    state.draining = false;
                    reset.unwinding = false;
                    break;
                }
                continue;
            }
            for id in ready {
                self.poll(id);
            }
        }
    }

    fn poll(&self, id: usize) {
        // Taken out while polled: the task may spawn others (hyper does).
        let Some(mut task) = self.tasks.borrow_mut().get_mut(id).and_then(Option::take) else {
            return; // finished already; a late wake
        };
        let waker = self.wakers.borrow()[id].clone();
        let mut cx = Context::from_waker(&waker);
        // A panic ends only its task (dropping it rejects the call's promise), never the loop.
        match catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(&mut cx))) {
            Ok(Poll::Pending) => self.tasks.borrow_mut()[id] = Some(task),
            Ok(Poll::Ready(())) | Err(_) => {
                drop(task);
                self.free.borrow_mut().push(id);
            }
        }
    }

    /// [`Self::drain`] from a libuv callback or the threadsafe function: with a handle scope and
    /// a callback scope, so settled promises' reactions run before control returns to libuv.
    fn drain_in_scope(&self) {
        let env = self.env;
        unsafe {
            let mut handles = std::ptr::null_mut();
            if sys::napi_open_handle_scope(env, &mut handles) != sys::Status::napi_ok {
                return;
            }
            let mut resource = std::ptr::null_mut();
            let mut scope = std::ptr::null_mut();
            let scoped = sys::napi_create_object(env, &mut resource) == sys::Status::napi_ok
                && sys::napi_open_callback_scope(env, resource, self.async_context, &mut scope) == sys::Status::napi_ok;
            self.drain();
            if scoped {
                sys::napi_close_callback_scope(env, scope);
            }
            sys::napi_close_handle_scope(env, handles);
        }
    }
}

unsafe extern "C" fn on_idle(handle: *mut c_void) {
    let Some(executor) = current() else { return };
    unsafe { (executor.uv.idle_stop)(handle) };
    executor.idle_armed.set(false);
    executor.send_now.set(true);
    executor.drain_in_scope();
}

/// hyper's tasks for a thread connection run on that thread's executor.
#[derive(Clone, Copy)]
struct ThreadExec;

impl<F: Future<Output = ()> + 'static> hyper::rt::Executor<F> for ThreadExec {
    fn execute(&self, fut: F) {
        if let Some(executor) = current() {
            executor.spawn(Box::pin(fut));
        }
    }
}

// ---- lending a connection -----------------------------------------------------------------

/// This JS thread's connection for one client connection, ready to run calls over.
pub struct Lease {
    executor: Rc<Executor>,
    id: usize,
    channel: ThreadChannel,
}

impl Lease {
    /// Runs `fut` on this thread with the connection lent to the calls it makes, from the next
    /// turn of the event loop on.
    pub fn run(self, fut: impl Future<Output = ()> + 'static) {
        let (id, channel) = (self.id, self.channel);
        let mut fut = Box::pin(fut);
        self.executor.spawn(Box::pin(std::future::poll_fn(move |cx| {
            with_thread_channel(id, &channel, || fut.as_mut().poll(cx))
        })));
        self.executor.drain_soon();
    }
}

/// Closes this thread's connection for `client` (after `close()`).
pub fn release(env: sys::napi_env, client: &core::Client) {
    with_executor(env, |executor| {
        executor.connections.borrow_mut().remove(&client.connection_id());
    });
}

/// This thread's connection for `client`, dialled on first use; `None` where the JS-thread
/// path does not apply (not enabled, not Node, tcp://, closed client, daemon unreachable now:
/// the worker path then reports errors as usual).
pub fn lend(env: sys::napi_env, client: &core::Client) -> Option<Lease> {
    if !enabled() {
        return None;
    }
    let executor = executor(env)?;
    let id = client.connection_id();
    if let Some(lent) = executor.connections.borrow().get(&id).filter(|l| l.channel.is_open()) {
        return Some(Lease { executor: executor.clone(), id, channel: lent.channel.clone() });
    }
    let path = client.unix_socket()?;
    // Connections of clients gone or closed since: let go of them (their sockets close).
    executor.connections.borrow_mut().retain(|_, l| l.channel.is_open() && (l.alive)());
    let socket = UvSocket::connect(&executor, &path).ok()?;
    let alive = client.liveness();
    let handshake = ThreadChannel::handshake(socket, ThreadExec);
    let setup = executor.clone();
    executor.spawn(Box::pin(async move {
        let Ok((channel, driver)) = handshake.await else { return };
        let lent = Lent { channel, alive: Box::new(move || alive.strong_count() > 0) };
        setup.connections.borrow_mut().insert(id, lent);
        driver.await;
    }));
    executor.drain(); // the handshake only writes the preface: done by now
    let channel = executor.connections.borrow().get(&id)?.channel.clone();
    Some(Lease { executor, id, channel })
}

// ---- a unix socket watched by uv_poll -----------------------------------------------------

/// What the poll callback and the socket share.
struct Watch {
    handle: *mut c_void,
    uv: &'static Uv,
    /// The socket (owned by the UvSocket; `closed` once that is gone).
    fd: c_int,
    closed: Cell<bool>,
    /// Bytes written by h2 and not sent yet: sent by the next drain of `on_idle`, so that the
    /// frames of the calls started in one turn of the loop (headers, then data once the stream
    /// has capacity, and the PING ACK of the last answer) leave in one write and the daemon reads
    /// them in one go.
    out: RefCell<Vec<u8>>,
    read: Cell<Option<Waker>>,
    write: Cell<Option<Waker>>,
    interest: Cell<c_int>,
    /// Events the socket may be ready for: cleared by EAGAIN, set by libuv. Saves the read that
    /// would only say EAGAIN again (h2 tries to read after every write).
    ready: Cell<c_int>,
    failed: Cell<bool>,
}

/// Past this much unsent output, writers wait for the socket (backpressure).
const OUT_LIMIT: usize = 1 << 20;

impl Watch {
    /// Sends what is buffered, until done or the socket is full (then waits for it).
    fn flush(&self) {
        let mut out = self.out.borrow_mut();
        while !out.is_empty() && !self.closed.get() && !self.failed.get() {
            let n = unsafe { libc::send(self.fd, out.as_ptr().cast(), out.len(), libc::MSG_NOSIGNAL) };
            if n >= 0 {
                out.drain(..n as usize);
                continue;
            }
            match io::Error::last_os_error().kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => {
                    self.ready.set(self.ready.get() & !UV_WRITABLE);
                    self.want(UV_WRITABLE);
                    return;
                }
                _ => self.fail(), // the connection's task then ends its calls
            }
        }
        if out.is_empty() {
            if let Some(waker) = self.write.take() {
                waker.wake(); // a writer waiting for room
            }
        }
    }

    /// Reads and writes fail from now on; whoever waits is woken to see it.
    fn fail(&self) {
        self.failed.set(true);
        for slot in [&self.read, &self.write] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
    }

    fn want(&self, event: c_int) {
        self.set_interest(self.interest.get() | event);
    }

    fn set_interest(&self, events: c_int) {
        if events == self.interest.get() {
            return;
        }
        let status = unsafe {
            if events == 0 {
                (self.uv.poll_stop)(self.handle)
            } else {
                (self.uv.poll_start)(self.handle, events, on_poll)
            }
        };
        self.interest.set(events);
        if status < 0 {
            self.fail();
        }
    }
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, events: c_int) {
    // uv_handle_t's first field is `void* data`: ours points at the Watch.
    let watch = unsafe { &*(*(handle as *mut *const Watch)) };
    let Some(executor) = current() else { return };
    // The drain below polls what these wakes queue: no need to ask for another.
    executor.queue.state.lock().unwrap_or_else(|e| e.into_inner()).scheduled = true;
    watch.ready.set(watch.ready.get() | events | if status < 0 { UV_READABLE | UV_WRITABLE } else { 0 });
    if status < 0 {
        watch.set_interest(0);
        watch.fail();
    } else {
        // WRITABLE is wanted only while output waits (flush asks again if it must).
        let mut keep = watch.interest.get() & !(events & UV_WRITABLE);
        if events & UV_READABLE != 0 {
            // Level-triggered: with nobody reading, stop watching rather than spin.
            match watch.read.take() {
                Some(waker) => waker.wake(),
                None => keep &= !UV_READABLE,
            }
        }
        watch.set_interest(keep);
        if events & UV_WRITABLE != 0 {
            watch.flush();
        }
    }
    executor.drain_in_scope();
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
    let Some(uv) = uv() else { return };
    unsafe {
        drop(Rc::from_raw(*(handle as *mut *const Watch)));
        std::alloc::dealloc(handle.cast(), handle_layout(uv));
    }
}

struct UvSocket {
    fd: OwnedFd,
    watch: Rc<Watch>,
}

impl UvSocket {
    /// A non-blocking connect: a unix socket connects at once or fails (it never blocks the loop).
    fn connect(executor: &Executor, path: &std::path::Path) -> io::Result<UvSocket> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        if bytes.len() >= address.sun_path.len() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        address.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, src) in address.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        let fd =
            unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let length = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        if unsafe { libc::connect(fd.as_raw_fd(), (&raw const address).cast(), length) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let uv = executor.uv;
        let handle = unsafe { std::alloc::alloc_zeroed(handle_layout(uv)) }.cast::<c_void>();
        if handle.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        if unsafe { (uv.poll_init)(executor.uv_loop, handle, fd.as_raw_fd()) } < 0 {
            unsafe { std::alloc::dealloc(handle.cast(), handle_layout(uv)) };
            return Err(io::Error::other("uv_poll_init failed"));
        }
        let watch = Rc::new(Watch {
            handle,
            uv,
            fd: fd.as_raw_fd(),
            closed: Cell::new(false),
            out: RefCell::default(),
            read: Cell::new(None),
            write: Cell::new(None),
            interest: Cell::new(0),
            ready: Cell::new(UV_READABLE | UV_WRITABLE),
            failed: Cell::new(false),
        });
        unsafe {
            *(handle as *mut *const Watch) = Rc::into_raw(watch.clone());
            // Pending calls hold the loop open (the settle threadsafe function), not the socket.
            (uv.unref)(handle);
        }
        Ok(UvSocket { fd, watch })
    }

    fn check(&self) -> io::Result<()> {
        if self.watch.failed.get() {
            Err(io::Error::other("watching the containerd socket failed"))
        } else {
            Ok(())
        }
    }

    /// One non-blocking read into `ptr..ptr+len`; waits for READABLE when there is nothing.
    fn recv(&self, cx: &mut Context<'_>, ptr: *mut u8, len: usize) -> Poll<io::Result<usize>> {
        self.check()?;
        let wait = || {
            self.watch.read.set(Some(cx.waker().clone()));
            self.watch.want(UV_READABLE);
            Poll::Pending
        };
        if self.watch.ready.get() & UV_READABLE == 0 {
            return wait();
        }
        loop {
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), ptr.cast(), len, 0) };
            if n >= 0 {
                return Poll::Ready(Ok(n as usize));
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    self.watch.ready.set(self.watch.ready.get() & !UV_READABLE);
                    return wait();
                }
                _ => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl Drop for UvSocket {
    fn drop(&mut self) {
        // uv_close stops the watch now and frees the handle later; the fd closes after it.
        self.watch.closed.set(true);
        unsafe { (self.watch.uv.close)(self.watch.handle, Some(on_close)) };
    }
}

impl tokio::io::AsyncRead for UvSocket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<io::Result<()>> {
        let unfilled = unsafe { buf.unfilled_mut() };
        let (ptr, len) = (unfilled.as_mut_ptr().cast::<u8>(), unfilled.len());
        let read = self.recv(cx, ptr, len);
        if let Poll::Ready(Ok(n)) = read {
            unsafe { buf.assume_init(n) };
            buf.advance(n);
            if n > 0 && n < len {
                // A short read emptied the socket: the next read waits for libuv's word instead
                // of asking the kernel for an EAGAIN (as tokio does).
                self.watch.ready.set(self.watch.ready.get() & !UV_READABLE);
            }
        }
        read.map_ok(|_| ())
    }
}

impl UvSocket {
    /// Takes `bufs` into the output buffer (sent by the next `on_idle` drain), or waits for room.
    fn buffer(&self, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.check()?;
        if self.watch.out.borrow().len() >= OUT_LIMIT {
            self.watch.flush();
            self.check()?;
            if self.watch.out.borrow().len() >= OUT_LIMIT {
                self.watch.write.set(Some(cx.waker().clone()));
                return Poll::Pending;
            }
        }
        let mut out = self.watch.out.borrow_mut();
        if out.is_empty() {
            if let Some(executor) = current() {
                executor.unsent.borrow_mut().push(self.watch.clone());
            }
        }
        let before = out.len();
        bufs.iter().for_each(|b| out.extend_from_slice(b));
        Poll::Ready(Ok(out.len() - before))
    }
}

impl tokio::io::AsyncWrite for UvSocket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.buffer(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.buffer(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Sent by the next `on_idle` drain, at the start of the next turn of the event loop.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.watch.flush();
        unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_WR) };
        Poll::Ready(Ok(()))
    }
}
