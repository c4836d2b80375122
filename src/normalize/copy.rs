//! PostgreSQL binary COPY encoder: the byte stream `COPY t (...) FROM STDIN (FORMAT binary)` reads.
//!
//! Layout (PostgreSQL docs, "COPY", binary format): an 11-byte signature, a 32-bit flags field and a 32-bit
//! header-extension length; then per row a 16-bit field count and per field a 32-bit length (-1 for NULL)
//! followed by the value in the type's binary send format; then a 16-bit -1 trailer. All integers are
//! big-endian (network order).

use crate::time::PgTime;

/// The binary COPY signature, flags (0: no OIDs) and header extension length (0).
pub const COPY_HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The file trailer: a field count of -1.
pub const COPY_TRAILER: &[u8; 2] = b"\xff\xff";
/// PostgreSQL type OID of `int8` (array element type of `BIGINT[]`).
pub const INT8_OID: i32 = 20;
/// PostgreSQL type OID of `float8` (array element type of `DOUBLE PRECISION[]`).
pub const FLOAT8_OID: i32 = 701;
/// The jsonb binary format version byte that precedes the JSON text.
const JSONB_VERSION: u8 = 1;

/// One table's binary COPY stream under construction: header written on creation, rows appended, trailer on
/// [`CopyWriter::finish`]. The caller writes exactly the number of fields it announced in [`CopyWriter::row`].
#[derive(Debug, Clone)]
pub struct CopyWriter {
    buf: Vec<u8>,
    rows: u64,
}

impl Default for CopyWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CopyWriter {
    /// A stream holding only the header.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(COPY_HEADER);
        CopyWriter { buf, rows: 0 }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Starts a row of `fields` columns.
    #[inline]
    pub fn row(&mut self, fields: i16) {
        self.rows += 1;
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    /// A NULL field.
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// A `SMALLINT` field.
    #[inline]
    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&2i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// An `INTEGER` field.
    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `BIGINT` field.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A `DOUBLE PRECISION` field (NaN and infinities included, bit for bit).
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
    }

