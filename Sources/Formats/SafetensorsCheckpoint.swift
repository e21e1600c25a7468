import Foundation
import Linalg

/// A Hugging Face safetensors checkpoint: one `model.safetensors` file, or shards listed
/// by a `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Every file
/// is memory-mapped and its header validated when the checkpoint is opened.
public struct SafetensorsCheckpoint: Sendable {
    /// The `.safetensors` file or `.index.json` the checkpoint was opened from.
    public let path: String
    /// The shard files (one for a single-file checkpoint), in the order their tensors are listed.
    public let files: [String]
    /// `__metadata__` of the first file (single file), or the index's `metadata` strings.
    public let metadata: [String: String]
    /// Every tensor, in file order (shard by shard, then by data offset).
    public let tensorInfos: [SafetensorsTensorInfo]

    private let shards: [String: SafetensorsFile]
    private let index: [String: Int]

    /// Opens `path`: a `.safetensors` file, or a `.json` shard index.
    /// - Throws: ``FormatError``: bad header length (larger than the file or 100 MB), bad JSON,
    ///   unknown dtype, data offsets outside the file or disagreeing with shape × dtype size,
    ///   a shard that does not exist (by name), a tensor in two shards, or a weight-map entry
    ///   missing from its shard.
    public init(path: String) throws {
        self.path = path
        if path.hasSuffix(".json") {
            let (files, metadata, weightMap) = try Self.readIndex(path)
            let directory = (path as NSString).deletingLastPathComponent
            var shards: [String: SafetensorsFile] = [:]
            var infos: [SafetensorsTensorInfo] = []
            var owner: [String: String] = [:]
            for name in files {
                let shardPath = directory.isEmpty ? name : directory + "/" + name
                guard FileManager.default.fileExists(atPath: shardPath) else {
                    let user = weightMap.first { $0.value == name }?.key ?? ""
                    throw FormatError.missingFile(FormatError.Location(
                        file: path, object: "weight_map entry '\(user)'"), path: shardPath)
                }
                let shard = try SafetensorsFile(path: shardPath)
                shards[name] = shard
                for t in shard.tensors {
                    if let first = owner[t.name] {
                        throw FormatError.duplicateName(FormatError.Location(
                            file: shardPath, object: "tensor '\(t.name)' (also in shard '\(first)')"), name: t.name)
                    }
                    owner[t.name] = name
                    infos.append(t)
                }
            }
            for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) where owner[tensor] != shard {
                let found = owner[tensor].map { "it is in shard '\($0)'" } ?? "no shard has it"
                throw FormatError.invalidValue(FormatError.Location(file: path, object: "weight_map entry '\(tensor)'"),
                                               reason: "names shard '\(shard)', but \(found)")
            }
            self.files = files.map { directory.isEmpty ? $0 : directory + "/" + $0 }
            self.metadata = metadata
            self.shards = Dictionary(uniqueKeysWithValues: shards.map { (directory.isEmpty ? $0.key : directory + "/" + $0.key, $0.value) })
            tensorInfos = infos
        } else {
            let file = try SafetensorsFile(path: path)
            files = [path]
            metadata = file.metadata
            shards = [path: file]
            tensorInfos = file.tensors
        }
        var index: [String: Int] = [:]
        for (i, t) in tensorInfos.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// Opens the checkpoint in a Hugging Face model folder: `model.safetensors`, else
    /// `model.safetensors.index.json`, else the folder's only `.safetensors` file.
    public init(directory: String) throws {
        let fm = FileManager.default
        let single = directory + "/model.safetensors", indexPath = directory + "/model.safetensors.index.json"
        if fm.fileExists(atPath: single) {
            try self.init(path: single)
        } else if fm.fileExists(atPath: indexPath) {
            try self.init(path: indexPath)
        } else {
            let found = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".safetensors") }
            guard found.count == 1 else {
                throw FormatError.io(file: directory, reason: found.isEmpty
                    ? "has no model.safetensors or model.safetensors.index.json"
                    : "has several .safetensors files (\(found.sorted().joined(separator: ", "))) but no model.safetensors.index.json")
            }
            try self.init(path: directory + "/" + found[0])
        }
    }

    /// The entry for tensor `name`, or nil.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        index[name].map { tensorInfos[$0] }
    }

    /// Calls `body` with the raw bytes of tensor `name`; valid only inside `body`.
    public func rawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try require(name)
        return try shards[info.file]!.mapped.withBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[info.fileOffset..<(info.fileOffset + info.byteCount)]))
        }
    }

    /// Matrix `name` read in place from the mapped file (``QuantizedMatrix`` over its F16 or
    /// BF16 rows, as a GGUF F16/BF16 matrix is read), or nil when it is not a 2-D F16/BF16
    /// tensor with rows the in-place kernels take (``RowDot/accepts(_:columns:)``).
    /// - Throws: ``FormatError`` when its bytes do not fit the file.
    public func inPlaceMatrix(_ name: String) throws(FormatError) -> QuantizedMatrix? {
        guard let info = info(name), info.shape.count == 2, [.f16, .bf16].contains(info.dtype),
              let type = info.dtype.ggmlType, RowDot.accepts(type, columns: info.shape[1]), let shard = shards[info.file] else { return nil }
        return try QuantizedMatrix(type: type, rows: info.shape[0], columns: info.shape[1], file: shard.mapped,
                                   offset: info.fileOffset, name: name)
    }

    /// Reads the index: its shard files in first-use order, metadata strings, and weight map.
    private static func readIndex(_ path: String) throws -> ([String], [String: String], [String: String]) {
        let at = FormatError.Location(file: path, object: "index JSON", offset: 0)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError.io(file: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw FormatError.invalidValue(at, reason: "is not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any], let map = root["weight_map"] as? [String: Any] else {
            throw FormatError.invalidValue(at, reason: "has no weight_map object")
        }
        var weightMap: [String: String] = [:]
        for (tensor, file) in map {
            guard let f = file as? String, !f.isEmpty, !f.hasPrefix("/"), !f.split(separator: "/").contains("..") else {
                throw FormatError.invalidValue(FormatError.Location(file: path, object: "weight_map entry '\(tensor)'"),
                                               reason: "shard is not a relative file name")
            }
            weightMap[tensor] = f
        }
        let files = Set(weightMap.values).sorted()
        var metadata: [String: String] = [:]
        for (k, v) in root["metadata"] as? [String: Any] ?? [:] { metadata[k] = v as? String ?? "\(v)" }
        return (files, metadata, weightMap)
    }

    private func require(_ name: String) throws(FormatError) -> SafetensorsTensorInfo {
        guard let info = info(name) else {
            throw .missingTensor(file: path, name: name, among: tensorInfos.map(\.name))
        }
        return info
    }
}

extension SafetensorsCheckpoint: TensorSource {
    /// Tensor names in file order.
    public var tensorNames: [String] { tensorInfos.map(\.name) }

    /// Row-major shape of tensor `name`, or nil when there is none.
    public func shape(of name: String) -> [Int]? { info(name)?.shape }

    /// Tensor `name` as Float32 (from F32, F16 or BF16).
    /// - Throws: ``FormatError/missingTensor(file:name:closeMatches:)``, or
    ///   ``FormatError/unsupportedTensorType(_:type:)`` for other dtypes.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try require(name)
        guard let type = info.dtype.ggmlType else {
            throw FormatError.unsupportedTensorType(FormatError.Location(
                file: info.file, object: "tensor '\(name)'", offset: info.fileOffset), type: info.dtype.rawValue)
        }
        let count = info.shape.reduce(1, *)
        let scalars = try rawBytes(of: name) { raw in try Dequantize.floats(type, from: raw, count: count) }
        return Tensor(shape: info.shape, scalars: scalars)
    }
}
