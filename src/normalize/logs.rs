//! Logs: `otel_logs_fact` rows and `otel_log_attrs_*` rows from an ExportLogsServiceRequest.

use super::anyvalue::write_value;
use super::checks::{check_text, check_value};
use super::encode::{EncodeContext, EncodeError};
use super::tables::{LOGS, TableSet};
use super::walk::Walk;
use crate::otlp::storable;
use crate::schema::attributes::LOG;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// prepare: identities, promoted keys and counts of a logs request.
pub(crate) fn walk<'a>(w: &mut Walk<'a>, req: &'a ExportLogsServiceRequest) -> Result<(), String> {
    for rl in &req.resource_logs {
        w.resource(rl.resource.as_ref(), &rl.schema_url)?;
        for sl in &rl.scope_logs {
            w.scope(sl.scope.as_ref(), &sl.schema_url)?;
            for log in &sl.log_records {
                storable::severity_number(log.severity_number).map_err(|e| format!("log {e}"))?;
                w.counts.logs += 1;
                check_text("log severity_text", &log.severity_text)?;
                check_text("log event_name", &log.event_name)?;
                check_value("log body", log.body.as_ref().and_then(|b| b.value.as_ref()))?;
                w.attributes("log attribute", LOG, &log.attributes)?;
            }
        }
    }
    Ok(())
}

/// encode: one fact row per log record plus its attribute rows.
pub(crate) fn encode<'a>(
    set: &mut TableSet,
    ctx: &mut EncodeContext<'a>,
    req: &'a ExportLogsServiceRequest,
) -> Result<(), EncodeError> {
    for (ri, rl) in req.resource_logs.iter().enumerate() {
        let resource_id = ctx.resource_id(ri)?;
        for sl in &rl.scope_logs {
            let scope_id = ctx.next_scope_id()?;
            for log in &sl.log_records {
                let log_id = ctx.next_id()?;
                let observed = ctx.time("observed_time_unix_nano", log.observed_time_unix_nano)?;
                let time_unset = log.time_unix_nano == 0;
                // The partition key must be set: the record's time, else its observed time, else the receive time.
                let time = match ctx.time("time_unix_nano", log.time_unix_nano)? {
                    Some(t) => t,
                    None => match observed {
                        Some(t) => t,
                        None => ctx.required_time("received_at", ctx.received_at)?,
                    },
                };
                let severity = storable::severity_number(log.severity_number).map_err(|e| ctx.err(e))?;
                let attr_set_key = ctx.attrs.write(set, LOG, log_id, Some(time), &log.attributes)?;

                let w = set.w(LOGS);
                w.row(24);
                w.i64(log_id);
                w.time_and_fraction(Some(time));
                w.bool(time_unset);
                w.time_and_fraction(observed);
                w.i16(severity);
                w.text(&log.severity_text);
                write_body(w, log.body.as_ref());
                w.bytea_or_null(&log.trace_id);
                w.bytea_or_null(&log.span_id);
                w.i32(log.flags as i32);
                w.text(&log.event_name);
                w.i32(log.dropped_attributes_count as i32);
                w.i64(resource_id);
                w.i64(scope_id);
                w.i64_or_null(attr_set_key);
                ctx.attrs.write_row_json(w);
            }
        }
    }
    Ok(())
}

/// `body_type` and the six `body_*` columns: the one matching the AnyValue case is set, the others NULL.
fn write_body(w: &mut super::copy::CopyWriter, body: Option<&AnyValue>) {
    let value = body.and_then(|b| b.value.as_ref());
    let (body_type, slot) = match value {
        None | Some(Value::StringValueStrindex(_)) => (0, None),
        Some(Value::StringValue(_)) => (1, Some(0)),
        Some(Value::IntValue(_)) => (2, Some(1)),
        Some(Value::DoubleValue(_)) => (3, Some(2)),
        Some(Value::BoolValue(_)) => (4, Some(3)),
        Some(Value::BytesValue(_)) => (5, Some(4)),
        Some(Value::ArrayValue(_)) => (6, Some(5)),
        Some(Value::KvlistValue(_)) => (7, Some(5)),
    };
    w.i16(body_type);
    for column in 0..6 {
        if slot != Some(column) {
            w.null();
            continue;
        }
        match value {
            Some(Value::StringValue(s)) => w.text(s),
            Some(Value::IntValue(i)) => w.i64(*i),
            Some(Value::DoubleValue(d)) => w.f64(*d),
            Some(Value::BoolValue(b)) => w.bool(*b),
            Some(Value::BytesValue(b)) => w.bytea(b),
            Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => w.jsonb_with(|buf| write_value(buf, Some(v))),
            _ => w.null(),
        }
    }
}
