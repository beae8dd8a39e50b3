// The loss curve of a run: rows kept in memory, written as CSV and as a hand-made SVG line plot.
//
// CSV columns: step, tokens, lr, loss, val_loss (empty when not measured at that step). The SVG draws
// training loss (thin) and validation loss (thick, dotted markers) against tokens, axes with ticks.

import Foundation

public struct LossLog: Sendable {
    public struct Row: Sendable, Equatable {
        public var step: Int, tokens: Int, learningRate: Double, loss: Double, validationLoss: Double?
        public init(step: Int, tokens: Int, learningRate: Double, loss: Double, validationLoss: Double?) {
            self.step = step; self.tokens = tokens; self.learningRate = learningRate; self.loss = loss; self.validationLoss = validationLoss
        }
    }

    public private(set) var rows: [Row] = []
    public init() {}

    public mutating func append(_ row: Row) { rows.append(row) }

    /// Reads a CSV written by `csv`, keeping rows up to `step` (for resumed runs).
    public static func read(path: String, upTo step: Int) -> LossLog {
        var log = LossLog()
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return log }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, let s = Int(f[0]), let t = Int(f[1]), let lr = Double(f[2]), let loss = Double(f[3]), s <= step else { continue }
            log.append(Row(step: s, tokens: t, learningRate: lr, loss: loss, validationLoss: Double(f[4])))
        }
        return log
    }

    public var csv: String {
        var out = "step,tokens,lr,loss,val_loss\n"
        for r in rows {
            out += "\(r.step),\(r.tokens),\(r.learningRate),\(r.loss),\(r.validationLoss.map { "\($0)" } ?? "")\n"
        }
        return out
    }

    /// An SVG line plot of loss against tokens.
    public var svg: String {
        let width = 720.0, height = 420.0, left = 60.0, right = 20.0, top = 30.0, bottom = 50.0
        let train = rows.map { (Double($0.tokens), $0.loss) }
        let val = rows.compactMap { r in r.validationLoss.map { (Double(r.tokens), $0) } }
        let all = train + val
        let xMax = max(all.map(\.0).max() ?? 1, 1)
        var yMin = all.map(\.1).min() ?? 0, yMax = all.map(\.1).max() ?? 1
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        func px(_ x: Double) -> Double { left + x / xMax * (width - left - right) }
        func py(_ y: Double) -> Double { top + (yMax - y) / (yMax - yMin) * (height - top - bottom) }
        func path(_ pts: [(Double, Double)]) -> String {
            pts.enumerated().map { i, p in (i == 0 ? "M" : " L") + String(format: "%.1f,%.1f", px(p.0), py(p.1)) }.joined()
        }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="18" text-anchor="middle">loss vs tokens (train: blue, validation: orange)</text>
        <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>

        """
        for i in 0...4 {
            let y = yMin + (yMax - yMin) * Double(i) / 4, x = xMax * Double(i) / 4
            s += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", left - 6, py(y) + 4, y)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, py(y), width - right, py(y))
            // The last label is right-aligned so it stays inside the picture.
            s += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%@\">%.3g</text>\n", px(x), height - bottom + 18,
                        i == 4 ? "end" : "middle", x)
        }
        s += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height - 8))\" text-anchor=\"middle\">tokens</text>\n"
        if !train.isEmpty { s += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\"/>\n" }
        if !val.isEmpty {
            s += "<path d=\"\(path(val))\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>\n"
            for p in val { s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ff7f0e\"/>\n", px(p.0), py(p.1)) }
        }
        return s + "</svg>\n"
    }

    /// Writes `loss.csv` and `loss.svg` into `directory`.
    public func write(directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        try Data(csv.utf8).write(to: dir.appendingPathComponent("loss.csv"), options: .atomic)
        try Data(svg.utf8).write(to: dir.appendingPathComponent("loss.svg"), options: .atomic)
    }
}
