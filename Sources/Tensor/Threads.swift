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
        openblas_set_num_threads(Int32(processBLASThreads(count: n)))
        return n
    }()

    /// The processors this process can keep busy: those online, narrowed by its CPU affinity (`taskset`, a cpuset)
    /// and its cgroup CPU quota. The default of ``count``, and a sensible size for any pool of compute threads.
    public static var usableProcessors: Int { System.activeProcessorCount }

    /// A per-task override of ``count`` for our kernels (not OpenBLAS), e.g. to compare thread counts in tests
    /// that run concurrently: `ComputeThreads.$override.withValue(1) { ... }`.
    @TaskLocal public static var override: Int?

    /// Threads used by large operations (at least 1). Defaults to ``usableProcessors``.
    public static var count: Int {
        get { override.map { max(1, $0) } ?? current }
        set {
            current = max(1, newValue)
            applyBLASThreads()
        }
    }

    /// OpenBLAS's own thread count (its gemm), apart from our kernels' ``count``. OpenBLAS's results can depend on it
    /// (the last bits of a product changed between 14 and 1 threads with its SkylakeX kernels on a Xeon, between 2 and 1
    /// with its Haswell and Zen kernels on an AMD EPYC Zen 5 at 127 x 256 x 256), so
    /// it changes only with ``count``, with the process's ``MatmulPrecision/processDefault`` or, for a while, through
    /// ``withBLASThreads(_:_:)``. It is ``count``, except 1 where the process runs its large products through oneDNN
    /// (in bf16, or in Float32 where ``SgemmBackend/processDefault`` is oneDNN): OpenBLAS's idle workers keep spinning for a
    /// while after each of the small products left to it and took the cores from oneDNN's OpenMP threads (bf16
    /// training of the tiny BLOOM on an AMD EPYC Zen 5 at 2 threads: 0.8-1.2x Float32's speed, erratic, with OpenBLAS
    /// at 2 threads; 1.4-1.6x with it at 1).
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's thread count for a process with `count` compute threads whose large products run at `precision`
    /// on `backend` (``blasThreads``), its Float32 products on `sgemm`.
    public static func blasThreadCount(count: Int, precision: MatmulPrecision, backend: BF16Matmul.Backend?,
                                       sgemm: SgemmBackend = .openblas) -> Int {
        (precision == .bf16 && backend == .onednn) || sgemm == .onednn ? 1 : max(1, count)
    }

    /// ``blasThreadCount(count:precision:backend:sgemm:)`` for this process's precision and backends: what OpenBLAS
    /// should run at where our kernels run at `count` threads.
    public static func processBLASThreads(count: Int) -> Int {
        let precision = MatmulPrecision.processDefault
        return blasThreadCount(count: count, precision: precision, backend: precision == .bf16 ? BF16Matmul.native : nil,
                               sgemm: SgemmBackend.processDefault)
    }

    /// Sets OpenBLAS's thread count to what ``blasThreads`` describes for the process's settings: only when it
    /// differs, and then under the exclusive lock, so that a setting made while other work runs (a trainer's
    /// `--threads`, a tool's `--precision`) never changes the count inside a ``withSteadyBLASThreads(_:)`` section.
    /// A ``withBLASThreads(_:_:)`` section ends at the process's count, so skipping during one loses nothing. Not to be
    /// called inside either.
    static func applyBLASThreads() {
        let target = Int32(processBLASThreads(count: current))
        guard openblas_get_num_threads() != target else { return }
        pthread_rwlock_wrlock(blasLock)
        defer { pthread_rwlock_unlock(blasLock) }
        openblas_set_num_threads(target)
    }

    /// Keeps OpenBLAS's thread count steady: held shared by ``withSteadyBLASThreads(_:)`` (computations that must give
    /// the same bits when repeated, such as a trainer's exact resume) and exclusively by ``withBLASThreads(_:_:)``
    /// while its count is in effect, so that a count one part of a process sets for a while never falls inside another
    /// part's run (the test suite runs evaluations and trainings side by side).
    nonisolated(unsafe) private static let blasLock: UnsafeMutablePointer<pthread_rwlock_t> = {
        let p = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        pthread_rwlock_init(p, nil)
        return p
    }()

    /// Runs `body` with OpenBLAS at `threads` threads, then back at the process's count; waits for the computations
    /// inside ``withSteadyBLASThreads(_:)`` to finish first. Not to be called inside ``withSteadyBLASThreads(_:)``.
    public static func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(blasLock)
        defer { pthread_rwlock_unlock(blasLock) }
        openblas_set_num_threads(Int32(max(1, threads)))
        // Back to the process's own count (what it was before, unless a setting changed meanwhile: applyBLASThreads
        // skips the lock when the count it wants is already in effect, which it may be only for this while).
        defer { openblas_set_num_threads(Int32(processBLASThreads(count: current))) }
        return try body()
    }

    /// Runs `body` with OpenBLAS's thread count unchanged throughout (no ``withBLASThreads(_:_:)`` can start inside
    /// it). Several may run at once.
    public static func withSteadyBLASThreads<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(blasLock)
        defer { pthread_rwlock_unlock(blasLock) }
        return try body()
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
        // Pool threads are not tasks: the caller's task-local settings are handed to each chunk explicitly.
        let inherited = InheritedSettings.current
        let body = inherited.isEmpty ? body : { c, r in inherited.apply { body(c, r) } }
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

