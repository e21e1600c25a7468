import Foundation
import Store

/// Where `loupe store export` writes rows: a .npy array plus a .rows.jsonl of labels, or one CSV.
enum RowExport {
    case npy(NPYWriter, FileHandle)
    case csv(FileHandle)

    static func labelsPath(_ npy: String) -> String { String(npy.dropLast(4)) + ".rows.jsonl" }

    static func npy(path: String, rows: Int, width: Int, dtype: ActivationDType) throws -> RowExport {
        let writer = try NPYWriter(path: path, rows: rows, width: width, dtype: dtype)
        return .npy(writer, try handle(labelsPath(path)))
    }

    static func csv(path: String, width: Int) throws -> RowExport {
        let h = try handle(path)
        h.write(Data(("prompt,position,token," + (0..<width).map { "d\($0)" }.joined(separator: ",") + "\n").utf8))
        return .csv(h)
    }

    static func handle(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw StoreError.notFound(path: path, what: "writable location")
        }
        return h
    }

    /// Writes the first `count` rows of `batch`.
    func write(_ batch: ActivationBatch, count: Int) throws {
        let width = batch.rows.shape[1]
        switch self {
        case .npy(let writer, let labels):
            writer.append(count == batch.positions.count ? batch.rows : batch.rows.rows(0..<count))
            var lines = ""
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for i in 0..<count {
                var fields = batch.metadata[i]
                fields["prompt"] = .number(Double(batch.promptIndices[i]))
                fields["position"] = .number(Double(batch.positions[i]))
                fields["token"] = .number(Double(batch.tokens[i]))
                lines += String(decoding: try e.encode(fields), as: UTF8.self) + "\n"
            }
            labels.write(Data(lines.utf8))
        case .csv(let h):
            var text = ""
            for i in 0..<count {
                text += "\(batch.promptIndices[i]),\(batch.positions[i]),\(batch.tokens[i])"
                for j in 0..<width { text += "," + String(batch.rows.scalars[i * width + j]) }
                text += "\n"
            }
            h.write(Data(text.utf8))
        }
    }

    func close() throws {
        switch self {
        case .npy(let writer, let labels): try writer.close(); try labels.close()
        case .csv(let h): try h.close()
        }
    }
}
