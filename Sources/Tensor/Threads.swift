// The library's one thread-count knob: a persistent pool (spin, then sleep) for our kernels, OpenBLAS's own threads
// for gemm.
import COpenBLAS
import _EcomTensorKernels
#if canImport(Glibc)
import Glibc
#endif

/// The number of threads the library uses for large operations.
///
/// Our kernels split work into `count` contiguous chunks run on a persistent thread pool (`ecom_pool_run`: workers spin
/// briefly between jobs, so decoding's many microsecond-sized loops pay no thread wake-up); reductions combine
/// the chunks' partial results in chunk order, so results are deterministic for a given `count`. Setting `count` also
/// sets OpenBLAS's thread count, so gemm follows the same knob.
public enum ComputeThreads {
    nonisolated(unsafe) private static var current: Int = {
        let n = max(1, min(64, System.activeProcessorCount))
        BLASCore.warnOnce
        openblas_set_num_threads(Int32(n))
        return n
    }()

    /// A per-task override of ``count`` for our kernels (not OpenBLAS), e.g. to compare thread counts in tests
    /// that run concurrently: `ComputeThreads.$override.withValue(1) { ... }`.
    @TaskLocal public static var override: Int?

    /// Threads used by large operations (at least 1). Defaults to the number of active processors.
    public static var count: Int {
        get { override.map { max(1, $0) } ?? current }
        set {
            current = max(1, newValue)
            openblas_set_num_threads(Int32(current))
        }
    }

    /// OpenBLAS's own thread count (its gemm), apart from our kernels' ``count``: for code that runs several
    /// computations side by side, each with ``override`` for our kernels, and sets OpenBLAS's share once. OpenBLAS
    /// splits a gemm over rows and columns, never over the inner dimension, so its results do not depend on this.
    public static var blasThreads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Runs `body` over `[0, total)` split into contiguous chunks, in parallel when the work is large enough.
    ///
    /// The split depends only on `total`, `minPerChunk` and `count`, never on timing: chunk `c` of `chunks` is
    /// `[total * c / chunks, total * (c + 1) / chunks)`. `body` gets the chunk index and its range.
    @inlinable
    public static func forEachChunk(_ total: Int, minPerChunk: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(total, minPerChunk: minPerChunk)
        if chunks <= 1 {
            if total > 0 { body(0, 0..<total) }
            return
        }
        // The chunks only read shared inputs and write disjoint outputs (or their own partial slot); the closure is
        // not escaping past this call.
        withoutActuallyEscaping(body) { body in runOnPool(chunks: chunks, total: total, body) }
    }

    /// Hands the chunks of ``forEachChunk(_:minPerChunk:_:)`` to the pool.
    @usableFromInline
    static func runOnPool(chunks: Int, total: Int, _ body: @escaping (Int, Range<Int>) -> Void) {
        var job = PoolJob(body: body, total: total, chunks: chunks)
        withUnsafeMutablePointer(to: &job) { p in
            ecom_pool_run(chunks, count, { context, c in
                let job = context!.assumingMemoryBound(to: PoolJob.self)
                let chunk = Int(c)
                job.pointee.body(chunk, (job.pointee.total * chunk / job.pointee.chunks)..<(job.pointee.total * (chunk + 1) / job.pointee.chunks))
            }, p)
        }
    }

    /// The number of chunks ``forEachChunk(_:minPerChunk:_:)`` uses for `total` items.
    @inlinable
    public static func chunkCount(_ total: Int, minPerChunk: Int) -> Int {
        max(1, min(count, total / max(1, minPerChunk)))
    }
}

/// One parallel loop handed to the pool.
struct PoolJob {
    let body: (Int, Range<Int>) -> Void
    let total: Int
    let chunks: Int
}

/// Processor count without Foundation.
enum System {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}
