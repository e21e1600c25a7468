/// Errors from writing report files; each description is one line naming the path.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// A file or folder name that would leave the report folder or is not a plain name.
    case invalidName(String, reason: String)
    /// The report folder could not be created, or exists and is not a directory.
    case folder(path: String, reason: String)
    /// Writing or renaming a file failed.
    case write(path: String, reason: String)

    /// One line naming the path and what went wrong.
    public var description: String {
        switch self {
        case .invalidName(let name, let reason): return "report file name '\(name)': \(reason)"
        case .folder(let path, let reason): return "report folder \(path): \(reason)"
        case .write(let path, let reason): return "\(path): cannot write: \(reason)"
        }
    }
}
