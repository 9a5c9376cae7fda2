// CausalBlocks.forEachHead: every head once, the heads of a key/value group in order on one thread, whether the
// groups run side by side (OpenBLAS single-threaded) or one after another.
@testable import EcomModel
import EcomTensor
import Foundation
import Testing

@Suite struct CausalHeadsTests {
    /// Records (head, thread) pairs; the closure runs on pool threads, hence the lock.
    final class Visits: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var list: [(head: Int, thread: UInt)] = []
        func add(_ h: Int) { lock.withLock { list.append((h, UInt(bitPattern: Int(bitPattern: pthread_self())))) } }
    }

    @Test(arguments: [(9, 3), (9, 1), (4, 4), (5, 2), (1, 1)])
    func everyHeadOnceAndGroupsInOrder(heads: Int, group: Int) {
        for blas in [1, 2] {
            let visits = Visits()
            ComputeThreads.withBLASThreads(blas) {
                ComputeThreads.$override.withValue(2) {
                    CausalBlocks.forEachHead(heads, group: group) { h in
                        usleep(200)  // long enough for the other thread to take its share
                        visits.add(h)
                    }
                }
            }
            let seen = visits.list
            #expect(seen.map(\.head).sorted() == Array(0..<heads), "blas \(blas) heads \(heads) group \(group)")
            for g in stride(from: 0, to: heads, by: group) {
                let members = seen.filter { $0.head >= g && $0.head < g + group }
                #expect(members.map(\.head) == Array(g..<min(heads, g + group)), "group \(g): out of order")
                #expect(Set(members.map(\.thread)).count == 1, "group \(g) split over threads")
            }
            if blas == 2 { #expect(seen.map(\.head) == Array(0..<heads), "one after another with OpenBLAS threaded") }
        }
    }
}
