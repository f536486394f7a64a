//! Names of half-made daemon objects (ingest refs, snapshot keys) an operation owns right now.
//! Futures dropped on abort cannot clean up after themselves; the operation's cleanup step
//! removes whatever is still listed here.

use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Default)]
pub struct Tracked(Mutex<HashSet<String>>);

impl Tracked {
    pub fn add(&self, name: &str) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(name.to_string());
        }
    }

    pub fn remove(&self, name: &str) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(name);
        }
    }

    /// Everything still listed, emptying the list.
    pub fn take(&self) -> Vec<String> {
        self.0.lock().map(|mut set| set.drain().collect()).unwrap_or_default()
    }
}
