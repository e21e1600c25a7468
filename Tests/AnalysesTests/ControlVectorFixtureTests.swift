import Analyses
import Formats
import Foundation
import LoupeTestSupport
import Models
import Testing

/// A llama.cpp control vector written by the Python `gguf` package (llama.cpp's gguf-py, the
/// writer repeng uses), committed in Tests/Fixtures/steering/ by
/// scripts/fixtures/steering/check_control_vector.py: Loupe's reader sees its keys, names, shapes
/// and values; Loupe's mapping puts `direction.N` at `blocks.N.hook_resid_post` (what llama.cpp
/// adds it to: block N's output, N from 1) and back; and Loupe's export of those directions is
/// the same file content.
@Suite struct ControlVectorFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/steering")
    let config = TinyModels.llamaConfig(layers: 4)

    func expected() throws -> (width: Int, directions: [Int: [Float]]) {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("control-vector.json"))
        let o = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let d = o["directions"] as! [String: [Double]]
        return (o["width"] as! Int, Dictionary(uniqueKeysWithValues: d.map { (Int($0.key)!, $0.value.map(Float.init)) }))
    }

    @Test func ggufPackageFileReadsWithLoupesReaderAndMapsToResidPost() throws {
        let path = Self.folder.appendingPathComponent("control-vector.gguf").path
        let (width, directions) = try expected()
        let file = try GGUFFile(path: path)
        #expect(file.metadata["general.architecture"]?.string == "controlvector")
        #expect(file.metadata["controlvector.model_hint"]?.string == "llama")
        #expect(file.metadata["controlvector.layer_count"]?.int == directions.count)
        #expect(Set(file.tensorNames) == Set(directions.keys.map { "direction.\($0)" }))
        for (n, values) in directions {
            #expect(file.tensorInfo("direction.\(n)")?.type == .f32 && file.shape(of: "direction.\(n)") == [width])
            #expect(try file.tensor("direction.\(n)").scalars == values, "direction.\(n)")
        }

        // llama.cpp adds direction.N to block N's output: Loupe's blocks.N.hook_resid_post, both ways.
        let imported = try ControlVectorImport.read(path: path, config: config)
        #expect(imported.map(\.hook) == ["blocks.1.hook_resid_post", "blocks.2.hook_resid_post", "blocks.3.hook_resid_post"])
        for d in imported {
            let point = try d.hookPoint(in: config)
            let n = try ControlVectorExport.llamaCppLayer(for: point)
            #expect(d.vector == directions[n], "\(d.hook)")
            #expect(try ControlVectorImport.hookPoint(forTensor: "direction.\(n)") == point)
            // blocks.(N+1).hook_resid_pre is the same tensor llama.cpp's direction.N edits.
            #expect(try ControlVectorExport.llamaCppLayer(for: .residPre(n + 1)) == n)
        }
        #expect(try ControlVectorImport.read(path: path, scale: -2)[0].vector == directions[1]!.map { -2 * $0 })

        // Loupe's export of the same directions: the same keys, names, shapes and values.
        let dir = TemporaryDirectory("cvec")
        defer { dir.remove() }
        try ControlVectorExport.write(imported, config: config, to: dir.path + "/loupe.gguf")
        let ours = try GGUFFile(path: dir.path + "/loupe.gguf")
        for key in ["general.architecture", "controlvector.model_hint", "controlvector.layer_count"] {
            #expect(ours.metadata[key] == file.metadata[key], "\(key)")
        }
        #expect(ours.tensorNames == file.tensorNames)
        for name in file.tensorNames {
            #expect(ours.tensorInfo(name)?.type == .f32 && ours.shape(of: name) == file.shape(of: name))
            #expect(try ours.tensor(name).scalars == file.tensor(name).scalars, "\(name)")
        }
    }

    @Test func namesLlamaCppRefusesAreRefused() throws {
        for name in ["direction.0", "direction.-1", "direction.x", "dir.3", "direction"] {
            #expect(throws: SteeringError.self) { try ControlVectorImport.hookPoint(forTensor: name) }
        }
        // A file for a deeper or wider model does not fit the tiny one.
        let path = Self.folder.appendingPathComponent("control-vector.gguf").path
        #expect(throws: SteeringError.self) { try ControlVectorImport.read(path: path, config: TinyModels.llamaConfig(layers: 3)) }
    }
}
