// Approximate equality with a relative and an absolute tolerance, for numeric tests (as in swift-numerics' _TestSupport).

/// True when `|a - b| <= atol + rtol * max(|a|, |b|)`; infinities are equal only to themselves. A NaN is never
/// close to anything, itself included, unless `nanEqual` is set: then NaN is close to NaN (and to nothing else).
/// Opt in only where NaN is the expected value (e.g. a metric undefined on both sides), never to let a fast path
/// and its reference pass because both went wrong.
public func isClose(_ a: Double, _ b: Double, rtol: Double = 1e-9, atol: Double = 0, nanEqual: Bool = false) -> Bool {
    if a.isNaN || b.isNaN { return nanEqual && a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))
}

/// Float overload of ``isClose(_:_:rtol:atol:nanEqual:)``.
public func isClose(_ a: Float, _ b: Float, rtol: Float = 1e-5, atol: Float = 0, nanEqual: Bool = false) -> Bool {
    isClose(Double(a), Double(b), rtol: Double(rtol), atol: Double(atol), nanEqual: nanEqual)
}

/// The first index at which two sequences differ beyond tolerance, with both values, or nil when all are close
/// (``isClose(_:_:rtol:atol:nanEqual:)`` elementwise: a NaN mismatches unless `nanEqual`).
/// Sequences of different lengths differ at the shorter length.
public func firstMismatch<A: Collection, B: Collection>(
    _ a: A, _ b: B, rtol: Double = 1e-9, atol: Double = 0, nanEqual: Bool = false
) -> (index: Int, a: Double, b: Double)? where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    var i = 0
    var ia = a.makeIterator(), ib = b.makeIterator()
    while true {
        switch (ia.next(), ib.next()) {
        case (nil, nil): return nil
        case (let x?, let y?):
            if !isClose(Double(x), Double(y), rtol: rtol, atol: atol, nanEqual: nanEqual) { return (i, Double(x), Double(y)) }
        case (let x?, nil): return (i, Double(x), .nan)
        case (nil, let y?): return (i, .nan, Double(y))
        }
        i += 1
    }
}

/// The largest absolute difference between two equal-length sequences (infinity when lengths differ; NaN when a
/// NaN meets anything or an infinity meets anything but itself, so that `maxAbsDifference(a, b) < tol` fails).
public func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let d = Double(x) == Double(y) ? 0 : abs(Double(x) - Double(y))
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}
