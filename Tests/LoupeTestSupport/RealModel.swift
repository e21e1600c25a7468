import Foundation
import Models

/// The default model, loaded once per test process and shared by every suite that needs it.
public enum RealModel {
    private static let loaded: Result<LoadedModel, any Error>? = {
        guard let path = TestFiles.realModelPath else { return nil }
        return Result { try ModelLoader.load(path: path) }
    }()

    /// The loaded model; throws if it failed to load. Guard tests with `.enabled(if: TestFiles.hasRealModel)`.
    public static func shared() throws -> LoadedModel {
        guard let loaded else { throw ModelError.unrecognizedModelPath(path: ModelLoader.defaultModelPath) }
        return try loaded.get()
    }
}
