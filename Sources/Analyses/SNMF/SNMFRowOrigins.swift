/// Where some of a fit's rows came from, as a report shows them: each asked-for row's prompt,
/// position and token, and the text and token ids of those rows' prompts.
public struct SNMFRowOrigins: Sendable {
    /// Per row index (of the fit), its origin.
    public var rows: [Int: SNMFRows.Origin]
    /// Per prompt index, its text and token ids.
    public var prompts: [Int: (text: String, tokens: [Int])]

    public init(rows: [Int: SNMFRows.Origin] = [:], prompts: [Int: (text: String, tokens: [Int])] = [:]) {
        self.rows = rows
        self.prompts = prompts
    }

    /// The origin of `row`.
    /// - Throws: ``SNMFError/invalidSetting(_:)`` when it was not asked for (a bug in the caller).
    public func origin(of row: Int) throws -> SNMFRows.Origin {
        guard let o = rows[row] else { throw SNMFError.invalidSetting("row \(row)'s origin was not looked up") }
        return o
    }
}
