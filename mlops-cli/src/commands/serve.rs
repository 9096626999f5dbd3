//! `mlops serve`: the MLflow-compatible scoring server.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mlops_core::registry::Registry;
use mlops_core::tracking::Tracker;
use mlops_serve::http::{ModelSlot, serve};
use mlops_serve::{ModelHandle, Predictor};
use serde::Serialize;

use super::Context;
use crate::error::{CliError, Result};

/// `mlops serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The model: NAME@ALIAS (followed: a moved alias is picked up),
    /// NAME/VERSION, or FILE.mlpkg.
    #[arg(long)]
    pub model: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = mlops_serve::http::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// How often to check whether the alias moved, in seconds.
    #[arg(long, default_value_t = 5)]
    pub poll_seconds: u64,
    #[command(flatten)]
    pub limits: super::serve_limits::LimitArgs,
}

#[derive(Serialize)]
struct Listening<'a> {
    addr: String,
    model: &'a str,
}

/// Runs `mlops serve` until Ctrl-C or SIGTERM, then drains open requests.
pub fn run(ctx: &Context, args: ServeArgs) -> Result<()> {
    let config = args.limits.config(args.max_body_bytes)?;
    let slot = ModelSlot::new();
    let mut _poller = None;
    if args.model.ends_with(".mlpkg") || std::path::Path::new(&args.model).is_file() {
        slot.load(Predictor::from_file(&args.model)?);
    } else {
        let store = ctx.open_existing_store()?;
        let registry = Registry::new(Arc::clone(&store));
        let tracker = Tracker::new(store);
        if args.model.contains('@') {
            let handle = ModelHandle::follow(registry, tracker, &args.model)?;
            _poller = Some(handle.poll_every(Duration::from_secs(args.poll_seconds.max(1)))?);
            slot.follow(handle);
        } else {
            slot.load(Predictor::from_registry(&registry, &tracker, &args.model)?);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io {
            path: "tokio runtime".into(),
            source: e,
        })?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|source| CliError::Io {
                path: args.addr.to_string().into(),
                source,
            })?;
        let addr = listener.local_addr().map_err(CliError::Output)?;
        announce(ctx.json, &addr, &args.model)?;
        serve(listener, slot, config, shutdown_signal())
            .await
            .map_err(|source| CliError::Io {
                path: addr.to_string().into(),
                source,
            })
    })
}

/// One line saying where the server listens: JSON on stdout with `--json`
/// (so a script can read the port), text on stderr otherwise.
fn announce(json: bool, addr: &SocketAddr, model: &str) -> Result<()> {
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(
            &mut out,
            &Listening {
                addr: addr.to_string(),
                model,
            },
        )?;
        writeln!(out).map_err(CliError::Output)?;
        out.flush().map_err(CliError::Output)
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "serving {model} on http://{addr} (Ctrl-C stops)"
        );
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; draining open requests");
}
