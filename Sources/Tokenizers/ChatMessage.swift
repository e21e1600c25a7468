/// One turn of a conversation, as chat templates see it.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `system`, `user`, `assistant`, or any role the template passes through.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
