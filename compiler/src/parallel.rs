//! The one way bsic spreads work over cores.
//!
//! In: a list of independent items and a function. Out: the function's results, in item
//! order, whatever the number of cores, so every output stays deterministic. The work runs
//! on rayon's pool, but only when there is enough of it: up to `min_per_core` items it
//! runs on the calling thread, so a one-file `check` never starts the pool (whose
//! threads cost more than the work). Nothing here reads files or knows what it runs.
//!
//! [`overlap`] is the other shape: two different jobs, usually I/O-bound, run at the same
//! time on two threads of their own (not on the pool, whose size follows the cores: the
//! overlap is worth having even on one core).

use rayon::prelude::*;

/// `f(index, item)` for every item, results in item order; on all cores when there are
/// more than `min_per_core` items. The pool then takes items one by one, not in fixed
/// chunks: with chunks of 16 (25 files each for a 100-file project) one core sat idle for a
/// third of the parse while the other finished its last chunk. Rayon's own splitting also
/// leaves runs of items that cannot be stolen (a 1,000-file parse ended with one core alone
/// for up to 2 ms), hence `with_max_len(1)`. Items are moved into `f`, so each is dropped as
/// soon as its work is done.
pub(crate) fn map<T, R, F>(items: Vec<T>, min_per_core: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> R + Sync + Send,
{
    let min_per_core = min_per_core.max(1);
    if items.len() <= min_per_core {
        return items
            .into_iter()
            .enumerate()
            .map(|(i, item)| f(i, item))
            .collect();
    }
    items
        .into_par_iter()
        .with_max_len(1)
        .enumerate()
        .map(|(i, item)| f(i, item))
        .collect()
}

/// Up to this many items (files, policies, directories), a job with two independent halves
/// ([`join`]) runs them one after the other on the calling thread: a small project never
/// starts the pool.
pub(crate) const FEW: usize = 16;

/// `(a(), b())`, the two side by side on the pool when the input has more than [`FEW`]
/// `items`, else one after the other on this thread.
pub(crate) fn join<A, B, RA, RB>(items: usize, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if items > FEW {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// Frees `items` on the pool while the caller goes on when there are more than
/// `min_per_core` of them: a large tree of maps (every file's JSON, say) is freed node by
/// node, time the calling thread cannot use. Fewer are freed here, so a one-file run never
/// starts the pool.
pub(crate) fn drop_later<T: Send + 'static>(items: Vec<T>, min_per_core: usize) {
    if items.len() > min_per_core {
        rayon::spawn(move || drop(items));
    }
}

/// Runs `a` on a thread of its own while `b` runs on this one, and returns both results. A
/// panic in `a` is resumed here.
pub(crate) fn overlap<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB,
    RA: Send,
{
    std::thread::scope(|scope| {
        let first = scope.spawn(a);
        let second = b();
        let first = first
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order_on_any_number_of_cores() {
        let items: Vec<usize> = (0..1000).collect();
        for min_per_core in [1, 16, 2000] {
            let out = map(items.clone(), min_per_core, |i, item| (i, item * 2));
            assert!(
                out.iter()
                    .enumerate()
                    .all(|(n, &(i, v))| n == i && v == n * 2)
            );
        }
    }

    #[test]
    fn join_returns_both_results_either_way() {
        assert_eq!(join(FEW + 1, || 1, || "two"), (1, "two"));
        assert_eq!(join(1, || 1, || "two"), (1, "two"));
    }

    #[test]
    fn overlap_returns_both_results() {
        assert_eq!(overlap(|| 1, || "two"), (1, "two"));
    }
}
