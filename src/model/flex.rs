//! The f32 buffers behind flex tensors, the matrix product on them, the loop that spreads work
//! over the cores, and the hand-over of gradients to autodiff, for the operations this crate
//! fuses itself (the CNN's block, the dense layers, AdamW's step).

use std::borrow::Cow;

use burn::backend::Flex;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::Ops;
use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::{Bytes, DType, Shape};

/// A tensor's values in order, borrowed when they lie contiguous in its buffer.
pub fn values(f: &FlexTensor) -> Cow<'_, [f32]> {
    match f.as_slice::<f32>() {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(f.to_contiguous().as_slice::<f32>().expect("contiguous").to_vec()),
    }
}

/// A contiguous f32 tensor of `shape` holding `values`.
pub fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(shape.into()), DType::F32)
}

/// Hands a fused operation's gradients to burn's autodiff graph: the input's (when it was
/// asked for), the weight's and the bias's, to those of the operation's parents that track one.
pub fn register<S>(grads: &mut Gradients, ops: Ops<S, 3>, (dx, dw, db): (Option<FlexTensor>, FlexTensor, FlexTensor)) {
    let [x, w, b] = ops.parents;
    if let (Some(x), Some(dx)) = (x, dx) {
        grads.register::<Flex>(x.id, dx);
    }
    if let Some(w) = w {
        grads.register::<Flex>(w.id, dw);
    }
    if let Some(b) = b {
        grads.register::<Flex>(b.id, db);
    }
}

/// Runs `f` on every job, across rayon's pool where the build has one (natively, and the
/// threaded page bundle), else in order; each thread gets its own scratch from `init`.
///
/// The calling thread takes jobs too, from the same queue as the pool's threads, rather than
/// handing the whole loop to the pool and sleeping until it is done (what rayon's parallel
/// iterators do when called from outside the pool). In the page the caller is the Lab's Web
/// Worker, and every hand-over wakes a sleeping worker, which takes a fraction of a
/// millisecond there: profiled, the pool's threads waited half the time in MLP training.
pub fn each<J: Send, S>(jobs: Vec<J>, init: impl Fn() -> S + Send + Sync, f: impl Fn(&mut S, J) + Send + Sync) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let helpers = threads().min(jobs.len()).saturating_sub(1);
        // Each thread takes the next job's number; each job's lock is taken once, so never
        // waited on (a waited-on lock costs a wake-up in the page too).
        let slots: Vec<Mutex<Option<J>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
        let next = AtomicUsize::new(0);
        let work = || {
            let mut scratch = None;
            while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
                // A job that panicked poisons only its own slot, which nothing reads again.
                let job = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(job) = job {
                    f(scratch.get_or_insert_with(&init), job);
                }
            }
        };
        rayon::in_place_scope(|s| {
            for _ in 0..helpers {
                s.spawn(|_| work());
            }
            work();
        });
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    {
        let mut s = init();
        jobs.into_iter().for_each(|job| f(&mut s, job));
    }
}

/// How many threads [`each`] spreads jobs over: the pool's, and the caller when it is not one.
pub fn threads() -> usize {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    return rayon::current_num_threads() + usize::from(rayon::current_thread_index().is_none());
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    return 1;
}

/// A matrix operand: its values, row stride and column stride.
pub type Operand<'a> = (&'a [f32], usize, usize);

/// `out [m, n] = lhs [m, k] × rhs [k, n]`, on the matrix kernels burn-flex itself uses, on the
/// calling thread.
pub fn gemm(out: &mut [f32], m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) {
    assert!(out.len() >= m * n, "gemm output too small");
    // SAFETY: `out` holds the m × n values written, row-major.
    unsafe { gemm_into(out.as_mut_ptr(), n, m, n, k, lhs, rhs) }
}

/// `lhs [m, k] × rhs [k, n]` as a new row-major `[m, n]` vector, split into one product per
/// thread, each with its share of the output's rows or, when it has fewer rows than columns, of
/// its columns. gemm's own threading hands work to the pool several times per product (per
/// block of the inner dimension); in the page each hand-over wakes a Web Worker, so one split
/// per product is what scales there. The vector is not zeroed first (the product writes every
/// value): for a weight gradient that was 10 MB of zeros per batch.
pub fn product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) -> Vec<f32> {
    /// Below this many multiply-adds a product is not worth splitting.
    const SPLIT_WORK: usize = 1 << 20;
    let mut out = Vec::with_capacity(m * n);
    let dst = SharedOut(out.as_mut_ptr());
    let parts = threads().min(m.max(n)).max(1);
    if parts == 1 || m.saturating_mul(n).saturating_mul(k) < SPLIT_WORK {
        // SAFETY: `out` has room for the m × n values, row-major, and nothing else touches it.
        unsafe { gemm_into(dst.at(0), n, m, n, k, lhs, rhs) };
    } else {
        let by_rows = m >= n;
        let len = if by_rows { m } else { n };
        let ranges: Vec<(usize, usize)> = (0..parts).map(|p| (len * p / parts, len * (p + 1) / parts)).filter(|(a, b)| a < b).collect();
        each(ranges, || (), |_, (a, b)| {
            // SAFETY: each job writes only its own rows (or columns) of `out`, which has room for
            // m × n values; `gemm_into` checks the operands' bounds for its part.
            unsafe {
                if by_rows {
                    gemm_into(dst.at(a * n), n, b - a, n, k, (&lhs.0[a * lhs.1..], lhs.1, lhs.2), rhs);
                } else {
                    gemm_into(dst.at(a), n, m, b - a, k, lhs, (&rhs.0[a * rhs.2..], rhs.1, rhs.2));
                }
            }
        });
    }
    // SAFETY: the products above wrote all m × n values (gemm_into writes every element of its
    // part, zeros when k = 0, and the parts cover the output).
    unsafe { out.set_len(m * n) };
    out
}

/// The output of [`product`], shared by jobs that write disjoint parts of it.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: jobs given a SharedOut write disjoint elements (product).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// `dst [m, n]` (row stride `dst_rs`, column stride 1) = lhs × rhs.
///
/// # Safety
/// `dst` must be valid for writes at every `i * dst_rs + j` (i < m, j < n), with no other
/// thread touching those elements meanwhile.
unsafe fn gemm_into(dst: *mut f32, dst_rs: usize, m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // Nothing to read (a layer pruned to no inputs): the product is zero.
        for i in 0..m {
            // SAFETY: the caller's promise (the row may not be initialised yet: no reference to it).
            unsafe { std::ptr::write_bytes(dst.add(i * dst_rs), 0, n) };
        }
        return;
    }
    assert!(lhs.0.len() > (m - 1) * lhs.1 + (k - 1) * lhs.2, "gemm lhs too small");
    assert!(rhs.0.len() > (k - 1) * rhs.1 + (n - 1) * rhs.2, "gemm rhs too small");
    // SAFETY: the asserts keep every read inside the operands; the caller's promise covers dst.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rs as isize,
            false,
            lhs.0.as_ptr(),
            lhs.2 as isize,
            lhs.1 as isize,
            rhs.0.as_ptr(),
            rhs.2 as isize,
            rhs.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
