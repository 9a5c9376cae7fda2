// The check the prefill tests share: attention heads side by side (CausalBlocks.forEachHead on the compute threads)
// against heads one after another.
@testable import EcomModel
import EcomTensor
import EcomTestSupport
import Testing

/// `run` with heads one after another on one compute thread, then side by side on two (forced through
/// `CausalBlocks.headsSideBySide`: changing OpenBLAS's count would take a lock that other tests hold).
func inOrderAndSideBySide(_ run: () -> [Float]) -> (inOrder: [Float], sideBySide: [Float]) {
    let inOrder = ComputeThreads.$override.withValue(1) { CausalBlocks.$headsSideBySide.withValue(false, operation: run) }
    let sideBySide = ComputeThreads.$override.withValue(2) { CausalBlocks.$headsSideBySide.withValue(true, operation: run) }
    return (inOrder, sideBySide)
}

/// Logits of heads side by side equal those of heads in order within 1e-5 of the largest logit: the products' last
/// bits depend on the threads they run on (oneDNN's OpenMP count differs inside the pool's chunks and outside;
/// OpenBLAS's Haswell/Zen kernels split sums by thread), so they are not bit-equal (up to 3.9e-5 on logits up to 11.8
/// seen); a head reading another's scores is off by whole units.
func expectHeadsSideBySideMatch(_ sideBySide: [Float], _ inOrder: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sideBySide.count == inOrder.count, sourceLocation: sourceLocation)
    let scale = Double(inOrder.map(abs).max() ?? 0), diff = maxAbsDifference(sideBySide, inOrder)
    #expect(scale > 0 && diff <= 1e-5 * scale, "max diff \(diff), largest logit \(scale)", sourceLocation: sourceLocation)
}