/// The task-local settings a parallel chunk must see as its caller does: matrix-product precision, bf16 backend and
/// threshold, Float32 backend.
struct InheritedSettings {
    let precision: MatmulPrecision?
    let backend: BF16Matmul.Backend?
    let minimumWork: Int?
    let sgemm: SgemmBackend?

    static var current: InheritedSettings {
        InheritedSettings(precision: MatmulPrecision.override, backend: BF16Matmul.backendOverride,
                          minimumWork: BF16Matmul.minimumWorkOverride, sgemm: SgemmBackend.override)
    }

    var isEmpty: Bool { precision == nil && backend == nil && minimumWork == nil && sgemm == nil }

    func apply(_ body: () -> Void) {
        MatmulPrecision.$override.withValue(precision) {
            BF16Matmul.$backendOverride.withValue(backend) {
                BF16Matmul.$minimumWorkOverride.withValue(minimumWork) {
                    SgemmBackend.$override.withValue(sgemm, operation: body)
                }
            }
        }
    }
}

/// One parallel loop handed to the pool.
struct PoolJob {
    let body: (Int, Range<Int>) -> Void
    let total: Int
    let chunks: Int
}

/// Processor counts without Foundation.
enum System {
    /// Processors online on the machine (`sysconf`), whatever this process may use.
    static var onlineProcessors: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }

    /// The processors this process can actually keep busy: the online count, narrowed by the CPU affinity mask
    /// (`taskset`, a container's cpuset) and by a cgroup CPU quota (`docker --cpus`, Kubernetes limits), as the JVM and
    /// .NET size their pools. Running more compute threads than this makes them take turns on the same cores: a 16-core
    /// host's process pinned to 2 cores ran OpenBLAS sgemm at half speed with 16 threads.
    static var activeProcessorCount: Int {
        var n = onlineProcessors
        let affinity = Int(ecom_affinity_cpus())
        if affinity > 0 { n = min(n, affinity) }
        if let quota = cgroupQuota() { n = min(n, quota) }
        return max(1, n)
    }

    /// The cgroup CPU quota in whole processors (rounded up), or nil when there is none: cgroup v2's `cpu.max` of
    /// this process's group (from `/proc/self/cgroup`) or of the root, else cgroup v1's `cfs_quota_us / cfs_period_us`.
    static func cgroupQuota() -> Int? {
        var groups = [""]  // the root, after the process's own group when it has one
        if let own = readSmallFile("/proc/self/cgroup").flatMap(cgroupV2Path), own != "/" { groups.insert(own, at: 0) }
        for dir in groups {
            if let text = readSmallFile("/sys/fs/cgroup\(dir)/cpu.max") { return quota(cpuMax: text) }
        }
        if let q = readSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), let p = readSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
           let quota = Int(q.trimmingWhitespace), let period = Int(p.trimmingWhitespace) {
            return self.quota(micros: quota, period: period)
        }
        return nil
    }

    /// Parses cgroup v2 `cpu.max` ("QUOTA PERIOD", QUOTA "max" when unlimited) into whole processors.
    static func quota(cpuMax: String) -> Int? {
        let fields = cpuMax.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let quota = Int(fields[0]), let period = Int(fields[1]) else { return nil }
        return self.quota(micros: quota, period: period)
    }

    /// A quota of `micros` per `period` microseconds as whole processors, rounded up; nil when unlimited (negative).
    static func quota(micros: Int, period: Int) -> Int? {
        guard micros > 0, period > 0 else { return nil }
        return max(1, (micros + period - 1) / period)
    }

    /// The cgroup v2 path in `/proc/self/cgroup` (its "0::PATH" line), or nil on cgroup v1.
    static func cgroupV2Path(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// A small text file's contents (at most 4 KiB), or nil when it cannot be read.
    static func readSmallFile(_ path: String) -> String? {
        #if canImport(Glibc)
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = fread(&buffer, 1, buffer.count, f)
        return String(decoding: buffer[0..<n], as: UTF8.self)
        #else
        return nil
        #endif
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
