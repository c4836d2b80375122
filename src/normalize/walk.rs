//! What prepare gathers while walking one decoded request: hashes and rows of its resources and scopes, its
//! promoted and unpromoted keys, and its fact counts. The per-signal walks (`traces`, `logs`, `metrics`) drive it.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::Promotion;
use super::attrs::RuleCache;
use super::checks::{check_attributes, check_text};
use super::dimensions::{MetricDim, ResourceDim, ScopeDim};
use super::identity::{Hash, IdentityHasher, canonical_attributes};
use super::ids::FactCounts;
use crate::schema::attributes::{RESOURCE, SCOPE};
use crate::schema::{AttrLevel, PromotionLevel};

/// What prepare gathers while walking one request.
pub(crate) struct Walk<'a> {
    pub rules: RuleCache<'a>,
    pub used: Vec<&'a str>,
    pub other_used: Vec<(PromotionLevel, &'a str)>,
    pub hasher: IdentityHasher,
    pub resource_hashes: Vec<Hash>,
    pub scope_hashes: Vec<Hash>,
    pub metric_hashes: Vec<Option<Hash>>,
    pub resources: Vec<ResourceDim>,
    pub scopes: Vec<ScopeDim>,
    pub metrics: Vec<MetricDim>,
    pub counts: FactCounts,
}

fn string_attr(attrs: &[&KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

impl<'a> Walk<'a> {
    pub(super) fn new(promotion: &'a Promotion) -> Self {
        Walk {
            rules: RuleCache::new(promotion),
            used: Vec::new(),
            other_used: Vec::new(),
            hasher: IdentityHasher::new(),
            resource_hashes: Vec::new(),
            scope_hashes: Vec::new(),
            metric_hashes: Vec::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
            metrics: Vec::new(),
            counts: FactCounts::default(),
        }
    }

    /// Notes the promoted keys of a fact's attributes.
    pub fn attributes(&mut self, what: &str, level: AttrLevel, attrs: &'a [KeyValue]) -> Result<(), String> {
        check_attributes(what, attrs)?;
        self.rules.collect_keys(level.promotion, attrs, &mut self.used, &mut self.other_used);
        Ok(())
    }

    /// Hashes a ResourceX's resource and records its dimension row.
    pub fn resource(&mut self, resource: Option<&'a Resource>, schema_url: &str) -> Result<(), String> {
        let (attrs, dropped) = match resource {
            Some(r) => (&r.attributes[..], r.dropped_attributes_count),
            None => (&[][..], 0),
        };
        check_text("resource schema_url", schema_url)?;
        self.attributes("resource attribute", RESOURCE, attrs)?;
        let kept = self.rules.kept(attrs);
        let hash = self.hasher.resource(&kept, schema_url);
        self.resource_hashes.push(hash);
        if self.resources.iter().any(|d| d.hash == hash) {
            return Ok(());
        }
        let canonical = canonical_attributes(&kept);
        self.resources.push(ResourceDim {
            hash,
            service_name: string_attr(&canonical, "service.name"),
            service_namespace: string_attr(&canonical, "service.namespace"),
            schema_url: schema_url.to_string(),
            dropped_attributes_count: dropped,
            attributes: canonical.into_iter().cloned().collect(),
        });
        Ok(())
    }

    /// Hashes a ScopeX's scope and records its dimension row.
    pub fn scope(&mut self, scope: Option<&'a InstrumentationScope>, schema_url: &str) -> Result<(), String> {
        let (name, version, attrs, dropped) = match scope {
            Some(s) => (&s.name[..], &s.version[..], &s.attributes[..], s.dropped_attributes_count),
            None => ("", "", &[][..], 0),
        };
        check_text("scope schema_url", schema_url)?;
        check_text("scope name", name)?;
        check_text("scope version", version)?;
        self.attributes("scope attribute", SCOPE, attrs)?;
        let kept = self.rules.kept(attrs);
        let hash = self.hasher.scope(name, version, &kept, schema_url);
        self.scope_hashes.push(hash);
        if self.scopes.iter().any(|d| d.hash == hash) {
            return Ok(());
        }
        self.scopes.push(ScopeDim {
            hash,
            name: name.to_string(),
            version: version.to_string(),
            schema_url: schema_url.to_string(),
            dropped_attributes_count: dropped,
            attributes: canonical_attributes(&kept).into_iter().cloned().collect(),
        });
        Ok(())
    }
}
