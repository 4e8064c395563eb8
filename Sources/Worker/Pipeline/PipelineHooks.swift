import SalesKPI

/// Optional observers of what the pipeline publishes (the live terminal view uses them).
package struct PipelineHooks: Sendable {
    package var onSummary: @Sendable (Summary) -> Void
    package var onAlert: @Sendable (Alert) -> Void

    package init(
        onSummary: @escaping @Sendable (Summary) -> Void = { _ in },
        onAlert: @escaping @Sendable (Alert) -> Void = { _ in }
    ) {
        self.onSummary = onSummary
        self.onAlert = onAlert
    }
}
