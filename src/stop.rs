//! A graceful stop for long work (a load runs for hours): the first Ctrl-C
//! or SIGTERM asks it to take no new work and to finish what is in flight,
//! so every write sent is recorded; a second one ends the process at once
//! (the next run then finds its in-flight batches again, as after a
//! kill -9).

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// What a command says when asked to stop: what it does on the first
/// signal, and what the next run does after a second one ends it at once.
pub struct Stopping {
    pub first: &'static str,
    pub second: &'static str,
}

/// A load's words.
pub const LOAD: Stopping = Stopping {
    first: "no new batches; waiting for the ones in flight to be answered and recorded",
    second: "the next run finds the batches that were in flight by their external ids before sending anything again",
};

/// An extract's words.
pub const EXTRACT: Stopping = Stopping {
    first: "no new pages; landing what has been read and recording each stream's cursor",
    second:
        "pages read but not landed are read again by the next run, from the last recorded cursor",
};

/// Listens for Ctrl-C and SIGTERM for the rest of the process (spawn it on
/// the runtime that does the work). Once it runs, a signal no longer ends
/// the process by itself.
pub async fn listen(words: Stopping) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    loop {
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopped at once: {}", words.second);
            std::process::exit(130);
        }
        eprintln!("\nstopping: {} (Ctrl-C again to quit at once)", words.first);
        crate::live::note(&format!("stop requested: {}", words.first));
    }
}
