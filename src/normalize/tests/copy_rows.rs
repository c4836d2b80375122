//! Reading COPY streams back: rows of fields and the values in them.

use crate::normalize::*;

pub(super) type Row = Vec<Option<Vec<u8>>>;

/// Parses a binary COPY stream (header, rows, trailer) into rows of fields, NULL as `None`.
pub(super) fn parse_copy(data: &[u8]) -> Vec<Row> {
    assert_eq!(&data[..19], copy::COPY_HEADER, "header");
    let mut pos = 19;
    let mut rows = Vec::new();
    loop {
        let n = i16::from_be_bytes([data[pos], data[pos + 1]]);
        pos += 2;
        if n == -1 {
            assert_eq!(pos, data.len(), "trailer must end the stream");
            return rows;
        }
        let mut row = Vec::new();
        for _ in 0..n {
            let len = i32::from_be_bytes(data[pos..pos + 4].try_into().unwrap());
            pos += 4;
            if len < 0 {
                row.push(None);
            } else {
                row.push(Some(data[pos..pos + len as usize].to_vec()));
                pos += len as usize;
            }
        }
        rows.push(row);
    }
}

pub(super) fn table<'t>(tables: &'t [TableData], name: &str) -> &'t TableData {
    tables
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("no {name} among {:?}", tables.iter().map(|t| t.table).collect::<Vec<_>>()))
}

pub(super) fn rows(tables: &[TableData], name: &str) -> Vec<Row> {
    parse_copy(&table(tables, name).data)
}

pub(super) fn i64_of(f: &Option<Vec<u8>>) -> i64 {
    i64::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
pub(super) fn i32_of(f: &Option<Vec<u8>>) -> i32 {
    i32::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
pub(super) fn i16_of(f: &Option<Vec<u8>>) -> i16 {
    i16::from_be_bytes(f.as_ref().unwrap()[..].try_into().unwrap())
}
pub(super) fn text_of(f: &Option<Vec<u8>>) -> String {
    String::from_utf8(f.clone().unwrap()).unwrap()
}
pub(super) fn json_of(f: &Option<Vec<u8>>) -> String {
    let b = f.as_ref().unwrap();
    assert_eq!(b[0], 1, "jsonb version byte");
    String::from_utf8(b[1..].to_vec()).unwrap()
}
pub(super) fn time_of(nanos: u64) -> i64 {
    crate::time::from_unix_nanos(nanos).unwrap().unwrap().pg_micros()
}

pub(super) fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}
