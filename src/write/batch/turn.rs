//! The order of pipelined batch writes: begin after the predecessor registered its dimension rows, commit
//! after it committed.

use super::WriteError;

/// A batch's place in a chain of pipelined writes (see `pipeline.rs`): it begins its transaction once the
/// batch before it has registered its dimension rows, and commits only after that batch committed.
///
/// Why this order cannot deadlock: a write takes row locks that another writer may wait on in three places:
/// new dimension rows, the rollup rows and the checkpoint row. Its dimension rows are taken before its
/// successor begins, and the other two only after its predecessor committed, so a write never waits in
/// PostgreSQL for its successor while its successor waits in this process for it.
#[derive(Debug, Default)]
pub struct Turn {
    predecessor: Option<Predecessor>,
    registered: Option<tokio::sync::oneshot::Sender<()>>,
    committed: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What the next batch of a chain waits on: its predecessor's dimension rows, then its commit. A dropped
/// sender means the predecessor ended without getting there.
#[derive(Debug)]
pub struct Predecessor {
    registered: tokio::sync::oneshot::Receiver<()>,
    committed: tokio::sync::oneshot::Receiver<()>,
}

impl Turn {
    /// The turn after `predecessor` (`None`: the first of a chain), and what its own successor waits on.
    pub fn after(predecessor: Option<Predecessor>) -> (Turn, Predecessor) {
        let (registered, registered_rx) = tokio::sync::oneshot::channel();
        let (committed, committed_rx) = tokio::sync::oneshot::channel();
        let turn = Turn { predecessor, registered: Some(registered), committed: Some(committed) };
        (turn, Predecessor { registered: registered_rx, committed: committed_rx })
    }

    /// Waits until the predecessor's dimension rows are registered (or it ended).
    pub(super) async fn wait_registered(&mut self) {
        if let Some(p) = self.predecessor.as_mut() {
            let _ = (&mut p.registered).await;
        }
    }

    /// Tells the successor that this batch's dimension rows are registered.
    pub(super) fn registered(&mut self) {
        if let Some(tx) = self.registered.take() {
            let _ = tx.send(());
        }
    }

    /// Waits until the predecessor committed; `Ok(true)` if it had not yet when called, an error if it ended
    /// without committing (this batch must then not commit before the predecessor's records are in).
    pub(super) async fn wait_committed(&mut self) -> Result<bool, WriteError> {
        use tokio::sync::oneshot::error::TryRecvError;
        let Some(mut p) = self.predecessor.take() else { return Ok(false) };
        let waited = match p.committed.try_recv() {
            Ok(()) => return Ok(false),
            Err(TryRecvError::Empty) => p.committed.await.is_ok(),
            Err(TryRecvError::Closed) => false,
        };
        if waited { Ok(true) } else { Err(WriteError::NotInTurn("the batch before it failed")) }
    }

    /// Tells the successor that this batch committed.
    pub(super) fn committed(&mut self) {
        if let Some(tx) = self.committed.take() {
            let _ = tx.send(());
        }
    }
}
