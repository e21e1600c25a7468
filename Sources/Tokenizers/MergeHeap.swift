/// A binary min-heap of merge candidates ordered by (rank, left position).
struct MergeHeap {
    struct Candidate {
        /// `rank << 32 | merged id` (see ``BPEMerges``).
        var value: UInt64
        var left: Int32
        var right: Int32
        var leftID: Int32
        var rightID: Int32

        @inline(__always)
        static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
            let ra = a.value >> 32, rb = b.value >> 32
            return ra != rb ? ra < rb : a.left < b.left
        }
    }

    private var items: [Candidate] = []

    mutating func push(_ c: Candidate) {
        items.append(c)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Candidate.precedes(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, Candidate.precedes(items[l], items[m]) { m = l }
                if r < items.count, Candidate.precedes(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
