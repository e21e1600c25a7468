/// Per-row top-k selection of pre-activations, the TopK SAE's encoder and the auxiliary-k
/// loss's choice among dead latents. Each row keeps its `k` largest positive values in a
/// min-heap: blocks of 32 values are first checked against the heap's smallest in one
/// vectorized loop and only blocks with a larger value are walked into the heap. The kept
/// latents are written in ascending latent order (ties go to the lower latent), padded with
/// value-0 slots (inactive). Rows are independent, so the result does not depend on how
/// they are split across threads.
enum TopKSelection {
    /// Per row of `pre` `[rows, columns]`, the `k` largest positive values among all columns
    /// (`only` nil) or among the columns listed in `only` (ascending): indices and values
    /// `[rows, k]`, rows in parallel.
    static func select(_ pre: [Float], rows n: Int, columns m: Int, k: Int, only: [Int32]? = nil) -> (idx: [Int32], val: [Float]) {
        var idx = [Int32](repeating: 0, count: n * k), val = [Float](repeating: 0, count: n * k)
        guard n > 0, k > 0 else { return (idx, val) }
        idx.withUnsafeMutableBufferPointer { idxOut in
            val.withUnsafeMutableBufferPointer { valOut in
                pre.withUnsafeBufferPointer { pre in
                    nonisolated(unsafe) let (idxOut, valOut, pre) = (idxOut, valOut, pre)
                    SAEKernels.blocks(n) { rows in
                        let heap = Heap(capacity: k)
                        var gathered = [Float](repeating: 0, count: only?.count ?? 0)
                        for r in rows {
                            let row = pre.baseAddress! + r * m
                            heap.removeAll()
                            if let only {
                                for (j, c) in only.enumerated() { gathered[j] = row[Int(c)] }
                                gathered.withUnsafeBufferPointer { heap.scan($0.baseAddress!, count: only.count) }
                                heap.relabel(only)
                            } else {
                                heap.scan(row, count: m)
                            }
                            heap.write(idx: idxOut.baseAddress! + r * k, val: valOut.baseAddress! + r * k)
                        }
                    }
                }
            }
        }
        return (idx, val)
    }

    /// A min-heap of at most `capacity` (value, column) pairs: the largest values seen.
    final class Heap {
        let capacity: Int
        let values: UnsafeMutablePointer<Float>
        let columns: UnsafeMutablePointer<Int32>
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            values = .allocate(capacity: capacity)
            values.initialize(repeating: 0, count: capacity)
            columns = .allocate(capacity: capacity)
            columns.initialize(repeating: 0, count: capacity)
        }

        deinit {
            values.deallocate()
            columns.deallocate()
        }

        func removeAll() { count = 0 }

        /// Offers `x[0..<count]` (column = position): positive values only. After the heap is
        /// full, blocks of 32 values none of which beats the heap's smallest are skipped
        /// after one vectorized check.
        func scan(_ x: UnsafePointer<Float>, count n: Int) {
            var i = 0
            // Fill with the first `capacity` positive values, unordered; then heapify.
            while i < n && count < capacity {
                if x[i] > 0 { values[count] = x[i]; columns[count] = Int32(i); count += 1 }
                i += 1
            }
            guard count == capacity else { return }
            for p in stride(from: capacity / 2 - 1, through: 0, by: -1) { siftDown(p) }
            var smallest = values[0]
            while i + 32 <= n {
                if Self.mayExceed(x + i, smallest) {
                    for j in i..<(i + 32) where x[j] > smallest {
                        replaceTop(x[j], Int32(j))
                        smallest = values[0]
                    }
                }
                i += 32
            }
            while i < n {
                if x[i] > smallest { replaceTop(x[i], Int32(i)); smallest = values[0] }
                i += 1
            }
        }

        /// Whether any of `x[0..<32]` may exceed `t`: the sign bits of `t - x` ORed together
        /// (a loop of subtractions and ORs the compiler vectorizes). Exact for finite
        /// values (`t - x < 0` exactly when `x > t`; equal values give +0); a NaN may report a
        /// hit, which the caller's own comparison then rejects. (The stdlib's SIMD `any` and
        /// `pointwiseMax` compiled to out-of-line generic calls here and were slower.)
        @inline(__always)
        static func mayExceed(_ x: UnsafePointer<Float>, _ t: Float) -> Bool {
            var bits: UInt32 = 0
            for j in 0..<32 { bits |= (t - x[j]).bitPattern }
            return bits >> 31 != 0
        }

        /// Maps positions back to the columns they were gathered from.
        func relabel(_ from: [Int32]) {
            for j in 0..<count { columns[j] = from[Int(columns[j])] }
        }

        /// Writes the kept pairs in ascending column order, then value-0 padding up to `capacity`.
        func write(idx: UnsafeMutablePointer<Int32>, val: UnsafeMutablePointer<Float>) {
            var order = Array(0..<count)
            order.sort { columns[$0] < columns[$1] }
            for (j, o) in order.enumerated() { idx[j] = columns[o]; val[j] = values[o] }
            for j in count..<capacity { idx[j] = 0; val[j] = 0 }
        }

        private func replaceTop(_ v: Float, _ c: Int32) {
            values[0] = v
            columns[0] = c
            siftDown(0)
        }

        /// Restores the heap below `p`; among equal values the higher column sits nearer the
        /// top, so it is the one a larger value replaces.
        private func siftDown(_ p: Int) {
            var p = p
            while true {
                let l = 2 * p + 1, r = l + 1
                var s = p
                if l < count && below(l, s) { s = l }
                if r < count && below(r, s) { s = r }
                if s == p { return }
                (values[p], values[s]) = (values[s], values[p])
                (columns[p], columns[s]) = (columns[s], columns[p])
                p = s
            }
        }

        private func below(_ a: Int, _ b: Int) -> Bool {
            values[a] < values[b] || (values[a] == values[b] && columns[a] > columns[b])
        }
    }
}
