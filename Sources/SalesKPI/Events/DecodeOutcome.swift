/// What the decoder made of one message.
package enum DecodeOutcome: Sendable, Equatable {
    case event(SalesEvent)
    /// A well-formed event of a type this version does not know: skipped and counted.
    case unknownType(String)
    case rejected(Rejection)
}
