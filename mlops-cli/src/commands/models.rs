//! `mlops models`: registered models, their versions, aliases and audit log.

use std::io::Write;

use clap::{Args, Subcommand};
use mlops_core::registry::{
    AliasTarget, AuditAction, AuditEntry, ModelRef, ModelVersion, RegisteredModel, Registry,
};
use serde::Serialize;

use super::Context;
use crate::error::Result;
use crate::output::{Report, emit};
use mlops_core::tracking::utc_text;

/// `mlops models ...`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List registered models with their latest version and aliases.
    List,
    /// A model (description, tags, versions, aliases, audit log), or one
    /// version with `NAME@ALIAS` or `NAME/VERSION`.
    Show(ShowArgs),
    /// Point an alias at a version (recorded in the audit log).
    Alias(AliasArgs),
    /// Move an alias back to its previous target.
    Rollback(RollbackArgs),
    /// Register a training run's model package as the next version of NAME
    /// (creates the model if needed; checks the package first).
    Register(RegisterArgs),
    /// Write the package of `NAME@ALIAS` or `NAME/VERSION` to a file.
    Export(super::export::ExportArgs),
}

/// Arguments of `mlops models show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// `NAME`, `NAME@ALIAS` or `NAME/VERSION`.
    pub reference: String,
}

/// Arguments of `mlops models alias`.
#[derive(Debug, Args)]
pub struct AliasArgs {
    /// The model.
    pub name: String,
    /// The alias (`champion`, `challenger`, ...).
    pub alias: String,
    /// The version to point it at.
    pub version: u32,
    /// Why, for the audit log.
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// Arguments of `mlops models register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The model (created if it is not registered yet).
    pub name: String,
    /// The training run whose `model.mlpkg` becomes the version.
    #[arg(long = "run", value_name = "RUN_ID")]
    pub run_id: String,
}

/// Arguments of `mlops models rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The model.
    pub name: String,
    /// The alias to move back.
    pub alias: String,
    /// Why, for the audit log.
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// Runs a `models` command.
pub fn run(ctx: &Context, cmd: ModelsCommand) -> Result<()> {
    if let ModelsCommand::Export(args) = &cmd {
        return super::export::run(ctx, args);
    }
    let registry = Registry::new(ctx.open_existing_store()?);
    match cmd {
        ModelsCommand::List => emit(&list(&registry)?, ctx.json),
        ModelsCommand::Show(args) => match parse_reference(&args.reference)? {
            None => emit(&show_model(&registry, &args.reference)?, ctx.json),
            Some(reference) => emit(&show_version(&registry, &reference)?, ctx.json),
        },
        ModelsCommand::Alias(args) => emit(&set_alias(&registry, &args)?, ctx.json),
        ModelsCommand::Rollback(args) => emit(&rollback(&registry, &args)?, ctx.json),
        ModelsCommand::Register(args) => {
            let tracker = mlops_core::tracking::Tracker::new(registry.store().clone());
            let version = registry.register_run(&tracker, &args.name, &args.run_id)?;
            let detail = VersionDetail {
                version,
                aliases: Vec::new(),
            };
            emit(&detail, ctx.json)
        }
        ModelsCommand::Export(args) => super::export::run(ctx, &args),
    }
}

/// Who the audit log names: `$USER`, else `cli`.
fn actor() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "cli".to_owned())
}

/// `None` for a bare model name, the parsed reference otherwise.
fn parse_reference(text: &str) -> Result<Option<ModelRef>> {
    if text.contains(['@', '/']) {
        Ok(Some(text.parse()?))
    } else {
        Ok(None)
    }
}

/// A model with the aliases that point into it.
#[derive(Debug, Serialize)]
struct ModelEntry {
    #[serde(flatten)]
    model: RegisteredModel,
    aliases: Vec<AliasTarget>,
}

#[derive(Debug, Serialize)]
struct ModelList {
    models: Vec<ModelEntry>,
}

fn list(registry: &Registry) -> Result<ModelList> {
    let models = registry
        .list_models()?
        .into_iter()
        .map(|model| {
            let aliases = registry.list_aliases(&model.name)?;
            Ok(ModelEntry { model, aliases })
        })
        .collect::<Result<_>>()?;
    Ok(ModelList { models })
}

