//! Event subscriptions. tonic's Subscribe call returns only when the daemon sends its first
//! message (containerd sends response headers late), so the subscription runs on its own task and
//! the caller never blocks on it. `ready` is a real handshake: the subscription also matches a
//! private sentinel topic, which we publish until it comes back; from then on no event is missed.
//! Events wait in a bounded queue; a consumer that falls behind gets RESOURCE_EXHAUSTED after the
//! events queued so far (never a silent gap), and the server stream is ended.

use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Error, Result};
use super::event_types::decode_event;
use super::images::millis;
use containerd_client::services::v1::{events_client::EventsClient, PublishRequest, SubscribeRequest};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Events a consumer may fall behind by before the subscription fails (default).
pub const QUEUE_LIMIT: usize = 4096;
const SENTINEL_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Event {
    pub namespace: String,
    pub topic: String,
    /// Milliseconds since the epoch.
    pub timestamp: f64,
    /// e.g. `containerd.events.TaskExit`.
    pub type_name: String,
    /// Decoded payload (JSON, camelCase) for known types.
    pub payload: Option<serde_json::Value>,
    /// The payload bytes, for unknown types.
    pub raw: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
enum Readiness {
    Pending,
    Ready,
    Failed(Error),
}

pub struct Subscription {
    events: mpsc::Receiver<Result<Event>>,
    ready: watch::Receiver<Readiness>,
    stop: CancellationToken,
}

/// The daemon-side filters: the caller's (ANDed with this namespace unless `all_namespaces`), OR
/// the sentinel topic.
fn server_filters(namespace: &str, filters: &[String], all_namespaces: bool, sentinel: &str) -> Vec<String> {
    let mut out: Vec<String> = match (filters.is_empty(), all_namespaces) {
        (true, true) => vec![r#"topic~="^/""#.to_string()],
        (true, false) => vec![format!("namespace=={namespace}")],
        (false, true) => filters.to_vec(),
        (false, false) => filters.iter().map(|f| format!("namespace=={namespace},{f}")).collect(),
    };
    out.push(format!(r#"topic=="{sentinel}""#));
    out
}

impl Client {
    /// Starts a subscription; it is registered with the daemon once [`Subscription::ready`] resolves.
    /// `queue_limit`: how many events may wait for the consumer (default [`QUEUE_LIMIT`]).
    pub fn subscribe(
        &self,
        filters: Vec<String>,
        all_namespaces: bool,
        queue_limit: Option<f64>,
    ) -> Result<Subscription> {
        if filters.iter().any(|f| f.trim().is_empty()) {
            return Err(Error::invalid_argument("event filters must not be empty strings"));
        }
        let queue_limit = match queue_limit {
            Some(n) => super::numbers::integer_in("queueLimit", n, 1, 1 << 20)? as usize,
            None => QUEUE_LIMIT,
        };
        let channel = self.channel("subscribe")?;
        let sentinel = format!("/containerd-napi/ready/{:016x}", rand::random::<u64>());
        let request =
            SubscribeRequest { filters: server_filters(self.namespace(), &filters, all_namespaces, &sentinel) };
        let (tx, events) = mpsc::channel(queue_limit);
        let (ready_tx, ready) = watch::channel(Readiness::Pending);
        let stop = CancellationToken::new();
        let (client, token) = (self.clone(), stop.clone());
        let publisher = (self.clone(), sentinel.clone(), ready_tx.subscribe());
        // Ends by itself once the sentinel came back or the subscription failed.
        tokio::spawn(async move { publisher.0.publish_sentinel(&publisher.1, publisher.2).await });
        tokio::spawn(async move {
            let outcome = tokio::select! {
                _ = token.cancelled() => Err(Error::cancelled("subscribe")),
                out = client.pump_events(channel, request, &sentinel, &tx, &ready_tx) => out,
            };
            if let Err(e) = outcome.map_err(filter_error) {
                let _ = ready_tx.send(Readiness::Failed(e.clone()));
                if e.code != Code::Cancelled {
                    let _ = tx.send(Err(e)).await;
                }
            }
        });
        Ok(Subscription { events, ready, stop })
    }

    async fn pump_events(
        &self,
        channel: tonic::transport::Channel,
        request: SubscribeRequest,
        sentinel: &str,
        tx: &mpsc::Sender<Result<Event>>,
        ready: &watch::Sender<Readiness>,
    ) -> Result<()> {
        let mut stream = EventsClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .subscribe(self.request(request))
            .await
            .map_err(|s| self.status_error("subscribe", &s))?
            .into_inner();
        loop {
            let envelope = match stream.message().await {
                Ok(Some(envelope)) => envelope,
                Ok(None) => return Err(Error::new(Code::Unavailable, "subscribe: the daemon ended the event stream")),
                Err(s) => return Err(self.status_error("subscribe", &s)),
            };
            if envelope.topic == sentinel {
                let _ = ready.send(Readiness::Ready);
                continue;
            }
            let event = to_event(envelope)?;
            match tx.try_send(Ok(event)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return Err(Error::new(
                        Code::ResourceExhausted,
                        format!(
                            "subscribe: the consumer fell more than {} events behind; the subscription was ended",
                            tx.max_capacity()
                        ),
                    ))
                }
            }
        }
    }

    /// Publishes the sentinel until the subscription has seen it (the first copies may precede
    /// the registration).
    async fn publish_sentinel(&self, sentinel: &str, mut ready: watch::Receiver<Readiness>) {
        loop {
            let request = PublishRequest {
                topic: sentinel.to_string(),
                event: Some(prost_types::Any {
                    type_url: "types.containerd.io/containerd-napi/Ready".into(),
                    value: vec![],
                }),
            };
            let _ = self
                .unary("publish", &super::Cancel::none(), |ch| async move {
                    EventsClient::new(ch).publish(self.request(request)).await
                })
                .await;
            if !matches!(*ready.borrow(), Readiness::Pending) {
                return;
            }
            let _ = tokio::time::timeout(SENTINEL_EVERY, ready.changed()).await;
            if !matches!(*ready.borrow(), Readiness::Pending) {
                return;
            }
        }
    }
}

/// containerd 1.6 ends a subscription whose filters do not parse with an UNKNOWN status ("failed
/// parsing subscription filters"); listing calls answer INVALID_ARGUMENT for the same mistake.
fn filter_error(e: Error) -> Error {
    let text = format!("{} {}", e.message, e.details.as_deref().unwrap_or_default()).to_ascii_lowercase();
    if e.code == Code::Unknown && text.contains("filter") {
        Error { code: Code::InvalidArgument, ..e }
    } else {
        e
    }
}

fn to_event(envelope: containerd_client::types::Envelope) -> Result<Event> {
    let any = envelope.event.unwrap_or_default();
    let (type_name, payload) = decode_event(&any.type_url, &any.value)?;
    let raw = payload.is_none().then_some(any.value);
    Ok(Event {
        namespace: envelope.namespace,
        topic: envelope.topic,
        timestamp: millis(envelope.timestamp),
        type_name,
        payload,
        raw,
    })
}

/// Waits for a subscription's registration; usable while another task awaits its events.
pub struct ReadyHandle(watch::Receiver<Readiness>);

impl ReadyHandle {
    /// Resolves once the daemon has registered the subscription.
    pub async fn wait(self) -> Result<()> {
        let mut ready = self.0;
        loop {
            match &*ready.borrow_and_update() {
                Readiness::Ready => return Ok(()),
                Readiness::Failed(e) => return Err(e.clone()),
                Readiness::Pending => {}
            }
            if ready.changed().await.is_err() {
                return Err(Error::cancelled("subscribe"));
            }
        }
    }
}

impl Subscription {
    pub fn ready_handle(&self) -> ReadyHandle {
        ReadyHandle(self.ready.clone())
    }

    /// The next event; `None` once closed. An error ends the subscription.
    pub async fn next(&mut self) -> Option<Result<Event>> {
        tokio::select! {
            _ = self.stop.cancelled() => None,
            item = self.events.recv() => item,
        }
    }

    /// Ends the subscription (the server stream is dropped).
    pub fn close(&self) {
        self.stop.cancel();
    }

    /// A handle that closes the subscription from elsewhere.
    pub fn closer(&self) -> CancellationToken {
        self.stop.clone()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_scoped_and_include_the_sentinel() {
        let s = "/containerd-napi/ready/1";
        assert_eq!(server_filters("ns", &[], false, s), vec!["namespace==ns".to_string(), format!(r#"topic=="{s}""#)]);
        assert_eq!(
            server_filters("ns", &["topic~=\"/tasks/\"".into()], false, s)[0],
            "namespace==ns,topic~=\"/tasks/\""
        );
        assert_eq!(server_filters("ns", &[], true, s)[0], r#"topic~="^/""#);
        assert_eq!(server_filters("ns", &["topic==\"/x\"".into()], true, s)[0], "topic==\"/x\"");
    }
}
