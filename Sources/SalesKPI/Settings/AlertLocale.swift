/// The language of alert messages.
package enum AlertLocale: String, Sendable, CaseIterable {
    case zhCN = "zh-CN"
    case en
}
