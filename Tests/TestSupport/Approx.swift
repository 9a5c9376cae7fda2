// Approximate equality with a relative and an absolute tolerance, for numeric tests (as in swift-numerics' _TestSupport).

/// True when `|a - b| <= atol + rtol * max(|a|, |b|)`; NaNs are equal only to NaNs, infinities only to themselves.
public func isClose(_ a: Double, _ b: Double, rtol: Double = 1e-9, atol: Double = 0) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))
}

/// Float overload of ``isClose(_:_:rtol:atol:)``.
public func isClose(_ a: Float, _ b: Float, rtol: Float = 1e-5, atol: Float = 0) -> Bool {
    isClose(Double(a), Double(b), rtol: Double(rtol), atol: Double(atol))
}

/// The first index at which two sequences differ beyond tolerance, with both values, or nil when all are close.
/// Sequences of different lengths differ at the shorter length.
public func firstMismatch<A: Collection, B: Collection>(
    _ a: A, _ b: B, rtol: Double = 1e-9, atol: Double = 0
) -> (index: Int, a: Double, b: Double)? where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    var i = 0
    var ia = a.makeIterator(), ib = b.makeIterator()
    while true {
        switch (ia.next(), ib.next()) {
        case (nil, nil): return nil
        case (let x?, let y?):
            if !isClose(Double(x), Double(y), rtol: rtol, atol: atol) { return (i, Double(x), Double(y)) }
        case (let x?, nil): return (i, Double(x), .nan)
        case (nil, let y?): return (i, .nan, Double(y))
        }
        i += 1
    }
}

/// The largest absolute difference between two equal-length sequences (infinity when lengths differ).
public func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}
