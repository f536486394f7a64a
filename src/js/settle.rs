//! Promises for core futures, settled through one threadsafe function per JS thread.
//!
//! napi-rs's `spawn_future` creates a threadsafe function and a stack-capturing Error per call;
//! at ~200 µs per containerd round trip that was a measurable share of every call. Here each JS
//! thread (main or worker) gets one threadsafe function, created on first use and kept unref'd
//! while nothing is pending, so idle clients never hold the process open.

use super::error::to_napi;
use super::runtime;
use super::thread_io;
use crate::core;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, JsError, Result};
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, RwLock};

/// Runs `fut` on the runtime; the returned promise settles with its output.
pub(super) fn spawn<T, F>(env: &Env, fut: F) -> Result<PromiseRaw<'_, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = core::Result<T>> + Send + 'static,
{
    let runtime = runtime::handle()?;
    let (settler, promise) = Settler::new(env)?;
    runtime.spawn(async move {
        let result = fut.await;
        settler.settle(result);
    });
    Ok(promise)
}

/// Like [`spawn`] for a short unary call over `client`: on a JS thread that can watch sockets
/// (Node), the call runs on this thread over its own connection (see `thread_io`), so it takes
/// no thread hop; elsewhere, or for a tcp:// client, it is [`spawn`].
pub(super) fn spawn_here<'env, T, F>(env: &'env Env, client: &core::Client, fut: F) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = core::Result<T>> + Send + 'static,
{
    let Some(lent) = thread_io::lend(env.raw(), client) else {
        return spawn(env, fut);
    };
    let (settler, promise) = Settler::new(env)?;
    lent.run(async move {
        let result = fut.await;
        if let Some(env) = thread_io::current_env() {
            settler.settle_here(env, result);
        }
    });
    Ok(promise)
}

/// Serialises a large result for JS to `JSON.parse`: far cheaper than building the objects
/// through napi one property at a time.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> core::Result<String> {
    serde_json::to_string(value).map_err(|e| core::Error::new(core::Code::Internal, format!("encoding a result: {e}")))
}

/// Runs on the JS thread: resolves or rejects one promise, or other work of that thread's.
type Completion = Box<dyn FnOnce(sys::napi_env) + Send>;

/// What the threadsafe function carries: a completion, and whether it settles a pending promise.
struct Job {
    run: Completion,
    settles: bool,
}

impl Job {
    fn settle(run: Completion) -> Job {
        Job { run, settles: true }
    }
}

#[derive(Clone, Copy)]
struct Deferred(sys::napi_deferred);
// Only ever used on the JS thread that created it (inside a Completion).
unsafe impl Send for Deferred {}

impl Deferred {
    // Called inside the closure so that it captures the whole (Send) Deferred, not its raw field.
    fn raw(self) -> sys::napi_deferred {
        self.0
    }

    fn completion<T: ToNapiValue + Send + 'static>(self, result: core::Result<T>) -> Completion {
        Box::new(move |env| {
            let deferred = self.raw();
            let value = result.map_err(to_napi).and_then(|v| unsafe { T::to_napi_value(env, v) });
            unsafe {
                match value {
                    Ok(v) => sys::napi_resolve_deferred(env, deferred, v),
                    Err(e) => sys::napi_reject_deferred(env, deferred, JsError::from(e).into_value(env)),
                };
            }
        })
    }
}

/// Owns the duty to settle one promise: if the future is dropped before finishing (a panic in
/// it, or runtime shutdown) the promise is rejected rather than left pending, which would also
/// keep the process alive.
struct Settler {
    deferred: Deferred,
    sender: Option<Arc<Shared>>,
}

impl Settler {
    /// A pending promise and the duty to settle it; the promise keeps the event loop alive.
    fn new<T>(env: &Env) -> Result<(Settler, PromiseRaw<'_, T>)> {
        let raw_env = env.raw();
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        check_status!(
            unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) },
            "napi_create_promise failed"
        )?;
        let settler = Settler { deferred: Deferred(deferred), sender: Some(sender(raw_env)?) };
        Ok((settler, PromiseRaw::new(raw_env, promise)))
    }

    /// From any thread: through the threadsafe function.
    fn settle<T: ToNapiValue + Send + 'static>(mut self, result: core::Result<T>) {
        if let Some(shared) = self.sender.take() {
            shared.send(Job::settle(self.deferred.completion(result)));
        }
    }

    /// On the JS thread that made the promise, inside a callback scope: at once.
    fn settle_here<T: ToNapiValue + Send + 'static>(mut self, env: sys::napi_env, result: core::Result<T>) {
        if self.sender.take().is_some() {
            (self.deferred.completion(result))(env);
            settled(env);
        }
    }
}

impl Drop for Settler {
    fn drop(&mut self) {
        if let Some(shared) = self.sender.take() {
            let error =
                core::Error::new(core::Code::Internal, "the operation stopped before it finished (it panicked: a bug)");
            shared.send(Job::settle(self.deferred.completion::<()>(Err(error))));
        }
    }
}

