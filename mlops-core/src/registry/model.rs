//! Registered models: name, description, tags and the per-model counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MODELS, Registry, describe_key, validate_name};
use crate::error::{Error, Result};
use crate::store::{WriteBatch, codec};

/// A registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// Unique name (see [`validate_name`](super::validate_name)).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Key-value tags; keys follow the name rules.
    pub tags: BTreeMap<String, String>,
    /// Creation time, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// Last change to the model or any of its versions or aliases.
    pub updated_at_ms: u64,
    /// Highest version number ever given (0: none yet). Deleted numbers are
    /// never reused.
    pub latest_version: u32,
    /// Number of audit entries written for this model.
    pub audit_len: u64,
}

impl Registry {
    /// Registers a new model. Errors: [`Error::InvalidName`],
    /// [`Error::ModelExists`].
    pub fn create_model(&self, name: &str, description: &str) -> Result<RegisteredModel> {
        validate_name("model", name)?;
        let now = self.now_ms();
        let model = RegisteredModel {
            name: name.to_owned(),
            description: description.to_owned(),
            tags: BTreeMap::new(),
            created_at_ms: now,
            updated_at_ms: now,
            latest_version: 0,
            audit_len: 0,
        };
        let mut batch = WriteBatch::new();
        put_model(&mut batch, &model)?;
        // Guarded on absence: of two concurrent creators exactly one wins.
        if !self.store.apply_if(MODELS, name.as_bytes(), None, batch)? {
            return Err(Error::ModelExists {
                model: name.to_owned(),
            });
        }
        self.store.flush()?;
        tracing::info!(model = name, "registered model created");
        Ok(model)
    }

    /// The model named `name`. Errors: [`Error::ModelNotFound`].
    pub fn get_model(&self, name: &str) -> Result<RegisteredModel> {
        self.get_record(MODELS, name.as_bytes(), || {
            describe_key(MODELS, name.as_bytes())
        })?
        .ok_or_else(|| Error::ModelNotFound {
            model: name.to_owned(),
        })
    }

    /// Every registered model, by name.
    pub fn list_models(&self) -> Result<Vec<RegisteredModel>> {
        self.scan_records(MODELS, b"", |k| describe_key(MODELS, k))
    }

    /// Replaces the model's description.
    pub fn set_model_description(&self, name: &str, description: &str) -> Result<RegisteredModel> {
        self.update_model(name, |m| m.description = description.to_owned())
    }

    /// Sets (or replaces) one tag of the model.
    pub fn set_model_tag(&self, name: &str, key: &str, value: &str) -> Result<RegisteredModel> {
        validate_name("tag", key)?;
        self.update_model(name, |m| {
            m.tags.insert(key.to_owned(), value.to_owned());
        })
    }

    /// Removes one tag of the model; removing an absent tag is not an error.
    pub fn remove_model_tag(&self, name: &str, key: &str) -> Result<RegisteredModel> {
        self.update_model(name, |m| {
            m.tags.remove(key);
        })
    }

    fn update_model(
        &self,
        name: &str,
        change: impl Fn(&mut RegisteredModel),
    ) -> Result<RegisteredModel> {
        self.mutate(name, |m, batch, now| {
            change(m);
            m.updated_at_ms = now;
            // Any write makes `mutate` commit the (changed) model record.
            put_model(batch, m)?;
            Ok(m.clone())
        })
    }
}

/// Adds the model record to a batch.
pub(crate) fn put_model(batch: &mut WriteBatch, model: &RegisteredModel) -> Result<()> {
    batch.insert(MODELS, model.name.as_bytes(), codec::encode(model)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::backends;
    use super::*;

    #[test]
    fn create_get_list_and_edit_models() {
        for (_dir, reg) in backends() {
            let m = reg
                .create_model("churn", "churn classifier")
                .expect("create");
            assert_eq!(m.latest_version, 0);
            reg.create_model("fraud", "").expect("create");
            let err = reg.create_model("churn", "again").expect_err("duplicate");
            assert_eq!(err.to_string(), "model `churn` is already registered");
            assert!(matches!(
                reg.create_model("bad name", ""),
                Err(Error::InvalidName { kind: "model", .. })
            ));

            let names: Vec<String> = reg
                .list_models()
                .expect("list")
                .into_iter()
                .map(|m| m.name)
                .collect();
            assert_eq!(names, ["churn", "fraud"]);

            reg.set_model_description("churn", "v2 text").expect("desc");
            reg.set_model_tag("churn", "team", "growth").expect("tag");
            let got = reg.get_model("churn").expect("get");
            assert_eq!(got.description, "v2 text");
            assert_eq!(got.tags.get("team").map(String::as_str), Some("growth"));
            assert!(got.updated_at_ms > got.created_at_ms);
            reg.remove_model_tag("churn", "team").expect("untag");
            assert!(reg.get_model("churn").expect("get").tags.is_empty());

            let err = reg.get_model("nope").expect_err("missing");
            assert!(matches!(err, Error::ModelNotFound { .. }), "{err}");
            assert!(reg.set_model_tag("nope", "k", "v").is_err());
        }
    }
}
