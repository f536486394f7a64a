//! The core crate used from plain Rust, without napi: prints the daemon's version.
//!
//!     cargo run -p containerd-napi-core --example version -- /run/containerd/containerd.sock
//!
//! (Also the proof that other binaries — fuzz targets, the logger — can link the core.)

use containerd_napi_core::{Cancel, Client, ConnectOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let address = std::env::args().nth(1);
    let options = ConnectOptions { address, ..Default::default() };
    let outcome = async {
        let client = Client::connect(options.resolve(|name| std::env::var(name).ok()), &Cancel::none()).await?;
        client.version(&Cancel::none()).await
    }
    .await;
    match outcome {
        Ok(v) => println!("containerd {} ({})", v.version, v.revision),
        Err(e) => {
            eprintln!("{} ({})", e.message, e.code.name());
            std::process::exit(1);
        }
    }
}
