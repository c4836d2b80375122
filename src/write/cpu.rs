//! CPU work (normalize, encode) on the rayon pool from async code, without blocking a tokio worker.

use super::WriteError;

/// Runs CPU work on the rayon pool without blocking a tokio worker; a panic comes back as an error.
pub(crate) async fn on_rayon<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, WriteError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(panic)) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(WriteError::Task(msg))
        }
        Err(_) => Err(WriteError::Task("the rayon task was dropped".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_on_rayon_comes_back_as_an_error_instead_of_aborting() {
        let err = on_rayon(|| -> u32 { panic!("bad record") }).await.unwrap_err();
        assert!(matches!(&err, WriteError::Task(m) if m == "bad record"), "{err}");
        assert_eq!(on_rayon(|| 7).await.unwrap(), 7);
    }
}
