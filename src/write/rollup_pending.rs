//! Span rollups held back while the writer is behind (`otel_span_rollups_pending`, migrations/0022).
//!
//! Upserting a batch's rollups costs PostgreSQL an index probe, a row lock, a histogram merge and a new row
//! version per key; on a load of many operations that is thousands of rows per batch, most of them the same
//! keys and minutes as the batch before. So while WAL records wait behind a batch, the pipeline has it
//! [`defer`] its rollups: they are stored as one row, in the batch's own transaction, which keeps them exactly
//! once without any state in this process. The next batch of the same WAL that adds its rollups first
//! [`take`]s every deferred row (deleting them in its transaction) and upserts the sum once. A crash loses
//! nothing: the rows are committed with their batches, and the pipeline adds whatever it finds on start.
//!
//! Only the writer of a WAL takes its rows, after its predecessor committed (`Turn`), so two transactions
//! never contend for them. The price is freshness: while the writer is behind, the rollup tables trail the
//! spans by the batches deferred (bounded by the pipeline; see `pipeline.rs`).

use sqlx::{PgConnection, Row};

use super::rollup_tables::{Edges, Operations, Services, Table, Tally, add_all};
use crate::normalize::rollup::SpanRollups;

/// The table of deferred rollups.
pub const TABLE: &str = "otel_span_rollups_pending";

/// What a batch does with its span rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupPlan {
    /// Adds them, with every row this WAL's batches deferred, to the rollup tables.
    Add,
    /// Stores them for a later batch of the same WAL to add.
    Defer,
}

/// The first byte of an encoded row: a server that cannot read a format refuses the row instead of misreading it.
const FORMAT: u8 = 1;

/// A row of one table as stored here: key, counts, latency histogram in its stored form, minimum, maximum.
type Stored<K> = (K, [i64; 3], Vec<i64>, i64, i64);

/// The rows of the three tables, services, operations and edges, with keys `S`, `O` and `E`.
type Tables<S, O, E> = (Vec<Stored<S>>, Vec<Stored<O>>, Vec<Stored<E>>);

/// Table `T`'s rows of `r`, borrowed for encoding.
fn stored<T: Table>(r: &SpanRollups) -> Vec<Stored<&T::Key>> {
    T::map(r).iter().map(|(k, v)| (k, v.counts(), v.latency().encode(), v.latency().min(), v.latency().max())).collect()
}

/// Adds decoded rows of table `T` to `r`; the histograms are checked as stored ones are.
fn add_stored<T: Table>(r: &mut SpanRollups, rows: Vec<Stored<T::Key>>) -> Result<(), String> {
    for (key, counts, elements, min, max) in rows {
        let v = T::map_mut(r).entry(key).or_default();
        v.add_counts(counts);
        v.latency_mut().merge_stored(&elements, min, max)?;
    }
    Ok(())
}

