//! Leases: what a pull writes is held by its lease until the image record references it.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Error, Result};
use super::tracked::Tracked;
use crate::transport::Transport;
use containerd_client::services::v1::{
    leases_client::LeasesClient, AddResourceRequest, CreateRequest, DeleteRequest, Resource,
};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// The label that makes the garbage collector drop a lease its creator never deleted (a crash).
const EXPIRE_LABEL: &str = "containerd.io/gc.expire";

fn leases(ch: Transport) -> LeasesClient<Transport> {
    LeasesClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// A lease id unique enough to never collide: `containerd-napi-<purpose>-<random>`.
pub fn lease_id(purpose: &str) -> String {
    format!("containerd-napi-{purpose}-{:016x}", rand::random::<u64>())
}

/// How long releasing a leased operation's leftovers may take (never cancelled by the caller).
const RELEASE_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// Ends a leased operation (pull, import) whose future is gone, finished or dropped: removes
    /// the snapshots and aborts the ingests it left half-made, runs `undo` after a failure (its
    /// image records), then deletes the lease — synchronously after a failure, so its content and
    /// snapshots are collected before the caller sees the error.
    pub(crate) async fn release_leased(
        &self,
        what: &str,
        lease: &str,
        snapshotter: &str,
        (ingests, snapshots): (&Tracked, &Tracked),
        failed: bool,
        undo: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        let release = async {
            for key in snapshots.take() {
                let _ = self.remove_snapshot(snapshotter, &key).await;
            }
            for stale in ingests.take() {
                let _ = self.content_abort(&stale).await;
            }
            if failed {
                undo.await;
            }
            self.delete_lease(lease, failed).await
        };
        match tokio::time::timeout(RELEASE_TIMEOUT, release).await {
            Ok(done) => done,
            Err(_) => Err(Error::new(Code::DeadlineExceeded, format!("{what}: releasing lease {lease} timed out"))),
        }
    }

    /// Creates a lease that expires by itself after `expire_after`.
    pub(crate) async fn create_lease(&self, id: &str, expire_after: Duration) -> Result<()> {
        let expires = humantime::format_rfc3339_seconds(SystemTime::now() + expire_after).to_string();
        // The owner label lets cleanup() remove a dead process's lease now rather than at expiry.
        let labels = HashMap::from([
            (EXPIRE_LABEL.to_string(), expires),
            (super::cleanup::OWNER_LABEL.to_string(), super::cleanup::Owner::me().label()),
        ]);
        self.unary("create lease", &Cancel::none(), |ch| async move {
            leases(ch).create(self.request(CreateRequest { id: id.to_string(), labels })).await
        })
        .await?;
        Ok(())
    }

    /// Deletes a lease; one that is already gone is fine. With `sync` the call returns only once
    /// the garbage collector has removed what nothing else holds.
    pub(crate) async fn delete_lease(&self, id: &str, sync: bool) -> Result<()> {
        let done = self
            .long_unary("delete lease", &Cancel::none(), |ch| async move {
                leases(ch).delete(self.request(DeleteRequest { id: id.to_string(), sync })).await
            })
            .await;
        match done {
            Err(e) if e.code != Code::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Holds an existing resource in a lease too (`kind` "content" or "snapshots/<snapshotter>"),
    /// so the collector cannot take it before the image record that will reference it exists.
    pub(crate) async fn lease_resource(&self, id: &str, resource: &str, kind: &str) -> Result<()> {
        let resource = Resource { id: resource.to_string(), r#type: kind.to_string() };
        self.unary("lease resource", &Cancel::none(), |ch| async move {
            leases(ch)
                .add_resource(self.request(AddResourceRequest { id: id.to_string(), resource: Some(resource) }))
                .await
        })
        .await?;
        Ok(())
    }
}
