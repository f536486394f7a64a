//! The floor for the RPC benchmarks: the same gRPC calls through tonic and containerd-client, with
//! no JavaScript in between, over one channel dialled the way the addon dials it.
//!
//!   containerd-napi-rust-floor SOCKET OP NAMESPACE SEQUENTIAL_CALLS CONCURRENT_CALLS [RUNTIME]
//!
//! OP is `version`, `images` (Images.List) or `containers` (Containers.List). RUNTIME is
//! `current-thread` (the default: every step of a call on the calling thread, the fastest tonic
//! gets for calls one after another) or `multi-thread` (what `#[tokio::main]` gives: the channel's
//! connection runs on worker threads, so each call hops from the caller to a worker and back).
//! Prints one JSON
//! object: connect time, per-call latencies (µs) of the sequential calls (after a warm-up),
//! process CPU per sequential call, and the wall time and CPU of CONCURRENT_CALLS calls in flight
//! at once.

use containerd_client::services::v1::containers_client::ContainersClient;
use containerd_client::services::v1::images_client::ImagesClient;
use containerd_client::services::v1::version_client::VersionClient;
use containerd_client::services::v1::{ListContainersRequest, ListImagesRequest};
use std::time::{Duration, Instant};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

/// As in the addon: containerd's Go client allows 16 MiB, tonic's default is 4 MiB.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

fn cpu_micros() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

async fn connect(path: String) -> Channel {
    Endpoint::from_static("http://localhost")
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(&path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .expect("connect")
}

#[derive(Clone)]
struct Caller {
    channel: Channel,
    op: String,
    namespace: MetadataValue<tonic::metadata::Ascii>,
}

impl Caller {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert("containerd-namespace", self.namespace.clone());
        request
    }

    /// One call; returns how many objects came back (1 for version).
    async fn call(&self) -> usize {
        let ch = self.channel.clone();
        match self.op.as_str() {
            "version" => {
                VersionClient::new(ch).version(self.request(())).await.expect("version");
                1
            }
            "images" => ImagesClient::new(ch)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .list(self.request(ListImagesRequest { filters: vec![] }))
                .await
                .expect("images list")
                .into_inner()
                .images
                .len(),
            "containers" => ContainersClient::new(ch)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .list(self.request(ListContainersRequest { filters: vec![] }))
                .await
                .expect("containers list")
                .into_inner()
                .containers
                .len(),
            other => panic!("unknown OP {other}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 && args.len() != 7 {
        eprintln!("usage: {} SOCKET OP NAMESPACE SEQUENTIAL_CALLS CONCURRENT_CALLS [current-thread|multi-thread]", args[0]);
        std::process::exit(2);
    }
    let runtime = match args.get(6).map_or("current-thread", String::as_str) {
        "current-thread" => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        "multi-thread" => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        other => panic!("unknown RUNTIME {other}"),
    };
    runtime.expect("tokio runtime").block_on(bench(args));
}

async fn bench(args: Vec<String>) {
    let sequential: usize = args[4].parse().expect("SEQUENTIAL_CALLS");
    let concurrent: usize = args[5].parse().expect("CONCURRENT_CALLS");

    let t0 = Instant::now();
    let channel = connect(args[1].clone()).await;
    let connect_ms = t0.elapsed().as_secs_f64() * 1e3;
    let caller = Caller { channel, op: args[2].clone(), namespace: args[3].parse().expect("NAMESPACE") };

    // Warm-up, like the JavaScript side gets.
    let mut objects = 0;
    for _ in 0..(sequential / 10).max(10) {
        objects = caller.call().await;
    }

    let mut samples = Vec::with_capacity(sequential);
    let cpu0 = cpu_micros();
    for _ in 0..sequential {
        let t = Instant::now();
        caller.call().await;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let cpu_per_call_us = (cpu_micros() - cpu0) / sequential.max(1) as f64;

    let t = Instant::now();
    let cpu1 = cpu_micros();
    let tasks: Vec<_> = (0..concurrent)
        .map(|_| {
            let c = caller.clone();
            tokio::spawn(async move { c.call().await })
        })
        .collect();
    for task in tasks {
        task.await.expect("join");
    }
    let concurrent_ms = t.elapsed().as_secs_f64() * 1e3;
    let concurrent_cpu_per_call_us = (cpu_micros() - cpu1) / concurrent.max(1) as f64;

    let list = samples.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(",");
    println!(
        "{{\"objects\":{objects},\"connectMs\":{connect_ms:.3},\"cpuPerCallUs\":{cpu_per_call_us:.3},\
         \"concurrent\":{concurrent},\"concurrentMs\":{concurrent_ms:.3},\
         \"concurrentCpuPerCallUs\":{concurrent_cpu_per_call_us:.3},\"samplesUs\":[{list}]}}"
    );
}
