//! The span conditions of a trace search, as SQL on span alias `s`.

use sqlx::{Postgres, QueryBuilder};

use crate::query::params::{AttrFilter, AttrScope, Op, Window};
use crate::query::record_attributes as attrs;
use crate::schema::attributes::{RESOURCE, SPAN};

/// The span filters of a trace search; a trace matches when one of its spans passes them all.
pub(super) struct SpanFilters {
    pub(super) window: Window,
    /// The resources of the `service` and `namespace` filters, when there are such filters.
    pub(super) resources: Option<Vec<i64>>,
    pub(super) name: Option<String>,
    pub(super) not_names: Vec<String>,
    pub(super) name_patterns: Vec<(Op, String)>,
    pub(super) kind: Option<i16>,
    pub(super) not_kinds: Vec<i16>,
    pub(super) status: Option<i16>,
    pub(super) not_statuses: Vec<i16>,
    pub(super) min_d: Option<u64>,
    pub(super) max_d: Option<u64>,
    pub(super) attrs: Vec<AttrFilter>,
}

/// How [`SpanFilters::push`] writes the span attribute filters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AttrForm {
    /// `IN (the window's matching spans)`: for conditions on many spans.
    Set,
    /// Correlated probes of each span's attribute rows: for conditions on a few spans.
    Probe,
    /// As `Probe`, leaving out the attribute filter at this index (already known to hold).
    ProbeBut(usize),
}

impl SpanFilters {
    /// `s.start_time >= ... AND ...` on span alias `s`; without `window`, the time window is left out.
    pub(super) fn push(&self, qb: &mut QueryBuilder<Postgres>, window: bool, form: AttrForm) {
        self.push_with(qb, window, form, true);
    }

    /// [`Self::push`], leaving out the resource condition when `resources` is false.
    pub(super) fn push_with(&self, qb: &mut QueryBuilder<Postgres>, window: bool, form: AttrForm, resources: bool) {
        qb.push("TRUE");
        if window {
            self.push_window(qb);
        }
        if let Some(ids) = self.resources.as_ref().filter(|_| resources) {
            qb.push(" AND s.resource_id = ANY(").push_bind(ids.clone()).push(")");
        }
        if let Some(n) = &self.name {
            qb.push(" AND s.name = ").push_bind(n.clone());
        }
        if !self.not_names.is_empty() {
            qb.push(" AND s.name <> ALL(").push_bind(self.not_names.clone()).push(")");
        }
        for (op, re) in &self.name_patterns {
            qb.push(" AND ");
            attrs::push_pattern(qb, *op, re, |qb| {
                qb.push("s.name");
            });
        }
        if let Some(k) = self.kind {
            qb.push(" AND s.kind = ").push_bind(k);
        }
        if !self.not_kinds.is_empty() {
            qb.push(" AND s.kind <> ALL(").push_bind(self.not_kinds.clone()).push(")");
        }
        if let Some(c) = self.status {
            qb.push(" AND s.status_code = ").push_bind(c);
        }
        if !self.not_statuses.is_empty() {
            qb.push(" AND s.status_code <> ALL(").push_bind(self.not_statuses.clone()).push(")");
        }
        if let Some(d) = self.min_d {
            qb.push(" AND s.duration_ns >= ").push_bind(d as i64);
        }
        if let Some(d) = self.max_d {
            qb.push(" AND s.duration_ns <= ").push_bind(d as i64);
        }
        for (i, f) in self.attrs.iter().enumerate() {
            if form == AttrForm::ProbeBut(i) {
                continue;
            }
            qb.push(" AND ");
            match f.scope {
                AttrScope::Record if form != AttrForm::Set => {
                    attrs::push_filter_probe(qb, &SPAN, "s", Some(&self.window), f)
                }
                AttrScope::Record => attrs::push_filter(qb, &SPAN, "s", Some(&self.window), f),
                AttrScope::Resource => attrs::push_filter(qb, &RESOURCE, "s", None, f),
            }
        }
    }
}

impl SpanFilters {
    /// ` AND s.start_time >= ... AND s.start_time < ...`.
    pub(super) fn push_window(&self, qb: &mut QueryBuilder<Postgres>) {
        qb.push(" AND s.start_time >= ").push_bind(self.window.from_ts());
        qb.push(" AND s.start_time < ").push_bind(self.window.to_ts());
    }
}
