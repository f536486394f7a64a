//! Namespace administration.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::Result;
use super::identifiers;
use containerd_client::services::v1::{
    namespaces_client::NamespacesClient, CreateNamespaceRequest, DeleteNamespaceRequest, ListNamespacesRequest,
    Namespace as ProtoNamespace,
};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: HashMap<String, String>,
}

fn namespaces(ch: crate::transport::Transport) -> NamespacesClient<crate::transport::Transport> {
    NamespacesClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

impl Client {
    pub async fn list_namespaces(&self, cancel: &Cancel) -> Result<Vec<Namespace>> {
        let reply = self
            .unary("list namespaces", cancel, |ch| async move {
                namespaces(ch).list(self.request(ListNamespacesRequest { filter: String::new() })).await
            })
            .await?;
        Ok(reply.namespaces.into_iter().map(|n| Namespace { name: n.name, labels: n.labels }).collect())
    }

    pub async fn create_namespace(&self, name: &str, labels: HashMap<String, String>, cancel: &Cancel) -> Result<()> {
        identifiers::validate("namespace", name)?;
        let what = format!("create namespace {name:?}");
        let namespace = ProtoNamespace { name: name.to_string(), labels };
        self.unary(&what, cancel, |ch| async move {
            namespaces(ch).create(self.request(CreateNamespaceRequest { namespace: Some(namespace) })).await
        })
        .await?;
        Ok(())
    }

    pub async fn delete_namespace(&self, name: &str, cancel: &Cancel) -> Result<()> {
        identifiers::validate("namespace", name)?;
        let what = format!("delete namespace {name:?}");
        self.unary(&what, cancel, |ch| async move {
            namespaces(ch).delete(self.request(DeleteNamespaceRequest { name: name.to_string() })).await
        })
        .await?;
        Ok(())
    }
}