impl Report for ModelList {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let width = self
            .models
            .iter()
            .map(|m| m.model.name.len())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(
            out,
            "{:width$}  {:>6}  {:30}  description",
            "model", "latest", "aliases"
        )?;
        for m in &self.models {
            let line = format!(
                "{:width$}  {:>6}  {:30}  {}",
                m.model.name,
                m.model.latest_version,
                alias_list(&m.aliases),
                m.model.description
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn alias_list(aliases: &[AliasTarget]) -> String {
    let parts: Vec<String> = aliases
        .iter()
        .map(|a| format!("{}->{}", a.alias, a.version))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The report of `mlops models show NAME`.
#[derive(Debug, Serialize)]
struct ModelDetail {
    model: RegisteredModel,
    versions: Vec<ModelVersion>,
    aliases: Vec<AliasTarget>,
    audit: Vec<AuditEntry>,
}

fn show_model(registry: &Registry, name: &str) -> Result<ModelDetail> {
    Ok(ModelDetail {
        model: registry.get_model(name)?,
        versions: registry.list_versions(name)?,
        aliases: registry.list_aliases(name)?,
        audit: registry.audit_log(name)?,
    })
}

impl Report for ModelDetail {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let m = &self.model;
        writeln!(out, "model {}", m.name)?;
        if !m.description.is_empty() {
            writeln!(out, "  {}", m.description)?;
        }
        writeln!(out, "  created {}", utc_text(ms(m.created_at_ms)))?;
        for (k, v) in &m.tags {
            writeln!(out, "  tag {k} = {v}")?;
        }
        writeln!(out, "versions")?;
        for v in &self.versions {
            writeln!(
                out,
                "  {:>4}  {}  run {}  {}",
                v.version,
                utc_text(ms(v.created_at_ms)),
                v.run_id,
                metric_list(v)
            )?;
        }
        writeln!(out, "aliases")?;
        for a in &self.aliases {
            writeln!(
                out,
                "  {} -> {}  (set by {} at {})",
                a.alias,
                a.version,
                a.set_by,
                utc_text(ms(a.set_at_ms))
            )?;
        }
        writeln!(out, "audit log")?;
        for e in &self.audit {
            writeln!(out, "  {}", audit_line(e))?;
        }
        Ok(())
    }
}

fn ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}

fn metric_list(v: &ModelVersion) -> String {
    let parts: Vec<String> = v.metrics.iter().map(|(k, x)| format!("{k}={x}")).collect();
    parts.join(" ")
}

/// `#3 2026-11-23 11:13:58Z ana set-alias champion 1 -> 2: reason`.
fn audit_line(e: &AuditEntry) -> String {
    let action = match e.action {
        AuditAction::RegisterVersion => "register-version",
        AuditAction::DeleteVersion => "delete-version",
        AuditAction::SetAlias => "set-alias",
        AuditAction::DeleteAlias => "delete-alias",
        AuditAction::Rollback => "rollback",
        AuditAction::GateDecision { promoted: true } => "gate-promoted",
        AuditAction::GateDecision { promoted: false } => "gate-refused",
    };
    let version = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let alias = e
        .alias
        .as_deref()
        .map(|a| format!(" {a}"))
        .unwrap_or_default();
    let reason = if e.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", e.reason)
    };
    let details = if e.details.is_empty() {
        String::new()
    } else {
        format!(" ({})", e.details)
    };
    format!(
        "#{} {} {} {action}{alias} {} -> {}{reason}{details}",
        e.seq,
        utc_text(ms(e.at_ms)),
        e.actor,
        version(e.from),
        version(e.to)
    )
}

/// The report of `mlops models show NAME@ALIAS|NAME/VERSION`.
#[derive(Debug, Serialize)]
struct VersionDetail {
    #[serde(flatten)]
    version: ModelVersion,
    /// Aliases pointing at this version.
    aliases: Vec<String>,
}

fn show_version(registry: &Registry, reference: &ModelRef) -> Result<VersionDetail> {
    let version = registry.resolve_ref(reference)?;
    let aliases = registry
        .list_aliases(&version.model)?
        .into_iter()
        .filter(|a| a.version == version.version)
        .map(|a| a.alias)
        .collect();
    Ok(VersionDetail { version, aliases })
}

impl Report for VersionDetail {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let v = &self.version;
        writeln!(out, "model {} version {}", v.model, v.version)?;
        if !self.aliases.is_empty() {
            writeln!(out, "  aliases   {}", self.aliases.join(", "))?;
        }
        writeln!(out, "  run       {}", v.run_id)?;
        writeln!(out, "  artifact digest {}", v.artifact_digest)?;
        if let Some(package) = &v.package_digest {
            writeln!(out, "  package digest  {package}")?;
        }
        if let Some(n) = v.duplicate_of {
            writeln!(out, "  duplicate of version {n} (same package)")?;
        }
        writeln!(out, "  created   {}", utc_text(ms(v.created_at_ms)))?;
        if let Some(source) = &v.source {
            writeln!(out, "  source    {source}")?;
        }
        if !v.description.is_empty() {
            writeln!(out, "  {}", v.description)?;
        }
        for (k, x) in &v.metrics {
            writeln!(out, "  metric {k} = {x}")?;
        }
        for (k, x) in &v.tags {
            writeln!(out, "  tag {k} = {x}")?;
        }
        Ok(())
    }
}

/// The report of `alias` and `rollback`: where the alias points now and
/// where it pointed before (`None` for a new alias).
#[derive(Debug, Serialize)]
struct AliasMove {
    model: String,
    alias: String,
    from: Option<u32>,
    version: u32,
    /// False when the alias already pointed there (nothing was written).
    changed: bool,
    actor: String,
}

fn set_alias(registry: &Registry, args: &AliasArgs) -> Result<AliasMove> {
    // One process holds the store, so this read cannot go stale before the
    // move below.
    let from = registry
        .list_aliases(&args.name)?
        .into_iter()
        .find(|a| a.alias == args.alias)
        .map(|a| a.version);
    let actor = actor();
    let target = registry.set_alias(&args.name, &args.alias, args.version, &actor, &args.reason)?;
    Ok(AliasMove {
        model: target.model,
        alias: target.alias,
        from,
        version: target.version,
        changed: from != Some(target.version),
        actor,
    })
}

fn rollback(registry: &Registry, args: &RollbackArgs) -> Result<AliasMove> {
    let actor = actor();
    let target = registry.rollback(&args.name, &args.alias, &actor, &args.reason)?;
    // The rollback's own audit entry says where the alias came from.
    let from = registry
        .alias_history(&args.name, &args.alias)?
        .last()
        .and_then(|e| e.from);
    Ok(AliasMove {
        model: target.model,
        alias: target.alias,
        from,
        version: target.version,
        changed: true,
        actor,
    })
}

impl Report for AliasMove {
    fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let from = self
            .from
            .map_or_else(|| "(new)".to_owned(), |v| v.to_string());
        if self.changed {
            writeln!(
                out,
                "{}@{}: {from} -> {}",
                self.model, self.alias, self.version
            )
        } else {
            writeln!(
                out,
                "{}@{} already points at {} (nothing changed)",
                self.model, self.alias, self.version
            )
        }
    }
}
