import Store

extension Shard {
    /// The contiguous block of `0..<total` this shard owns when the items are rows streamed
    /// from one file: shard i of N owns `i·total/N ..< (i+1)·total/N` (integer division), so
    /// blocks differ in size by at most one and each rank reads one stretch of the file.
    /// (``owns(_:)``'s round robin suits independent items; a row stream wants blocks.)
    public func block(of total: Int) -> Range<Int> {
        let t = max(total, 0)
        return (index * t / count)..<((index + 1) * t / count)
    }
}
