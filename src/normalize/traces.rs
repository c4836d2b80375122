//! Traces: `otel_spans_fact`, `otel_span_events`, `otel_span_links` and their `*_attrs_*` rows from an
//! ExportTraceServiceRequest.

use super::checks::check_text;
use super::encode::{EncodeContext, EncodeError};
use super::tables::{EVENTS, LINKS, SPANS, TableSet};
use super::walk::Walk;
use crate::otlp::storable;
use crate::schema::attributes::{SPAN, SPAN_EVENT, SPAN_LINK};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// prepare: identities, promoted keys and counts of a traces request.
pub(crate) fn walk<'a>(w: &mut Walk<'a>, req: &'a ExportTraceServiceRequest) -> Result<(), String> {
    for rs in &req.resource_spans {
        w.resource(rs.resource.as_ref(), &rs.schema_url)?;
        for ss in &rs.scope_spans {
            w.scope(ss.scope.as_ref(), &ss.schema_url)?;
            for span in &ss.spans {
                storable::span_kind(span.kind).map_err(|e| format!("span {e}"))?;
                storable::status_code(span.status.as_ref().map_or(0, |s| s.code)).map_err(|e| format!("span {e}"))?;
                w.counts.spans += 1;
                check_text("span name", &span.name)?;
                check_text("span trace_state", &span.trace_state)?;
                check_text("span status message", span.status.as_ref().map_or("", |s| &s.message))?;
                w.attributes("span attribute", SPAN, &span.attributes)?;
                for event in &span.events {
                    w.counts.events += 1;
                    check_text("span event name", &event.name)?;
                    w.attributes("span event attribute", SPAN_EVENT, &event.attributes)?;
                }
                for link in &span.links {
                    w.counts.links += 1;
                    check_text("span link trace_state", &link.trace_state)?;
                    w.attributes("span link attribute", SPAN_LINK, &link.attributes)?;
                }
            }
        }
    }
    Ok(())
}

/// encode: span, event and link rows plus their attribute rows.
pub(crate) fn encode<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    req: &'a ExportTraceServiceRequest,
) -> Result<(), EncodeError> {
    for (ri, rs) in req.resource_spans.iter().enumerate() {
        let resource_id = ctx.resource_id(ri)?;
        for ss in &rs.scope_spans {
            let scope_id = ctx.next_scope_id()?;
            for span in &ss.spans {
                let span_row_id = ctx.next_id()?;
                let start = ctx.required_time("start_time_unix_nano", span.start_time_unix_nano)?;
                let end = ctx.required_time("end_time_unix_nano", span.end_time_unix_nano)?;
                // Both are <= i64::MAX (checked by the conversion), so the difference fits in i64.
                let duration = span.end_time_unix_nano as i64 - span.start_time_unix_nano as i64;
                let kind = storable::span_kind(span.kind).map_err(|e| ctx.err(e))?;
                let (status_code, status_message) = match &span.status {
                    Some(s) => (s.code, &s.message[..]),
                    None => (0, ""),
                };
                let status_code = storable::status_code(status_code).map_err(|e| ctx.err(e))?;
                let attr_set_key = ctx.attrs.write(set, SPAN, span_row_id, Some(start), &span.attributes)?;

                let w = set.w(SPANS);
                w.row(22);
                w.i64(span_row_id);
                w.time_and_fraction(Some(start));
                w.time_and_fraction(Some(end));
                w.i64(duration);
                w.bytea(&span.trace_id);
                w.bytea(&span.span_id);
                w.bytea_or_null(&span.parent_span_id);
                w.text(&span.trace_state);
                w.i32(span.flags as i32);
                w.text(&span.name);
                w.i16(kind);
                w.i16(status_code);
                w.text(status_message);
                w.i32(span.dropped_attributes_count as i32);
                w.i32(span.dropped_events_count as i32);
                w.i32(span.dropped_links_count as i32);
                w.i64(resource_id);
                w.i64(scope_id);
                w.i64_or_null(attr_set_key);
                ctx.attrs.write_row_json(w);

                for (index, event) in span.events.iter().enumerate() {
                    let event_row_id = ctx.next_id()?;
                    let time = ctx.time("event time_unix_nano", event.time_unix_nano)?;
                    let w = set.w(EVENTS);
                    w.row(8);
                    w.i64(event_row_id);
                    w.i64(span_row_id);
                    w.timestamptz(start);
                    w.i32(index as i32);
                    w.time_and_fraction(time);
                    w.text(&event.name);
                    w.i32(event.dropped_attributes_count as i32);
                    ctx.attrs.write(set, SPAN_EVENT, event_row_id, Some(start), &event.attributes)?;
                }

                for (index, link) in span.links.iter().enumerate() {
                    let link_row_id = ctx.next_id()?;
                    let w = set.w(LINKS);
                    w.row(9);
                    w.i64(link_row_id);
                    w.i64(span_row_id);
                    w.timestamptz(start);
                    w.i32(index as i32);
                    w.bytea(&link.trace_id);
                    w.bytea(&link.span_id);
                    w.text(&link.trace_state);
                    w.i32(link.flags as i32);
                    w.i32(link.dropped_attributes_count as i32);
                    ctx.attrs.write(set, SPAN_LINK, link_row_id, Some(start), &link.attributes)?;
                }
            }
        }
    }
    Ok(())
}
