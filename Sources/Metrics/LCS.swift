// Longest common subsequence over token ids: the full DP table (for read-out) and a one-row length-only pass.
//
// Table: T[i][j] = LCS length of x[0..<i] and y[0..<j]; T[i][j] = T[i-1][j-1] + 1 when x[i-1] == y[j-1], else
// max(T[i-1][j], T[i][j-1]). The read-out walks back from (|x|, |y|): on a match it takes x[i-1] and steps
// diagonally; otherwise it steps towards the larger neighbour. Which way a TIE goes decides WHICH longest
// subsequence comes out, and both `rouge` packages then use the tokens/positions of that particular one, so the
// tie rule is a parameter: the `rouge` package steps left (j-1) on a tie, Google's `rouge-score` steps up (i-1).

/// Reusable LCS workspace (not thread-safe): a growing Int32 table.
final class LCSWorkspace {
    private var table: UnsafeMutablePointer<Int32>
    private var capacity: Int

    init() {
        capacity = 1 << 12
        table = .allocate(capacity: capacity)
    }
    deinit { table.deallocate() }

    private func reserve(_ n: Int) {
        if n > capacity {
            table.deallocate()
            capacity = max(n, capacity * 2)
            table = .allocate(capacity: capacity)
        }
    }

    /// LCS length of `x` and `y` (one row of the table at a time).
    func length(_ x: UnsafeBufferPointer<Int32>, _ y: UnsafeBufferPointer<Int32>) -> Int {
        let n = x.count, m = y.count
        if n == 0 || m == 0 { return 0 }
        reserve(m + 1)
        let row = table
        row.initialize(repeating: 0, count: m + 1)
        for i in 0..<n {
            let xi = x[i]
            var diag: Int32 = 0  // T[i-1][j-1]
            var left: Int32 = 0  // T[i][j-1]
            for j in 0..<m {
                let up = row[j + 1]
                let v = xi == y[j] ? diag + 1 : (up > left ? up : left)
                row[j + 1] = v
                diag = up
                left = v
            }
        }
        return Int(row[m])
    }

    /// Calls `take(i)` for the row index i (into `x`) of each token of one LCS, from the last to the first.
    /// `upOnTie`: on T[i-1][j] == T[i][j-1] step to i-1 (rouge-score) rather than j-1 (rouge).
    func readOut(_ x: UnsafeBufferPointer<Int32>, _ y: UnsafeBufferPointer<Int32>, upOnTie: Bool,
                 _ take: (Int) -> Void) {
        let n = x.count, m = y.count
        if n == 0 || m == 0 { return }
        let w = m + 1
        reserve((n + 1) * w)
        let t = table
        t.initialize(repeating: 0, count: w)
        for i in 1...n {
            let xi = x[i - 1]
            let prev = t + (i - 1) * w, cur = t + i * w
            cur[0] = 0
            for j in 1...m {
                if xi == y[j - 1] {
                    cur[j] = prev[j - 1] + 1
                } else {
                    let up = prev[j], left = cur[j - 1]
                    cur[j] = up > left ? up : left
                }
            }
        }
        var i = n, j = m
        while i > 0 && j > 0 {
            if x[i - 1] == y[j - 1] {
                take(i - 1)
                i -= 1; j -= 1
            } else {
                let up = t[(i - 1) * w + j], left = t[i * w + j - 1]
                if upOnTie { if left > up { j -= 1 } else { i -= 1 } } else { if up > left { i -= 1 } else { j -= 1 } }
            }
        }
    }
}