/// The part other threads see. `None` once the environment is torn down: Node frees the
/// threadsafe function then, so it must not be called any more.
struct Shared {
    tsfn: RwLock<Option<Tsfn>>,
}

#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);
// napi_call_threadsafe_function is the one call made on it off the JS thread, which is its purpose.
unsafe impl Send for Tsfn {}
unsafe impl Sync for Tsfn {}

impl Shared {
    fn send(&self, job: Job) {
        let guard = self.tsfn.read().unwrap_or_else(|e| e.into_inner());
        if let Some(Tsfn(tsfn)) = *guard {
            let data = Box::into_raw(Box::new(job));
            let status = unsafe {
                sys::napi_call_threadsafe_function(tsfn, data.cast(), sys::ThreadsafeFunctionCallMode::nonblocking)
            };
            if status != sys::Status::napi_ok {
                // Closing: the environment is going away and nobody is waiting for the promise.
                drop(unsafe { Box::from_raw(data) });
            }
        }
    }
}

/// Runs `f` on the JS thread of `env` (from any thread, including that one: then at its next
/// turn of the event loop). Does not hold the loop open by itself.
#[derive(Clone)]
pub(super) struct JsThread(Arc<Shared>);

impl JsThread {
    pub(super) fn of(env: sys::napi_env) -> Result<JsThread> {
        Ok(JsThread(local(env)?.shared.clone()))
    }

    pub(super) fn run(&self, f: impl FnOnce(sys::napi_env) + Send + 'static) {
        self.0.send(Job { run: Box::new(f), settles: false });
    }
}

/// The JS thread's side: how many promises are pending, to ref the threadsafe function (keep
/// the event loop alive) exactly while some are.
struct Local {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    pending: Cell<usize>,
    shared: Arc<Shared>,
}

thread_local! {
    static LOCAL: RefCell<Option<Rc<Local>>> = const { RefCell::new(None) };
}

/// Counts one more pending promise and returns the handle to settle it through.
fn sender(env: sys::napi_env) -> Result<Arc<Shared>> {
    let local = local(env)?;
    if local.pending.get() == 0 {
        check_status!(
            unsafe { sys::napi_ref_threadsafe_function(env, local.tsfn) },
            "napi_ref_threadsafe_function failed"
        )?;
    }
    local.pending.set(local.pending.get() + 1);
    Ok(local.shared.clone())
}

fn local(env: sys::napi_env) -> Result<Rc<Local>> {
    match LOCAL.with_borrow(|l| l.clone()) {
        Some(local) if local.env == env => Ok(local),
        _ => create(env),
    }
}

fn create(env: sys::napi_env) -> Result<Rc<Local>> {
    let mut name = ptr::null_mut();
    let label = "containerd-napi";
    check_status!(
        unsafe { sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name) },
        "napi_create_string_utf8 failed"
    )?;
    let mut tsfn = ptr::null_mut();
    check_status!(
        unsafe {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(call_js),
                &mut tsfn,
            )
        },
        "napi_create_threadsafe_function failed"
    )?;
    check_status!(unsafe { sys::napi_unref_threadsafe_function(env, tsfn) }, "napi_unref_threadsafe_function failed")?;
    let local = Rc::new(Local {
        env,
        tsfn,
        pending: Cell::new(0),
        shared: Arc::new(Shared { tsfn: RwLock::new(Some(Tsfn(tsfn))) }),
    });
    // Registered after the threadsafe function, so it runs before Node's own teardown of it.
    let hook_data = Arc::into_raw(local.shared.clone()) as *mut c_void;
    check_status!(
        unsafe { sys::napi_add_env_cleanup_hook(env, Some(teardown), hook_data) },
        "napi_add_env_cleanup_hook failed"
    )?;
    LOCAL.with_borrow_mut(|l| *l = Some(local.clone()));
    Ok(local)
}

unsafe extern "C" fn teardown(data: *mut c_void) {
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    *shared.tsfn.write().unwrap_or_else(|e| e.into_inner()) = None;
    LOCAL.with_borrow_mut(|l| *l = None);
}

unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    let job = unsafe { Box::from_raw(data as *mut Job) };
    if env.is_null() {
        return; // teardown drains the queue without an environment
    }
    (job.run)(env);
    if job.settles {
        settled(env);
    }
}

/// One pending promise fewer; with none left, the threadsafe function stops holding the loop.
fn settled(env: sys::napi_env) {
    LOCAL.with_borrow(|l| {
        if let Some(local) = l.as_ref().filter(|l| l.env == env) {
            let pending = local.pending.get().saturating_sub(1);
            local.pending.set(pending);
            if pending == 0 {
                unsafe { sys::napi_unref_threadsafe_function(env, local.tsfn) };
            }
        }
    });
}
