extension Duration {
    /// Whole milliseconds, truncated: what restore counters and the simulator's clock count in.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
