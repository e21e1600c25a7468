import Dispatch
import Linalg

/// A `[rows, columns]` weight matrix kept in its GGUF block format (Q8_0, Q4_0, Q4_1, Q5_0,
/// Q5_1, Q4_K, Q5_K, Q6_K, F16, BF16), read in place from a mapped file or from owned bytes.
/// Products keep the input in float32: one or two input rows go through ``RowDot``'s SIMD
/// kernels; more rows dequantize cache-sized tiles of the matrix into float32 scratch and feed
/// sgemm. Both use ``KernelSet/active``'s kernels (AVX2/FMA where the CPU has them). Dequantized values are those of ``Dequantize``, so results equal the float32
/// model's up to summation order. Where ``ProductKernel/chosen`` is the AVX-512 kernel,
/// products of five or more rows skip the tiles (``blockProduct``).
public struct QuantizedMatrix: Sendable {
    /// The block format.
    public let type: GGMLType
    /// Output rows (`n`) and input columns (`k`).
    public let rows: Int, columns: Int
    /// Bytes per row: `columns / blockSize` whole blocks.
    public let rowBytes: Int
    private let storage: Storage

    private enum Storage: Sendable {
        /// Bytes `offset..<offset + rows * rowBytes` of a mapped file (kept alive here).
        case mapped(MappedFile, offset: Int)
        case owned([UInt8])
    }

    /// Most input rows that take the row-dot path; more take the multi-row kernels, the
    /// AVX-512 block product or dequantized tiles (``multiply(_:rows:into:threads:kernels:product:)``).
    public static let rowDotLimit = 2
    /// Most input rows that take the multi-row kernels (where the type has one on this CPU):
    /// at 16 rows they beat dequantized tiles (default model, 16-token pass 39-45 ms against
    /// 42-77 ms), at 128 tiles and sgemm win.
    public static let multiRowLimit = 32
    /// Most input rows that take the multi-row kernels when ``ProductKernel/avx512`` reads the
    /// type's blocks in place (``blockProduct``): one four-row sweep. The default model's
    /// passes, interleaved: 4 tokens 7.5-7.7 ms against 9.6-9.8 with the block product, 5 tokens
    /// 15.4-15.9 against 9.7-9.8 (a second sweep reads the weights again), 16 tokens 25-28 against 15-16.
    public static let multiRowLimitBesideBlocks = 4
    /// Floats in one dequantized tile (512 KiB: well inside L2 next to sgemm's panels).
    static let tileFloats = 1 << 17
    /// Floats in one tile for products of at least ``wideTileRows`` input rows (8 MiB): each
    /// sgemm call packs all the input rows again, so with many rows fewer, wider tiles save
    /// that packing (a layer matrix of the default model is one tile). The default model's
    /// 128-token pass, medians of 5 interleaved runs: 87 ms against 112 ms with 512 KiB tiles
    /// (OpenBLAS's Cooperlake kernels), 132 against 156 ms (Haswell's); 2 MiB tiles gave 94 and 136.
    static let wideTileFloats = 1 << 21
    static let wideTileRows = 64

