//! Daemon identity: version and plugins.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::Result;
use containerd_client::services::v1::{
    introspection_client::IntrospectionClient, version_client::VersionClient, PluginsRequest,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: String,
    pub revision: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginStatus {
    Ok,
    Skip,
    Error,
}

impl PluginStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginStatus::Ok => "ok",
            PluginStatus::Skip => "skip",
            PluginStatus::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plugin {
    pub r#type: String,
    pub id: String,
    pub status: PluginStatus,
    /// The init error's message, when the plugin did not load.
    pub error: Option<String>,
    pub requires: Vec<String>,
}

impl Client {
    pub async fn version(&self, cancel: &Cancel) -> Result<Version> {
        let reply = self
            .unary("version", cancel, |ch| async move {
                VersionClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES).version(self.request(())).await
            })
            .await?;
        Ok(Version { version: reply.version, revision: reply.revision })
    }

    pub async fn plugins(&self, cancel: &Cancel) -> Result<Vec<Plugin>> {
        let reply = self
            .unary("plugins", cancel, |ch| async move {
                IntrospectionClient::new(ch)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .plugins(self.request(PluginsRequest { filters: vec![] }))
                    .await
            })
            .await?;
        Ok(reply
            .plugins
            .into_iter()
            .map(|p| {
                let error = p.init_err.map(|s| s.message);
                Plugin {
                    status: plugin_status(error.as_deref()),
                    r#type: p.r#type,
                    id: p.id,
                    error,
                    requires: p.requires,
                }
            })
            .collect())
    }
}

/// containerd marks a deliberately skipped plugin with an init error wrapping ErrSkipPlugin,
/// whose text is "skip plugin".
fn plugin_status(init_error: Option<&str>) -> PluginStatus {
    match init_error {
        None => PluginStatus::Ok,
        Some(msg) if msg.contains("skip plugin") => PluginStatus::Skip,
        Some(_) => PluginStatus::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_errors_classify_plugins() {
        assert_eq!(plugin_status(None), PluginStatus::Ok);
        assert_eq!(plugin_status(Some("no zfs dataset: skip plugin")), PluginStatus::Skip);
        assert_eq!(plugin_status(Some("failed to load")), PluginStatus::Error);
    }
}
