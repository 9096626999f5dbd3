//! The accept loop: hyper's HTTP/1 connections with a header read timeout
//! (slow clients are disconnected), `TCP_NODELAY`, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

use super::config::ServerConfig;
use super::server::{ModelSlot, router};

/// Serves `slot` on `listener` until `shutdown` completes, then finishes the
/// requests in flight and returns. Fails at once (`InvalidInput`) when
/// `config` does not [validate](ServerConfig::validate).
pub async fn serve(
    listener: tokio::net::TcpListener,
    slot: ModelSlot,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(
        ?addr,
        auth = config.auth.is_some(),
        max_concurrent = config.max_concurrent_requests,
        "scoring server listening"
    );
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let service = TowerToHyperService::new(router(slot, config));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors or a connection reset before
                    // accept: keep serving the others.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are small and written once; no Nagle wait behind an
        // unacknowledged segment on a keep-alive connection.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service.clone()));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    tracing::info!("scoring server stopped");
    Ok(())
}
