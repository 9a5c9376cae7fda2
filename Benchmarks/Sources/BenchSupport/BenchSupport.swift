// Timing and output helpers shared by the benchmark executables: warm-up, medians, one JSON line per measurement
// naming the machine (CPU model, OpenBLAS core, kernel path).
import EcomTensor
import Foundation

/// First thing in every benchmark's main: when OpenBLAS would run its generic kernels on this CPU, re-executes the
/// benchmark with the matching `OPENBLAS_CORETYPE` as the tools do (``BLASCore/reexecWithBetterCoreIfNeeded()``), so
/// that benchmarks measure what users get, with no environment variable set by hand.
public func startBenchmark() {
    BLASCore.reexecWithBetterCoreIfNeeded()
    // BENCH_SGEMM=openblas keeps every Float32 product on OpenBLAS (SgemmBackend; the default is this machine's
    // choice), for side-by-side runs of the two.
    if let name = ProcessInfo.processInfo.environment["BENCH_SGEMM"], let sgemm = SgemmBackend(rawValue: name) {
        SgemmBackend.processDefault = sgemm
    }
}

/// Monotonic seconds.
@inline(__always) public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The median of a non-empty sample.
public func median(_ xs: [Double]) -> Double {
    precondition(!xs.isEmpty, "median of an empty sample")
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Runs `body` `warmup` times untimed (and on until `warmupSeconds` have passed), then `iterations` times timed;
/// returns the median seconds per run. With `minSeconds`, keeps iterating past `iterations` until that much time was
/// measured in all.
public func medianSeconds(warmup: Int = 2, warmupSeconds: Double = 0, iterations: Int = 7, minSeconds: Double = 0,
                          _ body: () throws -> Void) rethrows -> Double {
    let start = now()
    var warmed = 0
    while warmed < warmup || now() - start < warmupSeconds {
        try body()
        warmed += 1
    }
    var samples: [Double] = []
    var total = 0.0
    while samples.count < iterations || total < minSeconds {
        let t0 = now()
        try body()
        let dt = now() - t0
        samples.append(dt)
        total += dt
    }
    return median(samples)
}

/// Prints one measurement of ours as a JSON line:
/// `{"bench", "case", "value", "unit", "higher_is_better", "cpu", "blas_core", "path", ...extra}` (EcomTensor's
/// `MachineFacts.current`, unless `extra` names its own); scripts/bench/combine.py joins it with the reference's.
public func emit(bench: String, case name: String, value: Double, unit: String, higherIsBetter: Bool, extra: [String: Any] = [:]) {
    var obj: [String: Any] = ["bench": bench, "case": name, "value": value, "unit": unit, "higher_is_better": higherIsBetter]
    for (k, v) in MachineFacts.current { obj[k] = v }
    for (k, v) in extra { obj[k] = v }
    let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

/// The value of an environment variable or a default.
public func env(_ name: String, _ fallback: String) -> String {
    ProcessInfo.processInfo.environment[name] ?? fallback
}
