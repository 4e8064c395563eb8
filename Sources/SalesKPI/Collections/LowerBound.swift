extension RandomAccessCollection {
    /// The first index whose element is not `before` the one sought, in a collection sorted so
    /// that every element `before` it comes first: where the sought element is, or belongs.
    /// Kept finals, a customer ledger, a sketch's bins and the close schedule are searched this way.
    func lowerBound(where before: (Element) -> Bool) -> Index {
        var lo = startIndex
        var n = count
        while n > 0 {
            let half = n / 2
            let mid = index(lo, offsetBy: half)
            if before(self[mid]) {
                lo = index(after: mid)
                n -= half + 1
            } else {
                n = half
            }
        }
        return lo
    }
}
