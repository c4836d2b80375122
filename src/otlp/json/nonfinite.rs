//! Placing doubles given as "NaN", "Infinity" or "-Infinity" into a decoded request.
//!
//! protojson writes non-finite doubles as those strings, but `serde_json::Value` cannot hold them and the stock
//! deserializer only reads them in two fields; the rewrite pass leaves a 0.0 placeholder and records the JSON
//! path, and this module sets the real value at that path in the typed request.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, exemplar, metric::Data, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::Seg;

/// Sets a double at a JSON field path of a decoded request (implemented for the three request types).
pub trait SetDouble {
    /// Sets the double at `path` (lowerCamelCase names and indices from the request root); false when no double
    /// field is there.
    fn set_double(&mut self, path: &[Seg], value: f64) -> bool;
}

/// Walks a path one step at a time.
struct Cursor<'p>(&'p [Seg]);

impl Cursor<'_> {
    fn key(&mut self) -> Option<&'static str> {
        match self.0.split_first() {
            Some((Seg::Key(k), rest)) => {
                self.0 = rest;
                Some(k)
            }
            _ => None,
        }
    }

    fn expect(&mut self, name: &str) -> Option<()> {
        (self.key()? == name).then_some(())
    }

    fn index(&mut self) -> Option<usize> {
        match self.0.split_first() {
            Some((Seg::Index(i), rest)) => {
                self.0 = rest;
                Some(*i)
            }
            _ => None,
        }
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

fn set_any(v: &mut AnyValue, mut c: Cursor, x: f64) -> Option<()> {
    match (c.key()?, &mut v.value) {
        ("doubleValue", Some(Value::DoubleValue(d))) => {
            c.end()?;
            *d = x;
            Some(())
        }
        ("arrayValue", Some(Value::ArrayValue(a))) => {
            c.expect("values")?;
            let item = a.values.get_mut(c.index()?)?;
            set_any(item, c, x)
        }
        ("kvlistValue", Some(Value::KvlistValue(kv))) => {
            c.expect("values")?;
            set_attrs(&mut kv.values, c, x)
        }
        _ => None,
    }
}

fn set_attrs(attrs: &mut [KeyValue], mut c: Cursor, x: f64) -> Option<()> {
    let kv = attrs.get_mut(c.index()?)?;
    c.expect("value")?;
    set_any(kv.value.as_mut()?, c, x)
}

fn set_resource(r: Option<&mut Resource>, mut c: Cursor, x: f64) -> Option<()> {
    c.expect("attributes")?;
    set_attrs(&mut r?.attributes, c, x)
}

fn set_scope(s: Option<&mut InstrumentationScope>, mut c: Cursor, x: f64) -> Option<()> {
    c.expect("attributes")?;
    set_attrs(&mut s?.attributes, c, x)
}

fn set_f64(field: &mut f64, c: Cursor, x: f64) -> Option<()> {
    c.end()?;
    *field = x;
    Some(())
}

fn set_opt_f64(field: &mut Option<f64>, c: Cursor, x: f64) -> Option<()> {
    c.end()?;
    *field = Some(x);
    Some(())
}

fn set_exemplar(exemplars: &mut [Exemplar], mut c: Cursor, x: f64) -> Option<()> {
    let e = exemplars.get_mut(c.index()?)?;
    match (c.key()?, &mut e.value) {
        ("asDouble", Some(exemplar::Value::AsDouble(d))) => set_f64(d, c, x),
        ("filteredAttributes", _) => set_attrs(&mut e.filtered_attributes, c, x),
        _ => None,
    }
}

impl SetDouble for ExportTraceServiceRequest {
    fn set_double(&mut self, path: &[Seg], value: f64) -> bool {
        let mut c = Cursor(path);
        let go = || -> Option<()> {
            c.expect("resourceSpans")?;
            let rs = self.resource_spans.get_mut(c.index()?)?;
            match c.key()? {
                "resource" => return set_resource(rs.resource.as_mut(), c, value),
                "scopeSpans" => {}
                _ => return None,
            }
            let ss = rs.scope_spans.get_mut(c.index()?)?;
            match c.key()? {
                "scope" => return set_scope(ss.scope.as_mut(), c, value),
                "spans" => {}
                _ => return None,
            }
            let span = ss.spans.get_mut(c.index()?)?;
            match c.key()? {
                "attributes" => set_attrs(&mut span.attributes, c, value),
                "events" => {
                    let e = span.events.get_mut(c.index()?)?;
                    c.expect("attributes")?;
                    set_attrs(&mut e.attributes, c, value)
                }
                "links" => {
                    let l = span.links.get_mut(c.index()?)?;
                    c.expect("attributes")?;
                    set_attrs(&mut l.attributes, c, value)
                }
                _ => None,
            }
        };
        go().is_some()
    }
}

impl SetDouble for ExportLogsServiceRequest {
    fn set_double(&mut self, path: &[Seg], value: f64) -> bool {
        let mut c = Cursor(path);
        let go = || -> Option<()> {
            c.expect("resourceLogs")?;
            let rl = self.resource_logs.get_mut(c.index()?)?;
            match c.key()? {
                "resource" => return set_resource(rl.resource.as_mut(), c, value),
                "scopeLogs" => {}
                _ => return None,
            }
            let sl = rl.scope_logs.get_mut(c.index()?)?;
            match c.key()? {
                "scope" => return set_scope(sl.scope.as_mut(), c, value),
                "logRecords" => {}
                _ => return None,
            }
            let log = sl.log_records.get_mut(c.index()?)?;
            match c.key()? {
                "attributes" => set_attrs(&mut log.attributes, c, value),
                "body" => set_any(log.body.as_mut()?, c, value),
                _ => None,
            }
        };
        go().is_some()
    }
}

impl SetDouble for ExportMetricsServiceRequest {
    fn set_double(&mut self, path: &[Seg], value: f64) -> bool {
        let mut c = Cursor(path);
        let x = value;
        let go = || -> Option<()> {
            c.expect("resourceMetrics")?;
            let rm = self.resource_metrics.get_mut(c.index()?)?;
            match c.key()? {
                "resource" => return set_resource(rm.resource.as_mut(), c, x),
                "scopeMetrics" => {}
                _ => return None,
            }
            let sm = rm.scope_metrics.get_mut(c.index()?)?;
            match c.key()? {
                "scope" => return set_scope(sm.scope.as_mut(), c, x),
                "metrics" => {}
                _ => return None,
            }
            let metric = sm.metrics.get_mut(c.index()?)?;
            let kind = c.key()?;
            if kind == "metadata" {
                return set_attrs(&mut metric.metadata, c, x);
            }
            c.expect("dataPoints")?;
            let i = c.index()?;
            match (kind, metric.data.as_mut()?) {
                ("gauge", Data::Gauge(g)) => set_number_point(g.data_points.get_mut(i)?, c, x),
                ("sum", Data::Sum(s)) => set_number_point(s.data_points.get_mut(i)?, c, x),
                ("histogram", Data::Histogram(h)) => {
                    let p = h.data_points.get_mut(i)?;
                    match c.key()? {
                        "sum" => set_opt_f64(&mut p.sum, c, x),
                        "min" => set_opt_f64(&mut p.min, c, x),
                        "max" => set_opt_f64(&mut p.max, c, x),
                        "explicitBounds" => {
                            let b = p.explicit_bounds.get_mut(c.index()?)?;
                            set_f64(b, c, x)
                        }
                        "attributes" => set_attrs(&mut p.attributes, c, x),
                        "exemplars" => set_exemplar(&mut p.exemplars, c, x),
                        _ => None,
                    }
                }
                ("exponentialHistogram", Data::ExponentialHistogram(h)) => {
                    let p = h.data_points.get_mut(i)?;
                    match c.key()? {
                        "sum" => set_opt_f64(&mut p.sum, c, x),
                        "min" => set_opt_f64(&mut p.min, c, x),
                        "max" => set_opt_f64(&mut p.max, c, x),
                        "zeroThreshold" => set_f64(&mut p.zero_threshold, c, x),
                        "attributes" => set_attrs(&mut p.attributes, c, x),
                        "exemplars" => set_exemplar(&mut p.exemplars, c, x),
                        _ => None,
                    }
                }
                ("summary", Data::Summary(s)) => {
                    let p = s.data_points.get_mut(i)?;
                    match c.key()? {
                        "sum" => set_f64(&mut p.sum, c, x),
                        "attributes" => set_attrs(&mut p.attributes, c, x),
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        go().is_some()
    }
}

fn set_number_point(
    p: &mut opentelemetry_proto::tonic::metrics::v1::NumberDataPoint,
    mut c: Cursor,
    x: f64,
) -> Option<()> {
    match (c.key()?, &mut p.value) {
        ("asDouble", Some(number_data_point::Value::AsDouble(d))) => set_f64(d, c, x),
        ("attributes", _) => set_attrs(&mut p.attributes, c, x),
        ("exemplars", _) => set_exemplar(&mut p.exemplars, c, x),
        _ => None,
    }
}
