//! Waterfall order of a trace's spans: parents before children, siblings by start time.

use std::collections::{HashMap, HashSet};

/// What the waterfall order needs of a span: its id, its parent's id and its start time.
pub type SpanKey = (Vec<u8>, Option<Vec<u8>>, u64);

/// Waterfall order: parents before children, siblings (and roots) by start time then span id; returns
/// (index into `spans`, depth). Spans whose parent is absent are roots; a parent cycle in bad data cannot
/// loop (each span is placed once).
pub fn waterfall(spans: &[SpanKey]) -> Vec<(usize, usize)> {
    let present: HashSet<&[u8]> = spans.iter().map(|s| s.0.as_slice()).collect();
    let mut children: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, (id, parent, _)) in spans.iter().enumerate() {
        match parent {
            Some(p) if present.contains(p.as_slice()) && p != id => children.entry(p.as_slice()).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let order = |v: &mut Vec<usize>| v.sort_by(|&a, &b| (spans[a].2, &spans[a].0).cmp(&(spans[b].2, &spans[b].0)));
    order(&mut roots);
    for v in children.values_mut() {
        order(v);
    }
    let mut out = Vec::with_capacity(spans.len());
    let mut placed = vec![false; spans.len()];
    let visit = |start: usize, out: &mut Vec<(usize, usize)>, placed: &mut Vec<bool>| {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if placed[i] {
                continue;
            }
            placed[i] = true;
            out.push((i, depth));
            if let Some(kids) = children.get(spans[i].0.as_slice()) {
                for &k in kids.iter().rev() {
                    stack.push((k, depth + 1));
                }
            }
        }
    };
    for &r in &roots {
        visit(r, &mut out, &mut placed);
    }
    // Spans only reachable through a cycle: place them as roots, by start time.
    let mut rest: Vec<usize> = (0..spans.len()).filter(|&i| !placed[i]).collect();
    order(&mut rest);
    for r in rest {
        visit(r, &mut out, &mut placed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: u8, parent: Option<u8>, start: u64) -> SpanKey {
        (vec![id; 8], parent.map(|p| vec![p; 8]), start)
    }

    #[test]
    fn waterfall_orders_parents_first_and_siblings_by_start() {
        // root 1 -> children 3 (t=30) and 2 (t=20); 2 -> 4; orphan 5 whose parent is missing; 6 -> 7 -> 6 cycle.
        let spans = vec![
            s(3, Some(1), 30),
            s(4, Some(2), 25),
            s(1, None, 10),
            s(2, Some(1), 20),
            s(5, Some(9), 5),
            s(6, Some(7), 50),
            s(7, Some(6), 40),
        ];
        let order: Vec<(u8, usize)> = waterfall(&spans).into_iter().map(|(i, d)| (spans[i].0[0], d)).collect();
        assert_eq!(order, vec![(5, 0), (1, 0), (2, 1), (4, 2), (3, 1), (7, 0), (6, 1)]);
    }
}
