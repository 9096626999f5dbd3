//! `mlops serve`: the MLflow-compatible scoring server.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mlops_core::registry::Registry;
use mlops_core::tracking::Tracker;
use mlops_serve::http::{ModelSlot, serve};
use mlops_serve::rollout::{Canary, Shadow};
use mlops_serve::{ModelHandle, MonitorOptions, Predictor, UnknownCategories};
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
    /// A canary next to `--model`: NAME@ALIAS or NAME/VERSION from the
    /// registry (or FILE.mlpkg). Each request is scored whole by the side
    /// its correlation id routes to; `/metrics` shows both versions. Both
    /// sides are resolved once at start (aliases are not followed).
    #[arg(long)]
    pub canary: Option<String>,
    /// Share of requests routed to the canary, in `[0, 1]`.
    #[arg(long, default_value_t = 0.1, requires = "canary")]
    pub canary_weight: f64,
    /// Salt of the canary's routing hash (the same salt routes the same
    /// correlation ids to the same side across restarts).
    #[arg(long, default_value_t = 0, requires = "canary")]
    pub canary_salt: u64,
    /// A shadow challenger of `--model` (NAME@ALIAS, NAME/VERSION or
    /// FILE.mlpkg): it scores every request too, only `--model` answers;
    /// `/metrics` shows both versions and their agreement. Resolved once.
    #[arg(long, conflicts_with = "canary")]
    pub shadow: Option<String>,
    /// A category never seen in training: `report` scores it in the unknown
    /// bucket and counts it (`mlops_unknown_categories_total`), `ignore`
    /// scores it without counting, `error` answers 400 naming the column,
    /// the value and the known values. Applies to every side and version.
    #[arg(long, default_value_t = UnknownCategories::Report, value_name = "report|error|ignore")]
    pub unknown_categories: UnknownCategories,
    #[command(flatten)]
    pub limits: super::serve_limits::LimitArgs,
}

/// A package file path rather than a registry reference.
fn is_file(model: &str) -> bool {
    model.ends_with(".mlpkg") || std::path::Path::new(model).is_file()
}

/// Loads `model` once: a package file or a registry reference.
fn load_once(ctx: &Context, model: &str, policy: UnknownCategories) -> Result<Predictor> {
    if is_file(model) {
        return Ok(Predictor::from_file(model)?.with_unknown_categories(policy));
    }
    let store = ctx.open_existing_store()?;
    let registry = Registry::new(Arc::clone(&store));
    Ok(
        Predictor::from_registry(&registry, &Tracker::new(store), model)?
            .with_unknown_categories(policy),
    )
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
    let policy = args.unknown_categories;
    let mut _poller = None;
    if let Some(canary) = &args.canary {
        let stable = load_once(ctx, &args.model, policy)?;
        let candidate = load_once(ctx, canary, policy)?;
        tracing::info!(
            stable = %stable.id(),
            canary = %candidate.id(),
            weight = args.canary_weight,
            "serving a canary"
        );
        slot.canary(Arc::new(Canary::new(
            stable,
            candidate,
            args.canary_weight,
            args.canary_salt,
        )?));
    } else if let Some(challenger) = &args.shadow {
        let primary = load_once(ctx, &args.model, policy)?;
        let challenger = load_once(ctx, challenger, policy)?;
        tracing::info!(primary = %primary.id(), challenger = %challenger.id(), "serving a shadow");
        slot.shadow(Arc::new(Shadow::new(primary, challenger)));
    } else if is_file(&args.model) {
        slot.load(load_once(ctx, &args.model, policy)?);
    } else {
        let store = ctx.open_existing_store()?;
        let registry = Registry::new(Arc::clone(&store));
        let tracker = Tracker::new(store);
        if args.model.contains('@') {
            // Every version the alias moves to gets the same policy.
            let reg = registry.clone();
            let handle = ModelHandle::with_loader(registry, &args.model, move |name, version| {
                Predictor::from_registry_version(
                    &reg,
                    &tracker,
                    name,
                    version,
                    &MonitorOptions::default(),
                )
                .map(|p| p.with_unknown_categories(policy))
            })?;
            _poller = Some(handle.poll_every(Duration::from_secs(args.poll_seconds.max(1)))?);
            slot.follow(handle);
        } else {
            slot.load(
                Predictor::from_registry(&registry, &tracker, &args.model)?
                    .with_unknown_categories(policy),
            );
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