    /// A `BOOLEAN` field.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(v));
    }

    /// A `TEXT` field (UTF-8 bytes as they are).
    #[inline]
    pub fn text(&mut self, v: &str) {
        self.bytea(v.as_bytes());
    }

    /// A `BYTEA` field (raw bytes).
    #[inline]
    pub fn bytea(&mut self, v: &[u8]) {
        // A single field above 2 GiB cannot be stored by PostgreSQL either (1 GB field limit); inputs are bounded
        // far below by the receivers' body limit.
        self.buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(v);
    }

    /// A `BYTEA` field that is NULL when `v` is empty (OTLP's "absent" for ids).
    #[inline]
    pub fn bytea_or_null(&mut self, v: &[u8]) {
        if v.is_empty() { self.null() } else { self.bytea(v) }
    }

    /// A `TIMESTAMPTZ` field: microseconds since 2000-01-01 UTC.
    #[inline]
    pub fn timestamptz(&mut self, t: PgTime) {
        self.i64(t.pg_micros());
    }

    /// A nullable `TIMESTAMPTZ` followed by its `SMALLINT` nanos fraction (0 when NULL): two fields.
    #[inline]
    pub fn time_and_fraction(&mut self, t: Option<PgTime>) {
        match t {
            Some(t) => {
                self.timestamptz(t);
                self.i16(t.nanos_fraction());
            }
            None => {
                self.null();
                self.i16(0);
            }
        }
    }

    /// A nullable `DOUBLE PRECISION` field.
    #[inline]
    pub fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) => self.f64(v),
            None => self.null(),
        }
    }

    /// A nullable `BIGINT` field.
    #[inline]
    pub fn i64_or_null(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.i64(v),
            None => self.null(),
        }
    }

    /// A `JSONB` field whose JSON text `write` appends to the buffer it is given.
    #[inline]
    pub fn jsonb_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes());
        self.buf.push(JSONB_VERSION);
        write(&mut self.buf);
        let len = (self.buf.len() - at - 4) as i32;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// A `JSONB` field from JSON text.
    #[inline]
    pub fn jsonb(&mut self, json: &str) {
        self.jsonb_with(|buf| buf.extend_from_slice(json.as_bytes()));
    }

    /// A one-dimensional `BIGINT[]` field without NULL elements (empty: zero dimensions).
    pub fn int8_array(&mut self, values: impl ExactSizeIterator<Item = i64>) {
        let n = values.len();
        self.array_header(n, INT8_OID, 8);
        for v in values {
            self.buf.extend_from_slice(&8i32.to_be_bytes());
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// A one-dimensional `DOUBLE PRECISION[]` field without NULL elements (empty: zero dimensions).
    pub fn float8_array(&mut self, values: impl ExactSizeIterator<Item = f64>) {
        let n = values.len();
        self.array_header(n, FLOAT8_OID, 8);
        for v in values {
            self.buf.extend_from_slice(&8i32.to_be_bytes());
            self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }

    /// Field length and array header (ndim, has-nulls flag, element OID, then size and lower bound of the one
    /// dimension) for `n` fixed-size elements of `elem_len` bytes.
    fn array_header(&mut self, n: usize, oid: i32, elem_len: usize) {
        let (ndim, header_len) = if n == 0 { (0i32, 12) } else { (1i32, 20) };
        let len = header_len + n * (4 + elem_len);
        self.buf.extend_from_slice(&(len as i32).to_be_bytes());
        self.buf.extend_from_slice(&ndim.to_be_bytes());
        self.buf.extend_from_slice(&0i32.to_be_bytes());
        self.buf.extend_from_slice(&oid.to_be_bytes());
        if n > 0 {
            self.buf.extend_from_slice(&(n as i32).to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes());
        }
    }

    /// The rows of `parts` (streams of the same table), in order, in one stream sized up front.
    pub fn concat(parts: &[&CopyWriter]) -> CopyWriter {
        let body = |w: &&CopyWriter| w.buf.len() - COPY_HEADER.len();
        let mut buf =
            Vec::with_capacity(COPY_HEADER.len() + parts.iter().map(body).sum::<usize>() + COPY_TRAILER.len());
        buf.extend_from_slice(COPY_HEADER);
        let mut rows = 0;
        for part in parts {
            buf.extend_from_slice(&part.buf[COPY_HEADER.len()..]);
            rows += part.rows;
        }
        CopyWriter { buf, rows }
    }

    /// The complete stream (header, rows, trailer) and its row count.
    pub fn finish(mut self) -> (Vec<u8>, u64) {
        self.buf.extend_from_slice(COPY_TRAILER);
        (self.buf, self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_unix_nanos;

    fn fields(build: impl FnOnce(&mut CopyWriter)) -> Vec<u8> {
        let mut w = CopyWriter::new();
        build(&mut w);
        let (bytes, _) = w.finish();
        assert_eq!(&bytes[..19], COPY_HEADER);
        assert_eq!(&bytes[bytes.len() - 2..], COPY_TRAILER);
        bytes[19..bytes.len() - 2].to_vec()
    }

    #[test]
    fn header_and_trailer_of_an_empty_stream() {
        let (bytes, rows) = CopyWriter::new().finish();
        assert_eq!(rows, 0);
        let mut expected = b"PGCOPY\n".to_vec();
        expected.extend_from_slice(&[0xff, b'\r', b'\n', 0]);
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn scalar_fields_match_postgres_send_formats() {
        let got = fields(|w| {
            w.row(7);
            w.i16(-2);
            w.i32(0x0102_0304);
            w.i64(-1);
            w.f64(1.5);
            w.bool(true);
            w.bool(false);
            w.null();
        });
        let mut expected = vec![0, 7];
        expected.extend_from_slice(&[0, 0, 0, 2, 0xff, 0xfe]);
        expected.extend_from_slice(&[0, 0, 0, 4, 1, 2, 3, 4]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1]);
        expected.extend_from_slice(&[0, 0, 0, 1, 0]);
        expected.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(got, expected);
    }

    #[test]
    fn nan_and_infinities_keep_their_bits() {
        let got = fields(|w| {
            w.f64(f64::NAN);
            w.f64(f64::NEG_INFINITY);
            w.f64(-0.0);
        });
        let mut expected = vec![0, 0, 0, 8];
        expected.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xf0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(got, expected);
    }

    #[test]
    fn text_bytea_and_empty_ids() {
        let got = fields(|w| {
            w.text("hé");
            w.bytea(&[0, 255]);
            w.bytea_or_null(&[]);
            w.bytea_or_null(&[7]);
            w.text("");
        });
        let expected = vec![
            0, 0, 0, 3, b'h', 0xc3, 0xa9, // "hé" in UTF-8
            0, 0, 0, 2, 0, 255, // bytea
            0xff, 0xff, 0xff, 0xff, // empty id -> NULL
            0, 0, 0, 1, 7, // one byte
            0, 0, 0, 0, // empty text is not NULL
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn timestamptz_counts_microseconds_from_2000() {
        // 2000-01-01T00:00:00.000001500Z: one microsecond after PostgreSQL's epoch, fraction 500.
        let t = from_unix_nanos(946_684_800_000_001_500).unwrap();
        let got = fields(|w| {
            w.time_and_fraction(t);
            w.time_and_fraction(None);
        });
        let expected = vec![
            0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, // timestamptz 1 us
            0, 0, 0, 2, 1, 0xf4, // fraction 500
            0xff, 0xff, 0xff, 0xff, // NULL time
            0, 0, 0, 2, 0, 0, // fraction 0
        ];
        assert_eq!(got, expected);
        // The Unix epoch itself is before PostgreSQL's: negative microseconds.
        let t = from_unix_nanos(1_000).unwrap().unwrap();
        let got = fields(|w| w.timestamptz(t));
        let mut expected = vec![0, 0, 0, 8];
        expected.extend_from_slice(&(1 - 946_684_800_000_000i64).to_be_bytes());
        assert_eq!(got, expected);
    }

    #[test]
    fn jsonb_is_version_byte_then_text() {
        let got = fields(|w| {
            w.jsonb("{\"a\":1}");
            w.jsonb_with(|b| b.extend_from_slice(b"[]"));
        });
        let mut expected = vec![0, 0, 0, 8, 1];
        expected.extend_from_slice(b"{\"a\":1}");
        expected.extend_from_slice(&[0, 0, 0, 3, 1, b'[', b']']);
        assert_eq!(got, expected);
    }

    #[test]
    fn int8_and_float8_arrays() {
        let got = fields(|w| {
            w.int8_array([1i64, -2].into_iter());
            w.float8_array([0.5f64].into_iter());
        });
        let mut expected = vec![0, 0, 0, 44]; // 20 header + 2 * 12
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        expected.extend_from_slice(&[0, 0, 0, 32]); // 20 + 12
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0xbd, 0, 0, 0, 1, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 0, 0, 8, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(got, expected);
    }

    #[test]
    fn empty_arrays_have_zero_dimensions() {
        let got = fields(|w| {
            w.int8_array(std::iter::empty());
            w.float8_array(Vec::<f64>::new().into_iter());
        });
        let expected = vec![
            0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, // ndim 0, no nulls, int8
            0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xbd, // float8
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn concat_joins_rows_without_a_second_header() {
        let mut a = CopyWriter::new();
        a.row(1);
        a.i16(1);
        let mut b = CopyWriter::new();
        b.row(1);
        b.i16(2);
        b.row(1);
        b.i16(3);
        let (bytes, rows) = CopyWriter::concat(&[&a, &CopyWriter::new(), &b]).finish();
        assert_eq!(rows, 3);
        let mut expected = COPY_HEADER.to_vec();
        for v in 1..=3u8 {
            expected.extend_from_slice(&[0, 1, 0, 0, 0, 2, 0, v]);
        }
        expected.extend_from_slice(COPY_TRAILER);
        assert_eq!(bytes, expected);
    }
}
