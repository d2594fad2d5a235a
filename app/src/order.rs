//! Sorting without a copy of the standard library's sort per call site.
//!
//! `slice::sort_by` is generic over its closure, so every call site compiles its own
//! stable sort (quicksort, small-sort, merge and drift paths): about 5–10 KB of wasm
//! each. The app sorts small lists in a handful of places (worklist, outbox, history,
//! findings), and none of them is hot, so they all go through [`sort_by`] here: one
//! stable sort over indices, comparing through a `&dyn Fn`, then the permutation
//! applied by swaps.

use std::cmp::Ordering;

/// Sorts `items` by `cmp`, stably (equal items keep their order), like `slice::sort_by`.
pub fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let mut order = {
        let items: &[T] = items;
        permutation(items.len(), &|a, b| cmp(&items[a], &items[b]))
    };
    apply(items, &mut order);
}

/// The indices `0..n` in sorted order: the one instance of the stable sort.
fn permutation(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`, following
/// each cycle of the permutation with swaps. `order` is used up (left as `0..n`).
fn apply<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}