    /// A view of `rows × columns` elements of `type` at byte `offset` of `file`. Every size is
    /// checked with overflow-checked arithmetic against the file before any byte is read.
    /// - Throws: ``FormatError/unsupportedTensorType(_:type:)`` for types without a kernel or
    ///   row lengths it cannot take, ``FormatError/dataOutOfBounds(_:start:byteCount:limit:)``
    ///   when the bytes are not inside the file.
    public init(type: GGMLType, rows: Int, columns: Int, file: MappedFile, offset: Int, name: String) throws(FormatError) {
        let at = FormatError.Location(file: file.path, object: "tensor '\(name)'", offset: offset)
        let bytes = try Self.checkedSize(type: type, rows: rows, columns: columns, at: at)
        let (end, overflow) = offset.addingReportingOverflow(bytes.total)
        guard offset >= 0, !overflow, end <= file.count else {
            throw .dataOutOfBounds(at, start: UInt64(clamping: offset), byteCount: UInt64(bytes.total), limit: file.count)
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        rowBytes = bytes.row
        storage = .mapped(file, offset: offset)
    }

    /// A matrix over `bytes`, which must hold exactly `rows × columns` elements of `type`.
    public init(type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) throws(FormatError) {
        let at = FormatError.Location(file: "(memory)", object: "\(type) matrix [\(rows), \(columns)]")
        let size = try Self.checkedSize(type: type, rows: rows, columns: columns, at: at)
        guard size.total == bytes.count else {
            throw .invalidValue(at, reason: "\(bytes.count) bytes given, \(size.total) needed")
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        rowBytes = size.row
        storage = .owned(bytes)
    }

    private static func checkedSize(type: GGMLType, rows: Int, columns: Int,
                                    at: FormatError.Location) throws(FormatError) -> (row: Int, total: Int) {
        guard RowDot.accepts(type, columns: columns) else {
            throw .unsupportedTensorType(at, type: "\(type.name) with rows of \(columns) (in-place kernels take "
                                         + "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F16, BF16 rows of a multiple of 32 and of the block size)")
        }
        guard rows >= 0, let row = type.byteCount(elements: columns) else {
            throw .invalidValue(at, reason: "\(rows) rows of \(columns) \(type) elements")
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: row)
        guard !overflow else { throw .invalidValue(at, reason: "\(rows) rows of \(row) bytes overflow") }
        return (row, total)
    }

    /// Bytes held: `rows × rowBytes`.
    public var byteCount: Int { rows * rowBytes }

    /// Calls `body` with the matrix's bytes (valid only inside `body`).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file, let offset):
            return try file.withBytes { all in
                try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + byteCount)]))
            }
        case .owned(let bytes):
            return try bytes.withUnsafeBytes(body)
        }
    }

    /// The whole matrix as float32 `[rows, columns]` (exactly ``Dequantize``'s values), by
    /// `kernels`' file-order tile kernels where the set has them and the CPU runs it.
    public func dense(kernels: KernelSet = .active) -> Tensor {
        let scalars = withBytes { bytes in
            [Float](unsafeUninitializedCapacity: rows * columns) { out, done in
                if let tile = Self.fileOrderTile(type, kernels), let base = bytes.baseAddress, let dst = out.baseAddress {
                    let (stride, k) = (rowBytes, columns)
                    // Chunks write disjoint rows of `dst` and are all done when parallelChunks returns.
                    parallelChunks(rows, minimumPerChunk: max(1, Dequantize.elementsPerChunk / k)) { range in
                        tile.run(base + range.lowerBound * stride, dst + range.lowerBound * k, range.count * k / 32)
                    }
                } else {
                    Dequantize.run(type, from: bytes, into: out)
                }
                done = rows * columns
            }
        }
        return Tensor(shape: [rows, columns], scalars: scalars)
    }

    /// Row `i` dequantized into `destination` (`columns` floats; ``Dequantize``'s values).
    public func dequantizeRow(_ i: Int, into destination: UnsafeMutablePointer<Float>, kernels: KernelSet = .active) {
        precondition(i >= 0 && i < rows, "row \(i) of a \(rows)-row matrix")
        withBytes { bytes in
            if let tile = Self.fileOrderTile(type, kernels) {
                tile.run(bytes.baseAddress! + i * rowBytes, destination, columns / 32)
            } else {
                Dequantize.kernel(type)(bytes.baseAddress! + i * rowBytes, destination, columns / type.blockSize)
            }
        }
    }

    /// `kernels`' tile kernel for `type` when it writes file order and this CPU runs it.
    private static func fileOrderTile(_ type: GGMLType, _ kernels: KernelSet) -> TileKernels.Choice? {
        guard kernels.isSupported, let tile = TileKernels.kernel(type, kernels), !tile.lanes else { return nil }
        return tile
    }

    /// The same matrix with its rows in the order `order` (row `i` of the result is row
    /// `order[i]`), in owned bytes: for the loader's q/k row permutation.
    public func permutingRows(_ order: [Int]) -> QuantizedMatrix {
        precondition(order.count == rows && order.allSatisfy { (0..<rows).contains($0) }, "row order of \(order.count) for \(rows) rows")
        let bytes = withBytes { src in
            [UInt8](unsafeUninitializedCapacity: byteCount) { out, done in
                let target = UnsafeMutableRawBufferPointer(out)
                for (i, r) in order.enumerated() {
                    UnsafeMutableRawBufferPointer(rebasing: target[(i * rowBytes)..<((i + 1) * rowBytes)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(r * rowBytes)..<((r + 1) * rowBytes)]))
                }
                done = byteCount
            }
        }
        return QuantizedMatrix(type: type, rows: rows, columns: columns, rowBytes: rowBytes, storage: .owned(bytes))
    }

    /// Sizes already checked (by the initializer that made `self`).
    private init(type: GGMLType, rows: Int, columns: Int, rowBytes: Int, storage: Storage) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.storage = storage
    }

    /// `output[m × rows] = input[m × columns] · Wᵀ`: the linear-layer product. Up to
    /// ``rowDotLimit`` input rows use the row-dot kernels, split over `threads` workers. More
    /// rows go to `product` (default ``ProductKernel/chosen``): with ``ProductKernel/avx512``,
    /// the matrix is read in place by ``blockProduct`` (from five rows; up to
    /// ``multiRowLimitBesideBlocks`` the multi-row kernels where the type has one); with
    /// ``ProductKernel/openblas``, up to ``multiRowLimit`` rows take the multi-row
    /// kernels where the type has one (Q4_1, Q8_0, Q4_K with AVX2) and more go through tiles and
    /// sgemm. `kernels` (default ``KernelSet/active``) picks the SIMD kernels; a set this CPU
    /// does not run falls back to the generic one.
    public func multiply(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>,
                         threads: Int = BLAS.threadCount, kernels: KernelSet = .active, product: ProductKernel? = nil) {
        guard m > 0, rows > 0 else { return }
        let set = kernels.isSupported ? kernels : .generic
        switch route(rows: m, kernels: set, product: product ?? ProductKernel.chosen) {
        case .rowDots: rowDotProduct(input, rows: m, into: output, threads: threads, kernels: set)
        case .multiRow(let kernel): multiRowProduct(input, rows: m, into: output, threads: threads, kernel: kernel)
        case .blocks: blockProduct(input, rows: m, into: output, threads: threads)
        case .tiles: tiledProduct(input, rows: m, into: output, threads: threads, kernels: set)
        }
    }

    /// How a product of `m` input rows runs (``multiply(_:rows:into:threads:kernels:product:)``).
    enum Route {
        case rowDots, multiRow(AVX2Kernels.RowsKernel), blocks, tiles
    }

    func route(rows m: Int, kernels set: KernelSet, product: ProductKernel) -> Route {
        // Every type a matrix holds has a block format, so with the AVX-512 product the
        // tiles only ever feed OpenBLAS.
        let blocks = product == .avx512 && product.isSupported && Self.blockFormat(type) != nil
        if m <= Self.rowDotLimit { return .rowDots }
        if m <= (blocks ? Self.multiRowLimitBesideBlocks : Self.multiRowLimit), set == .avx2,
           let kernel = AVX2Kernels.rowDots(type) {
            return .multiRow(kernel)
        }
        if blocks { return .blocks }
        return .tiles
    }

    /// Whether ``multiply(_:rows:into:threads:kernels:product:)`` with its defaults reads
    /// `m` input rows packed (the block product), so products sharing an input can pack it once
    /// (``multiply(packed:into:threads:)``).
    public func readsPackedRows(_ m: Int) -> Bool {
        if case .blocks = route(rows: m, kernels: KernelSet.active.isSupported ? .active : .generic, product: .chosen) {
            return true
        }
        return false
    }

    /// `output[packed.rows × rows] = packed · Wᵀ` by the block product, from input rows already
    /// packed (``readsPackedRows(_:)`` says when the default product would do the same).
    public func multiply(packed: PackedRows, into output: UnsafeMutablePointer<Float>, threads: Int = BLAS.threadCount) {
        guard let format = Self.blockFormat(type) else { preconditionFailure("\(type) has no block format") }
        precondition(packed.columns == columns, "packed rows of \(packed.columns) columns · \(rows) x \(columns) matrix")
        withBytes { bytes in
            packed.multiplyTransposed(blocks: bytes.baseAddress!, format: format, rowBytes: rowBytes, rows: rows,
                                      into: output, ldc: rows, threads: threads)
        }
    }

    func rowDotProduct(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>, threads: Int,
                       kernels: KernelSet) {
        guard let chosen = RowDot.kernel(type, kernels) else { preconditionFailure("\(type) has no row-dot kernel; init checks") }
        let kernel = chosen.run
        let (n, k, stride, groups) = (rows, columns, rowBytes, columns / 32)
        var xs: [Float] = [], sums: [Float] = []
        xs.reserveCapacity(m * k)
        sums.reserveCapacity(m * groups)
        for i in 0..<m {
            let p = RowDot.Prepared(type, input + i * k, count: k, lanes: chosen.lanes)
            xs += p.x
            sums += p.sums
        }
        withBytes { bytes in
            xs.withUnsafeBufferPointer { xp in
                sums.withUnsafeBufferPointer { sp in
                    // Workers write disjoint output rows and only read the rest; all are done
                    // when parallelChunks returns, so no pointer outlives its buffer.
                    let base = bytes.baseAddress!, out = output, x = xp.baseAddress!, s = sp.baseAddress!
                    parallelChunks(n, minimumPerChunk: 64, chunks: threads) { range in
                        for r in range {
                            let row = base + r * stride
                            for i in 0..<m { out[i * n + r] = kernel(row, x + i * k, s + i * groups, groups) }
                        }
                    }
                }
            }
        }
    }

    /// The product by a multi-row kernel: each weight row is read once per four input rows and
    /// never written out as floats (short prompts, where a dequantized tile would be written and
    /// read for a few rows only).
    func multiRowProduct(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>, threads: Int,
                         kernel: AVX2Kernels.RowsKernel) {
        let (n, k, stride, groups) = (rows, columns, rowBytes, columns / 32)
        let sums = (0..<m).flatMap { RowDot.Prepared.groupSums(input + $0 * k, count: k) }
        withBytes { bytes in
            sums.withUnsafeBufferPointer { sp in
                // Workers write disjoint output columns and only read the rest. More chunks than
                // threads: a worker that wakes late takes fewer, instead of the others waiting
                // for its half. Four input rows at a time across a chunk's weight rows, so those
                // rows stay in L1 (16 rows of MLP-down's 1536 columns do not).
                let base = bytes.baseAddress!, out = output, s = sp.baseAddress!
                parallelChunks(n, minimumPerChunk: 16, chunks: threads > 1 ? 4 * threads : 1) { range in
                    for first in Swift.stride(from: 0, to: m, by: 4) {
                        let count = min(4, m - first), x = input + first * k, sums = s + first * groups, o = out + first * n
                        for r in range { kernel(base + r * stride, x, k, sums, groups, count, groups, o + r, n) }
                    }
                }
            }
        }
    }

    /// The block format ``PackedRows`` reads `type` as (every type this matrix holds).
    static func blockFormat(_ type: GGMLType) -> PackedRows.BlockFormat? {
        switch type {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        case .q4_K: return .q4_K
        case .q5_K: return .q5_K
        case .q6_K: return .q6_K
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    /// The product by ``ProductKernel/avx512`` straight from the blocks: each worker
    /// dequantizes 32-row slices of its columns into a cache-sized panel, so no float32 tile
    /// is written and read back, and one parallel call covers the whole matrix.
    func blockProduct(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>, threads: Int) {
        multiply(packed: PackedRows(input, rows: m, columns: columns, threads: threads), into: output, threads: threads)
    }

    func tiledProduct(_ input: UnsafePointer<Float>, rows m: Int, into output: UnsafeMutablePointer<Float>, threads: Int,
                      kernels: KernelSet) {
        let (n, k, stride) = (rows, columns, rowBytes)
        let budget = m >= Self.wideTileRows ? Self.wideTileFloats : Self.tileFloats
        let tileRows = max(8, min(n, budget / k) / 8 * 8)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * k)
        defer { tile.deallocate() }
        // Tiles by the set's tile kernel where it has one, else by Dequantize's kernel (file
        // order). A kernel writing the row-dot lane order gets the input permuted to match,
        // so sgemm pairs the same columns.
        let ordered = TileKernels.kernel(type, kernels)?.run, plain = Dequantize.kernel(type)
        let lanes = TileKernels.kernel(type, kernels)?.lanes ?? false
        let (blocks, groups) = (k / type.blockSize, k / 32)
        var permuted: [Float] = []
        if lanes {
            let order = (0..<32).map { RowDot.source(type, position: $0) }
            permuted = [Float](unsafeUninitializedCapacity: m * k) { out, done in
                for g in Swift.stride(from: 0, to: m * k, by: 32) {
                    for i in 0..<32 { out[g + i] = input[g + order[i]] }
                }
                done = m * k
            }
        }
        let scratch = tile
        withBytes { bytes in
            permuted.withUnsafeBufferPointer { pp in
                let base = bytes.baseAddress!
                let a: UnsafePointer<Float> = lanes ? pp.baseAddress! : input
                for first in Swift.stride(from: 0, to: n, by: tileRows) {
                    let count = min(tileRows, n - first)
                    parallelChunks(count, minimumPerChunk: 16, chunks: threads) { range in
                        for r in range {
                            if let ordered {
                                ordered(base + (first + r) * stride, scratch + r * k, groups)
                            } else {
                                plain(base + (first + r) * stride, scratch + r * k, blocks)
                            }
                        }
                    }
                    BLAS.gemmTransposedB(m: m, n: count, k: k, a: a, b: tile, c: output + first, ldc: n)
                }
            }
        }
    }
}
