import Foundation
import Formats
import Linalg
import Testing

/// The in-place kernels (``RowDot``, ``QuantizedMatrix``) of every ``KernelSet`` this CPU
/// runs (generic Swift SIMD, and AVX2/FMA where available) against their scalar twin
/// (``RowDotReference``: the reference dequantizer and a Double dot), on random blocks with
/// ordinary, extreme and zero scales. Tolerance: 1e-5 of the row's `Σ|W|·|x|`, which float32
/// summation of a few thousand terms in any order, fused or not, stays far inside.
@Suite struct RowDotTests {
    static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .f16, .bf16]

    /// Seeded bytes for `blocks` blocks of `type` with every f16 scale field set from
    /// `scale` (called per field) and 16-bit element types kept finite.
    static func blocks(_ type: GGMLType, count: Int, rng: inout SeededRandom, scale: (inout SeededRandom) -> UInt16) -> [UInt8] {
        var bytes = (0..<(count * type.bytesPerBlock)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        func put(_ at: Int, _ bits: UInt16) { bytes[at] = UInt8(bits & 0xFF); bytes[at + 1] = UInt8(bits >> 8) }
        let fields: [Int]
        switch type {
        case .q8_0, .q4_0, .q5_0: fields = [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: fields = [0, 2]
        case .q6_K: fields = [208]
        default: fields = []
        }
        for b in 0..<count { for f in fields { put(b * type.bytesPerBlock + f, scale(&rng)) } }
        if type == .f16 || type == .bf16 {
            for i in stride(from: 0, to: bytes.count, by: 2) {
                // Keep the exponent below all-ones (no inf/NaN); f16 magnitudes up to 2^8.
                let v = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
                put(i, type == .f16 ? (v & 0x9FFF) : (v & 0xBFFF))
            }
        }
        return bytes
    }

    /// Ordinary scales: random normal halves between about 1e-3 and 1 in magnitude, either sign.
    static func ordinary(_ rng: inout SeededRandom) -> UInt16 {
        let v = Float16(Float(rng.next() % 1000 + 1) / 1000 * (rng.next() % 2 == 0 ? 1 : -1))
        return v.bitPattern
    }

    static func input(_ k: Int, rng: inout SeededRandom) -> [Float] { (0..<k).map { _ in rng.nextGaussian() } }

    /// The largest error of `y[m × n]` against the twin's `x · Wᵀ` (Double sums over the
    /// reference dequantizer's `weights[n × k]`), relative to each element's `Σ|W|·|x|`.
    static func worstRelativeError(_ y: [Float], x: [Float], weights: [Float], m: Int, n: Int, k: Int) -> Double {
        var worst = 0.0
        for i in 0..<m {
            for r in 0..<n {
                var value = 0.0, magnitude = 0.0
                for j in 0..<k {
                    let p = Double(weights[r * k + j]) * Double(x[i * k + j])
                    value += p
                    magnitude += abs(p)
                }
                worst = max(worst, abs(Double(y[i * n + r]) - value) / max(magnitude, .leastNormalMagnitude))
            }
        }
        return worst
    }

    static func check(_ type: GGMLType, row: [UInt8], x: [Float], _ kernels: KernelSet, _ label: String) throws {
        let got = try RowDot.dot(type, row: row, x: x, kernels: kernels)
        let want = try RowDotReference.dot(type, row: row, x: x)
        let error = abs(Double(got) - want.value)
        #expect(error <= 1e-5 * want.magnitude, "\(type) \(kernels) \(label): \(got) vs \(want.value) (Σ|W||x| \(want.magnitude))")
    }

    @Test(arguments: types, KernelSet.supported)
    func rowDotMatchesTwinOnRandomBlocks(_ type: GGMLType, _ kernels: KernelSet) throws {
        var rng = SeededRandom(seed: 11 + UInt64(type.rawValue))
        let perRow = type.blockSize == 1 ? 32 : type.blockSize
        for groups in [1, 3, 6] {
            let k = perRow * groups
            for trial in 0..<20 {
                let row = Self.blocks(type, count: k / type.blockSize, rng: &rng, scale: Self.ordinary)
                try Self.check(type, row: row, x: Self.input(k, rng: &rng), kernels, "k \(k) trial \(trial)")
            }
        }
    }

    @Test(arguments: types, KernelSet.supported)
    func extremeAndZeroScales(_ type: GGMLType, _ kernels: KernelSet) throws {
        var rng = SeededRandom(seed: 99 + UInt64(type.rawValue))
        let k = type.blockSize == 1 ? 96 : 2 * type.blockSize
        // Largest half, smallest subnormal, smallest normal, negative zero, zero.
        for bits: UInt16 in [0x7BFF, 0xFBFF, 0x0001, 0x0400, 0x8000, 0x0000] {
            let row = Self.blocks(type, count: k / type.blockSize, rng: &rng) { _ in bits }
            try Self.check(type, row: row, x: Self.input(k, rng: &rng), kernels, "scale bits \(bits)")
        }
        // All-zero blocks give exactly zero.
        let zero = [UInt8](repeating: 0, count: type.byteCount(elements: k)!)
        #expect(try RowDot.dot(type, row: zero, x: Self.input(k, rng: &rng), kernels: kernels) == 0)
    }

    /// Products of many rows: one and two input rows (row-dot kernels), 3, 6 and 19 (the
    /// multi-row kernels where the type has one, else dequantized tiles and sgemm; 4-row sweeps
    /// with remainders 3, 2 and 3) and 33 (tiles), with a row count that is no multiple of the
    /// tile, against the twin.
    @Test(arguments: types, KernelSet.supported)
    func matrixProductMatchesTwin(_ type: GGMLType, _ kernels: KernelSet) throws {
        var rng = SeededRandom(seed: 5)
        let k = type.blockSize == 256 ? 512 : 96
        let n = 4100 * 32 / k + 3   // tiles of QuantizedMatrix's size leave a remainder
        let bytes = Self.blocks(type, count: n * k / type.blockSize, rng: &rng, scale: Self.ordinary)
        let w = try QuantizedMatrix(type: type, rows: n, columns: k, bytes: bytes)
        // The twin's arithmetic (reference dequantizer, Double dot), dequantizing once.
        let reference = try DequantizeReference.floats(type, bytes: bytes)
        for m in [1, 2, 3, 6, 19, 33] {
            let x = Self.input(m * k, rng: &rng)
            var y = [Float](repeating: .nan, count: m * n)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { w.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, kernels: kernels) } }
            let worst = Self.worstRelativeError(y, x: x, weights: reference, m: m, n: n, k: k)
            #expect(worst <= 1e-5, "\(type) \(kernels) m \(m): worst relative error \(worst)")
        }
        let matrix = WeightMatrix.quantized(w)
        #expect(matrix.shape == [n, k] && matrix.storageBytes == bytes.count)
    }

    /// Products of every type by each ``ProductKernel`` this CPU runs (with AVX-512: the block
    /// product that dequantizes 32-row slices into its panels, including a last panel of
    /// fewer columns), against the Double twin, and with AVX-512 bit for bit the AVX-512
    /// product of `dense()`'s floats (the same values in the same sums, no tile written).
    @Test(arguments: types, ProductKernel.supported)
    func blockProductMatchesTwinAndTiles(_ type: GGMLType, _ product: ProductKernel) throws {
        var rng = SeededRandom(seed: 17)
        // The second shape is deeper than the AVX-512 product's deepest slice (2048), so it
        // works in two slices and adds the second to the first's blocks of c.
        for (n, k, rowCounts) in [(70, type.blockSize == 256 ? 512 : 96 * 3, [3, 5, 13, 40]), (40, 2304, [13])] {
            let bytes = Self.blocks(type, count: n * k / type.blockSize, rng: &rng, scale: Self.ordinary)
            let w = try QuantizedMatrix(type: type, rows: n, columns: k, bytes: bytes)
            let reference = try DequantizeReference.floats(type, bytes: bytes)
            let dense = w.dense()
            for m in rowCounts {
                let x = Self.input(m * k, rng: &rng)
                var y = [Float](repeating: .nan, count: m * n), z = y
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { w.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, product: product) }
                    dense.withUnsafeBufferPointer { dp in
                        z.withUnsafeMutableBufferPointer {
                            product.multiplyTransposed(m: m, n: n, k: k, a: xp.baseAddress!, b: dp.baseAddress!, c: $0.baseAddress!)
                        }
                    }
                }
                let worst = Self.worstRelativeError(y, x: x, weights: reference, m: m, n: n, k: k)
                #expect(worst <= 1e-5, "\(type) \(product) m \(m) k \(k): worst relative error \(worst)")
                if product == .avx512, m > QuantizedMatrix.multiRowLimitBesideBlocks {
                    #expect(y.map(\.bitPattern) == z.map(\.bitPattern), "\(type) m \(m) k \(k): block product differs from the tile's")
                }
            }
        }
    }

    /// Products sharing one input (q/k/v, gate/up) pack it once where the products read packed
    /// rows, and give what each product alone gives, bit for bit: quantized and float32
    /// matrices, row counts on every route (row dots, multi-row kernels, block product).
    @Test func sharedInputProductsEqualSeparateOnes() throws {
        var rng = SeededRandom(seed: 31)
        let k = 256
        let matrices: [WeightMatrix] = try [(GGMLType.q4_1, 48), (.q8_0, 16), (.q4_K, 40)].map { type, n in
            .quantized(try QuantizedMatrix(type: type, rows: n, columns: k,
                                           bytes: Self.blocks(type, count: n * k / type.blockSize, rng: &rng, scale: Self.ordinary)))
        } + [.float32(Tensor(shape: [24, k], scalars: Self.input(24 * k, rng: &rng)))]
        for m in [1, 3, 5, 40] {
            let x = Self.input(m * k, rng: &rng)
            var shared = matrices.map { [Float](repeating: .nan, count: m * $0.rows) }
            let alone = matrices.map { w in x.withUnsafeBufferPointer { w.multiply(Tensor(shape: [m, k], scalars: Array($0))) } }
            x.withUnsafeBufferPointer { xp in
                let outputs = shared.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: m * matrices[i].rows) }
                defer { outputs.forEach { $0.deallocate() } }
                WeightMatrix.multiply(xp.baseAddress!, rows: m, by: matrices, into: outputs)
                for i in shared.indices { shared[i] = Array(UnsafeBufferPointer(start: outputs[i], count: m * matrices[i].rows)) }
            }
            for i in matrices.indices {
                #expect(shared[i].map(\.bitPattern) == alone[i].scalars.map(\.bitPattern), "matrix \(i) m \(m)")
            }
            // The packed route is the one taken wherever the AVX-512 product is chosen.
            if ProductKernel.chosen == .avx512, m > QuantizedMatrix.multiRowLimitBesideBlocks {
                #expect(matrices.allSatisfy { $0.readsPackedRows(m) }, "m \(m)")
            }
        }
    }

    /// `dense()` and row lookups (the tile kernels in file order where the set has them) are
    /// exactly the dequantizer's output, bit for bit, including extreme and subnormal scales.
    @Test(arguments: types, KernelSet.supported)
    func denseIsExactlyTheDequantizer(_ type: GGMLType, _ kernels: KernelSet) throws {
        var rng = SeededRandom(seed: 23 + UInt64(type.rawValue))
        let k = type.blockSize == 256 ? 512 : 96, n = 40
        var scales: [UInt16] = [0x7BFF, 0xFBFF, 0x0001, 0x8000, 0x0400]
        let bytes = Self.blocks(type, count: n * k / type.blockSize, rng: &rng) { rng in
            scales.isEmpty ? Self.ordinary(&rng) : scales.removeFirst()
        }
        let w = try QuantizedMatrix(type: type, rows: n, columns: k, bytes: bytes)
        let want = try Dequantize.floats(type, bytes: bytes)
        let dense = w.dense(kernels: kernels)
        #expect(dense.scalars.map(\.bitPattern) == want.map(\.bitPattern), "\(type) \(kernels)")
        for r in [0, 1, n - 1] {
            var row = [Float](repeating: .nan, count: k)
            row.withUnsafeMutableBufferPointer { w.dequantizeRow(r, into: $0.baseAddress!, kernels: kernels) }
            #expect(row.map(\.bitPattern) == want[(r * k)..<((r + 1) * k)].map(\.bitPattern), "\(type) \(kernels) row \(r)")
        }
    }

    /// The CPUID check agrees with the kernel's own report in /proc/cpuinfo, and
    /// `LOUPE_KERNELS` values resolve as documented (unknown names and AVX2 on a CPU
    /// without it fall back with a warning).
    @Test func kernelSetChoice() throws {
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let set = Set(flags.split(separator: " ").map(String.init))
            #expect(KernelSet.cpuHasAVX2 == (set.contains("avx2") && set.contains("fma") && set.contains("f16c")))
        }
        #expect(KernelSet.supported.contains(.generic))
        #expect(KernelSet.supported.contains(.avx2) == KernelSet.cpuHasAVX2)
        #expect(KernelSet.choose(nil, cpuHasAVX2: true) == (.avx2, nil))
        #expect(KernelSet.choose("auto", cpuHasAVX2: false) == (.generic, nil))
        #expect(KernelSet.choose("generic", cpuHasAVX2: true) == (.generic, nil))
        #expect(KernelSet.choose("AVX2", cpuHasAVX2: true) == (.avx2, nil))
        let forced = KernelSet.choose("avx2", cpuHasAVX2: false)
        #expect(forced.set == .generic && forced.warning?.contains("lacks AVX2") == true)
        let unknown = KernelSet.choose("avx512", cpuHasAVX2: true)
        #expect(unknown.set == .avx2 && unknown.warning?.contains("LOUPE_KERNELS=avx512") == true)
        if !KernelSet.cpuHasAVX2 {
            #expect(throws: FormatError.self) { try RowDot.dot(.q8_0, row: [UInt8](repeating: 0, count: 34), x: [Float](repeating: 1, count: 32), kernels: .avx2) }
        }
    }

    @Test func corruptSizesAreRefused() throws {
        let bytes = [UInt8](repeating: 0, count: 20 * 4)
        // One byte short, a row length the kernels do not take, a type without a kernel.
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .q4_1, rows: 4, columns: 32, bytes: Array(bytes.dropLast())) }
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .f16, rows: 2, columns: 40, bytes: bytes) }
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .q2_K, rows: 1, columns: 256, bytes: bytes) }
        #expect(throws: FormatError.self) { try RowDot.dot(.q8_0, row: [UInt8](repeating: 0, count: 33), x: [Float](repeating: 1, count: 32)) }
        // A view past the end of its file, and one whose size overflows.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rowdot-\(UUID().uuidString).bin")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try MappedFile(path: url.path)
        _ = try QuantizedMatrix(type: .q4_1, rows: 4, columns: 32, file: file, offset: 0, name: "w")
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .q4_1, rows: 4, columns: 32, file: file, offset: 1, name: "w") }
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .q4_1, rows: Int.max / 8, columns: 32, file: file, offset: 0, name: "w") }
        #expect(throws: FormatError.self) { try QuantizedMatrix(type: .q4_1, rows: 1, columns: 32, file: file, offset: Int.max - 4, name: "w") }
    }
}