/// The three tables' rows of `r` (not its lookups, which the batch has done) in this module's format.
pub fn encode(r: &SpanRollups) -> Result<Vec<u8>, String> {
    let rows = (stored::<Services>(r), stored::<Operations>(r), stored::<Edges>(r));
    let mut out = vec![FORMAT];
    bincode::encode_into_std_write(rows, &mut out, bincode::config::standard()).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Adds rows [`encode`]d into `r`; on an error `r` is unchanged.
pub fn decode_into(bytes: &[u8], r: &mut SpanRollups) -> Result<(), String> {
    type Rows = Tables<<Services as Table>::Key, <Operations as Table>::Key, <Edges as Table>::Key>;
    let Some((&format, body)) = bytes.split_first() else { return Err("empty row".into()) };
    if format != FORMAT {
        return Err(format!("format {format}, this server reads {FORMAT}"));
    }
    let ((services, operations, edges), used): (Rows, usize) =
        bincode::decode_from_slice(body, bincode::config::standard()).map_err(|e| e.to_string())?;
    if used != body.len() {
        return Err(format!("{} bytes after the rows", body.len() - used));
    }
    let mut sum = SpanRollups::default();
    add_stored::<Services>(&mut sum, services)?;
    add_stored::<Operations>(&mut sum, operations)?;
    add_stored::<Edges>(&mut sum, edges)?;
    add_all(r, &sum);
    Ok(())
}

/// Stores the rollups of the batch ending at `last_seq` for a later batch of WAL `wal_id` to add.
pub async fn defer(conn: &mut PgConnection, wal_id: &str, last_seq: i64, r: &SpanRollups) -> Result<(), sqlx::Error> {
    let bytes = encode(r).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query("INSERT INTO otel_span_rollups_pending (wal_id, last_seq, rollups) VALUES ($1, $2, $3)")
        .bind(wal_id)
        .bind(last_seq)
        .bind(bytes)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes WAL `wal_id`'s deferred rollups and adds them to `r`; returns the rows taken. A row this server cannot
/// read (written by a newer one) is logged and dropped rather than blocking every later batch: the spans are
/// stored, only their counts in the rollups are lost.
pub async fn take(conn: &mut PgConnection, wal_id: &str, r: &mut SpanRollups) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query("DELETE FROM otel_span_rollups_pending WHERE wal_id = $1 RETURNING last_seq, rollups")
        .bind(wal_id)
        .fetch_all(conn)
        .await?;
    for row in &rows {
        let bytes: &[u8] = row.try_get("rollups")?;
        if let Err(error) = decode_into(bytes, r) {
            let last_seq: i64 = row.try_get("last_seq")?;
            tracing::error!(wal_id, last_seq, error, "deferred span rollups do not decode; dropping them");
        }
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::rollup::{Calls, EdgeKey, Service, ServiceMinute, TargetType};

    fn service(name: &str) -> Service {
        Service { name: name.into(), namespace: "ns".into() }
    }

    fn calls(durations: &[i64], errors: i64) -> Calls {
        let mut c = Calls::default();
        for (i, d) in durations.iter().enumerate() {
            c.record(*d, (i as i64) < errors);
        }
        c
    }

    fn sample(scale: i64) -> SpanRollups {
        let mut r = SpanRollups::default();
        let minute = 1_700_000_040_000_000_000;
        r.services
            .insert((minute, service("a")), ServiceMinute { spans: 3 * scale, requests: calls(&[5 * scale, 900], 1) });
        r.services.insert((minute, service("empty")), ServiceMinute { spans: scale, requests: Calls::default() });
        r.operations.insert((service("a"), minute, "GET /".into(), 2), calls(&[1_000, 2_000 * scale, 3], 2));
        let edge = EdgeKey { minute, source: service("a"), target: service("db"), target_type: TargetType::Database };
        r.edges.insert(edge, calls(&[40 * scale], 0));
        r
    }

    #[test]
    fn decoding_adds_what_was_encoded() {
        let (a, b) = (sample(1), sample(7));
        let mut sum = a.clone();
        decode_into(&encode(&b).unwrap(), &mut sum).unwrap();
        let mut expected = a;
        add_all(&mut expected, &b);
        assert_eq!(sum, expected);
        assert_eq!(sum.services.values().next().unwrap().spans, 3 + 21);
    }

    #[test]
    fn a_row_that_does_not_decode_changes_nothing() {
        let good = encode(&sample(2)).unwrap();
        let mut r = sample(1);
        for bad in [Vec::new(), vec![FORMAT + 1], good[..good.len() - 1].to_vec(), [good.as_slice(), &[0]].concat()] {
            assert!(decode_into(&bad, &mut r).is_err(), "{bad:?}");
        }
        // A histogram element with a zero count is refused, as it is from a stored row.
        let key = (1_700_000_040_000_000_000u64, service("a"));
        let rows: Tables<&<Services as Table>::Key, &<Operations as Table>::Key, &<Edges as Table>::Key> =
            (vec![(&key, [1, 0, 0], vec![0], 0, 0)], Vec::new(), Vec::new());
        let mut zero = vec![FORMAT];
        bincode::encode_into_std_write(rows, &mut zero, bincode::config::standard()).unwrap();
        assert!(decode_into(&zero, &mut r).unwrap_err().contains("not bucket << 40 | count"));
        assert_eq!(r, sample(1));
    }
}
